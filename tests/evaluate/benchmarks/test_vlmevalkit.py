"""VLMEvalKit's shared multiple-choice rules (evaluate/benchmarks/vlmevalkit.py).

The conformance tables give, for each reply, what VLMEvalKit's `can_infer` returns, worked out by hand
from the rules in the module docstring:
- official: open-compass/VLMEvalKit @ e8e78f05, vlmeval/utils/matching_util.py;
- paper: InternLM/Spatial-SSRL @ b313fedf, evaluation/Remaining_Bench_eval/vlmeval/utils/matching_util.py.
"""

from __future__ import annotations

import time

import pytest

from spatial_ssrl.evaluate.benchmarks import ScoringContext
from spatial_ssrl.evaluate.benchmarks.vlmevalkit import (
    AUTHORS_REASONING_PROMPT,
    NO_OPTION,
    circular_groups,
    circular_table,
    infer_option,
    is_circular,
    judge_prompt,
    mcq_question,
    mcq_score,
    mcq_summary,
    scored_text,
)
from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.rewards.match import MAX_ANSWER_TEXT_CHARS

FRUIT = {"A": "apple", "B": "watermelon", "C": "banana", "D": "grape"}  # option texts: 26 characters in all
SIDES = {"A": "left", "B": "right"}
COT = "<think>Option A is an apple and option B is a watermelon, the largest.</think>\n\\boxed{B}"

# (reply, options, official, paper, the rule that decides)
CONFORMANCE = [
    ("B", FRUIT, "B", "B", "one letter token, the last one"),
    ("(B)", FRUIT, "B", "B", "'(' and ')' are separators"),
    ("\\boxed{B}", FRUIT, "B", "B", "'{' '}' are separators: tokens \\boxed, B"),
    ("**B**", FRUIT, "B", "B", "'*' is a separator"),
    # issue 12: scored 1 by VLMEvalKit. Official: B is token 0 of 7 (not > 7 - 5), so the letter rule
    # fails; the reply (41 chars <= 2 * 26) contains exactly one option text, "watermelon". Paper: letter anywhere.
    ("B. The watermelon is clearly the largest.", FRUIT, "B", "B", "text rule / letter anywhere"),
    # the same reply with options it does not name: the official text rule is skipped (41 > 2 * 9)
    ("B. The watermelon is clearly the largest.", SIDES, None, "B", "official: letter too early, reply too long"),
    # issue 12: "B\n\n<explanation>": B is token 0 of 4 (0 > 4 - 5)
    ("B\n\nThe red one.", FRUIT, "B", "B", "letter within the last four tokens"),
    ("B\n\nThe watermelon is the biggest fruit in this picture, clearly.", FRUIT, None, "B", "64 > 2 * 26"),
    # issue 12: a lowercase letter is not an option letter; "a" contains no option text
    ("a", FRUIT, None, None, "tokens are case-sensitive"),
    ("a", SIDES, None, None, "tokens are case-sensitive"),
    # hedges: two letter tokens, and no single option text
    ("A or B", FRUIT, None, None, "two letters"),
    ("C or D", FRUIT, None, None, "two letters"),
    ("left or right", SIDES, None, None, "two option texts"),
    ("apple", FRUIT, "A", "A", "text rule: exactly one option text"),
    ("I pick the apple", FRUIT, "A", "A", "text rule"),
    ("I'd say left.", SIDES, "A", "A", "text rule (13 <= 2 * 9)"),
    ("The answer is B", SIDES, "B", "B", "letter within the last four tokens"),
    # official's "answer is X" rule (2026-06-17): case-insensitive, A-D, the first such phrase
    ("The correct answer is C because it is larger than A and D", FRUIT, "C", None, "answer-is rule"),
    ("B is wrong, the answer is A", FRUIT, "A", None, "two letters; answer-is rule"),
    ("ANSWER IS d", FRUIT, "D", None, "answer-is rule ignores case"),
    # its quirk: "answer is banana" reads the 'b' of banana (official B); the paper copy reads the text
    ("the answer is banana", FRUIT, "B", "C", "answer-is rule reads the first letter of a word"),
    # 'Z' (no option): never credited, stops the search
    ("Z", FRUIT, NO_OPTION, NO_OPTION, "a lone Z token"),
    ("Cannot determine the answer", FRUIT, NO_OPTION, NO_OPTION, "refusal phrase"),
    ("Cannot determine the answer, but B", FRUIT, NO_OPTION, NO_OPTION, "refusal phrase wins"),
    ("Failed to obtain answer via API. B", FRUIT, None, None, "letter rule off; text rule finds nothing"),
    # a chain-of-thought reply, scored whole (SPLIT_THINK unset): two letter tokens, too long for the
    # official text rule, two option texts for the paper one
    (COT, FRUIT, None, None, "the think block is scored too"),
    ("<think>small is apple</think>\\boxed{B}", FRUIT, "B", "B", "'<think>small' is one token: one letter"),
    ("A. apple is my final pick, yes indeed", FRUIT, "A", "A", "text rule (38 <= 52)"),
    ("E", {**FRUIT, "E": "kiwi"}, "E", "E", "any option letter"),
    ("D", SIDES, None, None, "D is not an option"),
    ("", {"A": "nan", "B": "x"}, "A", "A", "an empty prediction is read back as 'nan'"),
]


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance_table(protocol):
    agree = 0
    for reply, options, official, paper, rule in CONFORMANCE:
        expected = official if protocol == "official" else paper
        got = infer_option(scored_text(reply, protocol), options, protocol)
        assert got == expected, (
            f"{protocol}: {reply!r} with {options}: {got!r}, official rule gives {expected!r} ({rule})"
        )
        agree += 1
    assert agree == len(CONFORMANCE) == 31


def test_infer_option_does_not_change_the_options():
    options = {"A": "Apple", "B": "Pear"}
    assert infer_option("apple", options) == "A" and options == {"A": "Apple", "B": "Pear"}


def test_scored_text_is_the_whole_reply_by_default():
    # inference.py splits at </think> only when SPLIT_THINK is set (unset by default)
    assert scored_text(COT, "official") == COT
    assert scored_text(COT, "paper") == COT
    assert scored_text(COT, "official", split_think=True) == "\\boxed{B}"
    assert infer_option(scored_text(COT, "official", split_think=True), FRUIT) == "B"
    for na in ("", "None", "NA", "nan", "null"):  # pandas reads these prediction cells back as NaN
        assert scored_text(na, "official") == "nan"
    assert scored_text(None, "official") == "nan"
    with pytest.raises(ValueError, match="protocol"):
        scored_text("B", "lenient")


def test_long_replies_are_bounded_and_linear():
    # a reply over MAX_ANSWER_TEXT_CHARS has no option (deviation: VLMEvalKit reads it whole)
    assert infer_option("x " * (MAX_ANSWER_TEXT_CHARS // 2) + "B", FRUIT) is None
    big = {k: v * 400 for k, v in FRUIT.items()}  # options long enough for the text rule to run
    attacks = [
        "answer" + " " * 16_000,
        "answer is" + " " * 16_000 + "*" * 300,
        "correct " * 2_000,
        "A " * 8_000,
        "answer is " * 1_600,
        "\\boxed{" * 2_000,
        "(" * 16_000,
    ]
    for text in attacks:
        for protocol in ("official", "paper"):
            start = time.perf_counter()
            infer_option(text, big, protocol)
            assert time.perf_counter() - start < 0.1, (text[:20], protocol)


def _item(**kw) -> EvalItem:
    base = {"benchmark": "RealWorldQA", "id": "1", "question": "Which fruit is largest", "answer": "B"}
    return EvalItem(**{**base, "options": dict(FRUIT), **kw})


def test_mcq_question_is_build_prompts_text():
    item = _item(hint="Look closely.")
    assert mcq_question(item) == (
        "Hint: Look closely.\nQuestion: Which fruit is largest\nOptions:\nA. apple\nB. watermelon\nC. banana\n"
        "D. grape\nPlease select the correct answer from the options above. \n"
    )
    assert mcq_question(_item(options={})) == "Question: Which fruit is largest\n"
    assert AUTHORS_REASONING_PROMPT.startswith("You FIRST think")


def test_mcq_score_exact_matching_without_judge():
    ctx = ScoringContext()
    assert mcq_score(_item(), "B", ctx) | {"format": 0} == {
        "score": 1.0,
        "format": 0,
        "pred": "B",
        "matched": "exact",
        "judged": False,
    }
    got = mcq_score(_item(), COT, ctx)
    assert (got["score"], got["pred"], got["format"], got["judged"]) == (0.0, None, 1.0, False)
    assert mcq_score(_item(), COT, ScoringContext(protocol="paper"))["score"] == 0.0
    assert mcq_score(_item(extra={"no_answer": True}, answer=""), "B", ctx)["score"] is None
    assert mcq_score(_item(options={}, answer="3"), "3", ctx)["score"] == 0.0  # no options: never credited


def test_mcq_score_asks_the_judge_only_when_nothing_is_read():
    prompts = []

    def judge(prompt):
        prompts.append(prompt)
        return "B"

    ctx = ScoringContext(judge=judge)
    assert mcq_score(_item(), "B", ctx)["judged"] is False and ctx.judge_calls == 0
    assert mcq_score(_item(), "Cannot determine the answer", ctx)["pred"] == "Z" and ctx.judge_calls == 0
    got = mcq_score(_item(), COT, ctx)
    assert (got["score"], got["pred"], got["matched"], got["judged"], ctx.judge_calls) == (1.0, "B", "judge", True, 1)
    assert prompts[0].endswith(
        "Example 3: \nQuestion: Which fruit is largest?\nOptions: There are several options: \nA. apple\n"
        "B. watermelon\nC. banana\nD. grape\n\nAnswer: " + COT + "\nYour output: "
    )


def test_judge_retries_then_a_seeded_random_pick():
    replies = iter(["Failed to obtain answer via API.", "hmm", "A or B", "C"])
    ctx = ScoringContext(judge=lambda p: next(replies))
    got = mcq_score(_item(), "A or B", ctx)
    assert ctx.judge_calls == 3 and got["matched"] == "random" and got["pred"] in {"A", "B", "C", "D", "Z"}
    ctx2 = ScoringContext(judge=lambda p: "no idea")
    assert mcq_score(_item(), "A or B", ctx2)["pred"] == got["pred"]  # the same pick on a rerun


def test_judge_prompt_variants():
    assert "(Z) Failed\nAnswer: x\nYour output: " in judge_prompt(_item(), "x", dataset="BLINK")
    assert "Example 3" in judge_prompt(_item(), "x", dataset="BLINK_circular")
    assert judge_prompt(_item(question="图中最大的水果是什么"), "x").startswith("你是一个帮助我匹配答案")
    assert "Question: a {b} c?\n" in judge_prompt(_item(question="a {b} c"), "{answer}")  # braces kept


def test_circular_groups_follow_index_mod_1e6():
    items = [
        _item(id=i, category=c)
        for i, c in [("5", "x"), ("1000005", "x"), ("2000005", "x"), ("7", "y"), ("1000007", "y"), ("3000009", "z")]
    ]
    groups = circular_groups(items)
    assert {g: [m.id for m in ms] for g, ms in groups.items()} == {
        "5": ["5", "1000005", "2000005"],
        "7": ["7", "1000007"],
    }  # 3000009's main row (9) is absent: not scored, as mcq_circular_eval keeps only main rows' groups
    g_items = [_item(id="11", extra={"g_index": "11"}), _item(id="12", extra={"g_index": "11"})]
    assert list(circular_groups(g_items)) == ["11"]  # a g_index column wins over index % 1e6
    with pytest.raises(ValueError, match="integer"):
        circular_groups([_item(id="q1")])


def test_circular_table_and_summary_by_hand():
    cats = {"5": ("coarse_perception", "c1"), "7": ("logic_reasoning", "c2"), "8": ("logic_reasoning", "c3")}
    ids = ["5", "1000005", "2000005", "7", "1000007", "8", "1000008"]
    scores = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    items, records = [], []
    for i, s in zip(ids, scores):
        l2, cat = cats[str(int(i) % 1_000_000)]
        items.append(_item(benchmark="MMBench_DEV_EN", id=i, category=cat, subcategory=l2))
        records.append({"id": i, "category": cat, "subcategory": l2, "score": s, "format": 0, "pred": None})
    table = circular_table(items, records)
    assert table["groups"] == {"5": {"n": 3, "hit": 1}, "7": {"n": 2, "hit": 0}, "8": {"n": 2, "hit": 0}}
    assert table["score"] == pytest.approx(1 / 3)
    out = mcq_summary(items, records, "official")  # circular: the name contains "mmbench"
    assert out["score"] == pytest.approx(1 / 3) and out["accuracy"] == pytest.approx(5 / 7)
    assert out["breakdowns"]["Overall"]["vanilla (circ0: main rows)"] == {"n": 3, "score": pytest.approx(2 / 3)}
    assert out["breakdowns"]["CircularEval by l2-category"] == {
        "CP": {"n": 1, "score": 1.0},
        "LR": {"n": 2, "score": 0.0},
    }
    assert out["by_category"]["c1"]["score"] == 1.0 and out["by_category"]["c2"]["score"] == 0.0
    vanilla = mcq_summary(items, records, "official", circular=False)
    assert vanilla["score"] == pytest.approx(5 / 7)
    assert vanilla["breakdowns"]["by l2-category"]["LR"] == {"n": 4, "score": 0.5}


def test_is_circular_names():
    assert all(map(is_circular, ["MMBench_DEV_EN", "MMBench_TEST_EN_V11", "BLINK_circular", "CCBench"]))
    assert not any(map(is_circular, ["BLINK", "RealWorldQA", "3DSRBench"]))
