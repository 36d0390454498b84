"""3DSRBench as VLMEvalKit scores it (evaluate/benchmarks/threedsr.py).

Expected scores are worked out by hand from the official rules (read, not run):
- official: open-compass/VLMEvalKit @ e8e78f05: vlmeval/utils/matching_util.py `can_infer` (a lone option
  letter among the last four tokens after `.()[],:;!*#{}` become spaces; else "answer is X"; else the one
  option text the reply contains, if the reply is at most twice the options' total length), and
  vlmeval/dataset/image_mcq.py `_3DSRBench.evaluate` (vanilla / flip_eval / circ_eval / flip_circ_eval);
- paper: InternLM/Spatial-SSRL @ b313fedf, evaluation/Remaining_Bench_eval (the older `can_infer`: a lone
  letter anywhere, no "answer is X", no length limit on the text rule; the same four settings).
"""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.benchmarks import GENERIC_RULES, ScoringContext, rules_for, threedsr
from spatial_ssrl.evaluate.items import BenchmarkFormatError, EvalItem
from spatial_ssrl.evaluate.load import load_benchmark
from spatial_ssrl.evaluate.runner import score_benchmark
from tests.fixtures.benchmark_files import threedsr_rows, write_threedsr_tsv

OBJECTS = {"A": "the lamp", "B": "the table", "C": "the sofa", "D": "the chair"}  # 34 chars: text rule up to 68
FRUIT = {"A": "the apple", "B": "the watermelon", "C": "the orange", "D": "the grape"}
COT_TWO_LETTERS = "<think>Option A is the lamp, which is lower. So the answer is B.</think>\n\\boxed{B}"
LONG_CHOICE = "After looking closely at every object in this room, my choice is the table."

# (reply, options, official score, paper score, issue 12 case?, the rule that decides). Answer: B.
CONFORMANCE = [
    ("B", OBJECTS, 1, 1, False, "one letter token"),
    ("(B)", OBJECTS, 1, 1, False, "'(' ')' are separators"),
    ("\\boxed{B}", OBJECTS, 1, 1, False, "'{' '}' are separators: tokens \\boxed, B"),
    ("**B**", OBJECTS, 1, 1, False, "'*' is a separator"),
    ("Answer: B", OBJECTS, 1, 1, False, "B is the last token"),
    ("The answer is B.", OBJECTS, 1, 1, False, "B is the last token"),
    # issue 12: "B\n\n<explanation>" is credited; B must be among the last four tokens (index > len - 5)
    ("B\n\nIt stands taller.", OBJECTS, 1, 1, True, "B is token 0 of 4"),
    ("B\n\nIt stands much taller.", OBJECTS, 0, 1, False, "token 0 of 5: official too early; paper anywhere"),
    # issue 12: "B. The watermelon is clearly the largest." is credited (official: by the text rule)
    ("B. The watermelon is clearly the largest.", FRUIT, 1, 1, True, "41 <= 84 chars, one option text"),
    # issue 12: a lowercase letter is no option letter
    ("a", OBJECTS, 0, 0, True, "tokens are case-sensitive"),
    ("b", OBJECTS, 0, 0, True, "tokens are case-sensitive, even for the right letter"),
    # hedges: two letter tokens, no single option text
    ("A or B", OBJECTS, 0, 0, False, "two letters"),
    ("C or D", OBJECTS, 0, 0, False, "two letters"),
    ("I think it's B, not A.", OBJECTS, 0, 0, False, "two letters"),
    # the text rule and its length limit (2 * 34 = 68 characters)
    ("the table", OBJECTS, 1, 1, False, "option text alone"),
    ("the table" + "." * 59, OBJECTS, 1, 1, False, "68 chars: text rule runs"),
    ("the table" + "." * 60, OBJECTS, 0, 1, False, "69 chars: official skips the text rule"),
    (LONG_CHOICE, OBJECTS, 0, 1, False, "76 chars: official skips the text rule"),
    ("B is correct because the table stands taller than the lamp.", OBJECTS, 0, 1, False, "B early; two texts"),
    # official's "answer is X" rule
    (
        "The correct answer is **B** because the table stands taller than the lamp in 3D space.",
        OBJECTS,
        1,
        1,
        False,
        "official: 'correct answer is **B**'; paper: the one letter",
    ),
    (COT_TWO_LETTERS, OBJECTS, 1, 0, False, "two letters; official: 'answer is B'; paper: text 'the lamp' -> A"),
    ("<think>The table is higher than the lamp.</think>\n\\boxed{B}", OBJECTS, 1, 1, False, "one letter, last"),
    # no option
    ("Cannot determine the answer", OBJECTS, 0, 0, False, "refusal: Z"),
    ("Z", OBJECTS, 0, 0, False, "a lone Z"),
    ("", OBJECTS, 0, 0, False, "an empty prediction is read back as 'nan'"),
    ("Failed to obtain answer via API", OBJECTS, 0, 0, False, "letter rule off, no option text"),
    ("C", OBJECTS, 0, 0, False, "a wrong letter"),
]


def _item(options=OBJECTS, **kw) -> EvalItem:
    base = {"benchmark": "3DSRBench", "id": "1", "question": "Which object is higher in 3D world space?"}
    return EvalItem(**{**base, "answer": "B", "options": dict(options), **kw})


@pytest.mark.parametrize("protocol", ["official", "paper"])
def test_conformance_table(protocol):
    rules = rules_for("3DSRBench")  # through the registry: generic rules here would fail the table
    agree = 0
    for reply, options, official, paper, _, rule in CONFORMANCE:
        expected = official if protocol == "official" else paper
        got = rules.score(_item(options), reply, ScoringContext(protocol=protocol))["score"]
        assert got == expected, f"{protocol}: {reply!r}: {got}, the official rule gives {expected} ({rule})"
        agree += 1
    assert agree == len(CONFORMANCE) == 27
    assert sum(issue for *_, issue, _ in CONFORMANCE) == 4  # the issue's quoted disagreements are rows


def test_rules_are_selected_by_name():
    for name in ("3DSRBench", "3dsrbench_v1_vlmevalkit_circular", "3DSRBench-flip"):
        assert rules_for(name).name == "3DSRBench" and rules_for(name) is not GENERIC_RULES
    assert rules_for("3DSRBenchmark") is GENERIC_RULES


def test_question_is_build_prompts_text_under_both_protocols():
    item = _item(options={"A": "yes", "B": "no"})
    expected = (
        "Question: Which object is higher in 3D world space?\nOptions:\nA. yes\nB. no\n"
        "Please select the correct answer from the options above. \n"
    )
    assert threedsr.question(item, "official") == threedsr.question(item, "paper") == expected


def test_judge_decides_only_what_exact_matching_cannot():
    asked = []

    def judge(prompt):
        asked.append(prompt)
        return "B"

    ctx = ScoringContext(judge=judge)
    assert threedsr.score(_item(), "B", ctx)["score"] == 1.0 and ctx.judge_calls == 0
    got = threedsr.score(_item(), "I would go with the second object listed.", ctx)
    assert (got["score"], got["pred"], got["judged"], ctx.judge_calls) == (1.0, "B", True, 1)
    assert threedsr.score(_item(), "I would go with the second object listed.", ScoringContext())["score"] == 0.0


# ---------------------------------------------------------------- the four settings

# qid, hit, category: a 4-option question with a circular copy and flips (A), another (B), a question
# with its flip only (C), and one without copies (D)
SETTINGS_ROWS = [
    ("AAAAAAAA", 1, "height_higher"),
    ("AAAAAAAA-1", 1, "height_higher"),
    ("AAAAAAAA-flip", 1, "height_higher"),
    ("AAAAAAAA-flip-1", 0, "height_higher"),
    ("BBBBBBBB", 1, "height_higher"),
    ("BBBBBBBB-1", 0, "height_higher"),
    ("BBBBBBBB-flip", 1, "height_higher"),
    ("BBBBBBBB-flip-1", 1, "height_higher"),
    ("CCCCCCCC", 1, "location_above"),
    ("CCCCCCCC-flip", 1, "location_above"),
    ("DDDDDDDD", 0, "location_above"),
]


def _scored(rows, tsv_key="qid"):
    items, records = [], []
    for n, (qid, hit, category) in enumerate(rows):
        extra = {"tsv": {tsv_key: qid}} if qid is not None else {}
        items.append(_item(id=str(n), category=category, extra=extra))
        records.append({"id": str(n), "category": category, "subcategory": "", "score": float(hit), "format": 0})
    return items, records


def test_settings_by_hand():
    items, records = _scored(SETTINGS_ROWS)
    out = threedsr.summarize(items, records, "official")
    # vanilla: 8 of 11 rows right
    # flip_eval (main rows = the unflipped ones): A=1*1, A-1=1*0, B=1*1, B-1=0*1, C=1*1, D=0 -> 3/6
    # circ_eval (main = XXXXXXXX, XXXXXXXX-flip): A=1, A-flip=0, B=0, B-flip=1, C=1, C-flip=1, D=0 -> 4/7
    # flip_circ_eval (main = XXXXXXXX): A=0, B=0, C=1, D=0 -> 1/4
    assert out["settings"] == pytest.approx(
        {"vanilla": 8 / 11, "flip_eval": 0.5, "circ_eval": 4 / 7, "flip_circ_eval": 0.25}
    )
    assert out["score"] == pytest.approx(8 / 11)  # the headline: vanilla
    table = out["breakdowns"]["settings (Overall)"]
    assert {k: v["n"] for k, v in table.items()} == {"vanilla": 11, "flip_eval": 6, "circ_eval": 7, "flip_circ_eval": 4}
    by_cat = out["breakdowns"]
    assert by_cat["vanilla by category"]["height_higher"] == {"n": 8, "score": 0.75}
    assert by_cat["flip_eval by category"]["location_above"] == {"n": 2, "score": 0.5}
    assert by_cat["circ_eval by category"]["height_higher"] == {"n": 4, "score": 0.5}
    assert by_cat["circ_eval by category"]["location_above"]["score"] == pytest.approx(2 / 3)
    assert by_cat["flip_circ_eval by category"]["height_higher"] == {"n": 2, "score": 0.0}
    assert out["settings_orphans"] == {} and "vanilla" in out["headline"]
    assert out["by_category"]["height_higher"]["score"] == 0.75  # vanilla per category


def test_settings_keys_are_the_exact_slices():
    assert threedsr.flip_key("VIN6MS3J-flip-1") == "VIN6MS3J-1"
    assert threedsr.circ_key("VIN6MS3J-flip-1") == "VIN6MS3J-flip" and threedsr.circ_key("VIN6MS3J-2") == "VIN6MS3J"
    assert threedsr.flip_circ_key("VIN6MS3J-flip-1") == "VIN6MS3J"


def test_orphans_missing_qids_and_files_without_qid():
    # a flipped row whose original is absent: VLMEvalKit raises KeyError in flip_eval / flip_circ_eval
    rows = [("AAAAAAAA", 1, "x"), ("EEEEEEEE-flip", 1, "x"), ("FFFFFFFF", 0, "x"), (None, 1, "x")]
    out = threedsr.summarize(*_scored(rows), "official")
    assert out["settings"]["vanilla"] == 0.75
    assert out["breakdowns"]["settings (Overall)"]["flip_eval"] == {"n": 2, "score": 0.5}  # AAAAAAAA, FFFFFFFF
    assert out["breakdowns"]["settings (Overall)"]["circ_eval"]["n"] == 3  # EEEEEEEE-flip is its own group
    assert out["settings_orphans"] == {"flip_eval": 2, "circ_eval": 1, "flip_circ_eval": 2}
    # a file without a qid column: vanilla only, no error
    out = threedsr.summarize(*_scored([(None, 1, "x"), (None, 0, "x")]), "official")
    assert out["settings"] == {"vanilla": 0.5} and out["score"] == 0.5


def test_qid_column_is_matched_case_insensitively():
    items, records = _scored(SETTINGS_ROWS, tsv_key="QID")
    assert threedsr.summarize(items, records, "official")["settings"]["flip_circ_eval"] == 0.25


# ---------------------------------------------------------------- files in the official layout


def test_tsv_end_to_end(tmp_path):
    bench = load_benchmark(f"tsv:{write_threedsr_tsv(tmp_path)}")
    rules = rules_for(bench.rules or bench.name)
    assert rules.name == "3DSRBench" and [it.kind for it in bench.items] == ["choice"] * 5
    assert threedsr.tsv_value(bench.items[3], "qid") == "VIN6MS3J-flip-1"
    assert rules.question(bench.items[4], "official").startswith("Question: Is the cup left of the bowl?\nOptions:\n")
    predictions = {"0": "B", "1": "A", "2": "\\boxed{B}", "3": "B", "4": "yes"}  # 3: the lamp, wrong
    records, summary = score_benchmark(bench, predictions, rules, ScoringContext(protocol="official"))
    assert [r["score"] for r in records] == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert summary["settings"] == {"vanilla": 0.8, "flip_eval": 2 / 3, "circ_eval": 2 / 3, "flip_circ_eval": 0.5}
    assert summary["protocol"] == "official" and summary["rules"] == "3DSRBench"


def test_malformed_tsv_names_file_row_and_column(tmp_path):
    rows = threedsr_rows()
    rows[2]["answer"] = "E"
    path = write_threedsr_tsv(tmp_path, rows)
    with pytest.raises(BenchmarkFormatError, match=r"3DSRBench.tsv, row 3 \(index 2\): answer letter 'E'"):
        load_benchmark(f"tsv:{path}")
