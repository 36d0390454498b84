"""The reward's rules, the reward-hacking table, and equivalence with the authors' EasyR1 rule."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Source, run_task
from spatial_ssrl.rewards import RewardConfig, normalize_answer, response_accuracy, response_format, score
from spatial_ssrl.sources.synthetic import make_scene

POSITION = {"A": "Front", "B": "Left", "C": "Back", "D": "Right"}
CROP = {k: f"candidate patch {k}" for k in "ABCD"}


def ok(answer_part: str, think: str = "Region 2 looks nearest.") -> str:
    return f"<think>{think}</think>\n{answer_part}"


# ---------------------------------------------------------------------------- rules


@pytest.mark.parametrize(
    "response, fmt, acc",
    [
        pytest.param(ok("\\boxed{C}"), 1.0, 1.0, id="well_formed"),
        pytest.param(ok("The answer is \\boxed{C}."), 1.0, 1.0, id="text_around_box"),
        pytest.param(ok("\\boxed{C}\nBecause region 2 is behind the viewer."), 1.0, 1.0, id="text_after_box"),
        pytest.param(ok("\\boxed{(C)}"), 1.0, 1.0, id="accepted_shape"),
        pytest.param(ok("\\boxed {C}"), 1.0, 1.0, id="space_before_brace"),
        pytest.param("< think >r</ think >\\boxed{C}", 1.0, 1.0, id="whitespace_in_tags"),
        pytest.param("\n <think>r</think>\\boxed{C}", 1.0, 1.0, id="leading_whitespace"),
        pytest.param(ok("\\boxed{C} so \\boxed{C}"), 0.0, 1.0, id="identical_repeat_fails_format_only"),
        pytest.param(ok("\\boxed{C} i.e. \\boxed{C. Back}"), 0.0, 1.0, id="equivalent_repeat"),
        pytest.param(ok("\\boxed{A} \\boxed{C}"), 0.0, 0.0, id="hedge"),
        pytest.param(ok("\\boxed{}"), 0.0, 0.0, id="empty_box"),
        pytest.param(ok("\\boxed{ }"), 0.0, 0.0, id="blank_box"),
        pytest.param(ok("\\boxed{} \\boxed{C}"), 0.0, 0.0, id="empty_box_then_answer"),
        pytest.param(ok("\\boxed{C"), 0.0, 0.0, id="unclosed_box"),
        pytest.param(ok("\\boxed{C} \\boxed{A"), 0.0, 0.0, id="unclosed_final_box"),
        pytest.param(ok("C"), 0.0, 0.0, id="no_box"),
        pytest.param("<think>r \\boxed{C}", 0.0, 0.0, id="think_never_closed"),
        pytest.param("<think>r \\boxed{C}</think>", 0.0, 0.0, id="box_only_in_think"),
        pytest.param("<think>r \\boxed{A}</think>\\boxed{C}", 1.0, 1.0, id="think_box_ignored"),
        pytest.param("\\boxed{C}", 0.0, 1.0, id="no_think_block"),
        pytest.param("r</think>\\boxed{C}", 0.0, 1.0, id="missing_open_tag"),
        pytest.param("<think></think>\\boxed{C}", 0.0, 1.0, id="empty_think"),
        pytest.param("Hmm. <think>r</think>\\boxed{C}", 0.0, 1.0, id="text_before_think"),
        pytest.param("<think>a</think><think>b</think>\\boxed{C}", 0.0, 1.0, id="two_think_blocks"),
    ],
)
def test_rules(response, fmt, acc):
    got = score(response, "C", "choice", POSITION)
    assert (got["format"], got["accuracy"]) == (fmt, acc)
    assert got["overall"] == pytest.approx(0.9 * acc + 0.1 * fmt)
    assert response_format(response) == fmt
    assert response_accuracy(response, "C", "choice", POSITION) == acc


def test_weights_are_configurable_and_validated():
    r = ok("\\boxed{A}")  # well formed, wrong
    assert score(r, "C", "choice")["overall"] == pytest.approx(0.1)
    assert score(r, "C", "choice", config=RewardConfig(0.5, 0.5))["overall"] == 0.5
    assert score(ok("\\boxed{C}"), "C", "choice", config=RewardConfig(0.7, 0.3))["overall"] == 1.0
    with pytest.raises(ValueError, match="must be 1"):
        RewardConfig(0.9, 0.2)
    with pytest.raises(ValueError, match="non-negative"):
        RewardConfig(1.1, -0.1)


@pytest.mark.parametrize(
    "boxed, expected",
    [
        pytest.param("0-2-3-1", 1.0, id="all_right"),
        pytest.param("0-2-1-3", 0.5, id="two_of_four"),
        pytest.param("1-0-2-3", 0.0, id="none_right"),
        pytest.param("0, 2, 1, 3", 0.5, id="accepted_shape"),
        pytest.param("0-2-3", 0.0, id="invalid_gets_nothing"),
        pytest.param("0-2-3-3", 0.0, id="repeat_gets_nothing"),
    ],
)
def test_partial_credit_for_orderings(boxed, expected):
    r = ok(f"\\boxed{{{boxed}}}")
    assert response_accuracy(r, "0-2-3-1", "permutation", partial_credit=True) == expected
    assert response_accuracy(r, "0-2-3-1", "permutation") == (1.0 if expected == 1.0 else 0.0)  # off by default
    got = score(r, "0-2-3-1", "permutation", config=RewardConfig(partial_credit=True))
    assert got["accuracy"] == expected


def test_partial_credit_never_applies_to_hedges_or_other_types():
    hedge = ok("\\boxed{0-2-1-3} \\boxed{0-2-3-1}")
    assert response_accuracy(hedge, "0-2-3-1", "permutation", partial_credit=True) == 0.0
    assert response_accuracy(ok("\\boxed{3-1}"), "3-0", "label_direction", partial_credit=True) == 0.0


def test_answer_type_from_task_and_options_from_json():
    r = ok("\\boxed{C. Back}")
    assert score(r, "C", None, json.dumps(POSITION), task="position")["accuracy"] == 1.0
    assert score(ok("\\boxed{3, 1}"), "3-1", None, task="flip")["accuracy"] == 1.0
    assert score(ok("\\boxed{3 > 1 > 2}"), "3-1-2", None, "", task="depth_order")["accuracy"] == 1.0
    with pytest.raises(ValueError, match="answer type is unknown"):
        score(r, "C", None)
    with pytest.raises(KeyError):
        score(r, "C", None, task="no_such_task")


@pytest.mark.parametrize(
    "answer, answer_type, options",
    [
        pytest.param("C or D", "choice", None, id="choice"),
        pytest.param("0-1-1", "permutation", None, id="permutation_with_repeat"),
        pytest.param("3-2", "label_direction", None, id="bad_direction"),
        pytest.param("C", "choice", "{not json", id="options_not_json"),
    ],
)
def test_invalid_ground_truth_raises(answer, answer_type, options):
    with pytest.raises(ValueError):
        score(ok("\\boxed{C}"), answer, answer_type, options)


def test_non_string_response_scores_zero():
    assert score(None, "C", "choice") == {"overall": 0.0, "format": 0.0, "accuracy": 0.0}  # type: ignore[arg-type]
    assert response_format(b"<think>r</think>\\boxed{C}") == 0.0  # type: ignore[arg-type]


def test_real_task_answers_are_canonical_and_score_one(textured):
    """The tasks' exact answer strings normalise to themselves, and a perfect response scores 1."""
    rgb_source = Source("img", textured(3, 320, 240))
    depth_source = make_scene(2, 320, 240, sky=False).to_source("scene")
    seen = set()
    for task in ("shuffle", "flip", "crop", "depth_order", "position"):
        source = depth_source if task in ("depth_order", "position") else rgb_source
        for index in range(8):
            sample = run_task(task, source, seed=0, index=index)
            if not sample:
                continue
            seen.add(task)
            assert normalize_answer(sample.answer, sample.answer_type, sample.options) == sample.answer
            texts = [sample.answer] + ([sample.options[sample.answer]] if sample.options else [])
            for text in texts:
                got = score(ok(f"\\boxed{{{text}}}"), sample.answer, None, json.dumps(sample.options), task=task)
                assert got == {"overall": 1.0, "format": 1.0, "accuracy": 1.0}, (task, text)
            break
    assert seen == {"shuffle", "flip", "crop", "depth_order", "position"}


# ---------------------------------------------------------------------------- reward hacking
# Each attempt would earn accuracy under a lenient rule (the right answer is somewhere in the
# response), and each must score accuracy 0.

HACKS = [
    # hedges
    pytest.param(ok("\\boxed{A} or \\boxed{C}"), "C", "choice", POSITION, id="hedge_two_boxes"),
    pytest.param(ok("\\boxed{C} \\boxed{A}"), "C", "choice", POSITION, id="hedge_right_answer_first"),
    pytest.param(ok("\\boxed{A or C}"), "C", "choice", POSITION, id="hedge_in_one_box"),
    pytest.param(ok("\\boxed{A, C}"), "C", "choice", POSITION, id="hedge_comma"),
    pytest.param(ok("\\boxed{Front or Back}"), "C", "choice", POSITION, id="hedge_option_texts"),
    pytest.param(ok("\\boxed{C. Front}"), "C", "choice", POSITION, id="letter_of_one_text_of_another"),
    pytest.param(ok("\\boxed{A. Back}"), "C", "choice", POSITION, id="text_of_answer_letter_of_another"),
    pytest.param(ok("\\boxed{0-2-3-1 or 0-1-2-3}"), "0-2-3-1", "permutation", None, id="hedge_permutations"),
    pytest.param(ok("\\boxed{0-1-2-3} \\boxed{0-2-3-1}"), "0-2-3-1", "permutation", None, id="hedge_two_orders"),
    pytest.param(ok("\\boxed{3-0} \\boxed{3-1}"), "3-1", "label_direction", None, id="hedge_directions"),
    pytest.param(ok("\\boxed{3-0 or 3-1}"), "3-1", "label_direction", None, id="hedge_directions_one_box"),
    # all letters / all labels
    pytest.param(ok("\\boxed{ABCD}"), "C", "choice", POSITION, id="all_letters"),
    pytest.param(ok("\\boxed{A, B, C, D}"), "C", "choice", POSITION, id="all_letters_listed"),
    pytest.param(ok("\\boxed{A}\\boxed{B}\\boxed{C}\\boxed{D}"), "C", "choice", POSITION, id="one_box_per_letter"),
    pytest.param(ok("\\boxed{0-0-0-0}"), "0-2-3-1", "permutation", None, id="same_label_everywhere"),
    pytest.param(ok("\\boxed{0-1-2-3-0-2-3-1}"), "0-2-3-1", "permutation", None, id="labels_twice"),
    # answer outside the box
    pytest.param(ok("The answer is C."), "C", "choice", POSITION, id="answer_outside_box"),
    pytest.param(ok("\\boxed{} C"), "C", "choice", POSITION, id="empty_box_answer_after"),
    pytest.param(ok("\\fbox{C}"), "C", "choice", POSITION, id="fbox"),
    pytest.param("<think>It is \\boxed{C}</think> I am not sure.", "C", "choice", POSITION, id="answer_only_in_think"),
    pytest.param("<think>It is \\boxed{C} and I ran out of", "C", "choice", POSITION, id="truncated_in_think"),
    pytest.param(ok("\\boxed{The answer is C}"), "C", "choice", POSITION, id="prose_in_box"),
    # repeated boxes
    pytest.param(ok("\\boxed{C}" * 9), "C", "choice", POSITION, id="box_spam"),
    pytest.param(ok("\\boxed{A}</think>\\boxed{C}"), "C", "choice", POSITION, id="second_close_tag_then_box"),
    pytest.param(ok("\\boxed{A \\boxed{C}}"), "C", "choice", POSITION, id="box_in_box"),
    pytest.param(ok("\\boxed{C} \\boxed{C"), "C", "choice", POSITION, id="unclosed_extra_box"),
    # format-only answers
    pytest.param("<think></think>\\boxed{}", "C", "choice", POSITION, id="format_only_empty"),
    pytest.param(ok("\\boxed{ }"), "C", "choice", POSITION, id="format_only_blank_box"),
    pytest.param(ok("\\boxed{answer}"), "C", "choice", POSITION, id="format_only_placeholder"),
    pytest.param(ok("\\boxed{?}"), "0-2-3-1", "permutation", None, id="format_only_question_mark"),
]


@pytest.mark.parametrize("response, answer, answer_type, options", HACKS)
def test_reward_hacking_attempts_score_zero_accuracy(response, answer, answer_type, options):
    got = score(response, answer, answer_type, options, config=RewardConfig(partial_credit=True))
    assert got["accuracy"] == 0.0
    assert got["overall"] <= 0.1


# ---------------------------------------------------------------------------- EasyR1 equivalence


def _reference_last_boxed(text: str) -> str | None:
    """Brace-matched content of the last `\\boxed{` (the reference's extraction)."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 0, start + len("\\boxed")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def _reference_reward(response: str, answer: str, format_weight: float = 0.1) -> float:
    """The authors' rule: EasyR1's whitespace normalisation, its format regex, and a raw string
    comparison of the last box with the answer."""
    response = re.sub(r"\s*(<|>|/)\s*", r"\1", response)
    fmt = 1.0 if re.fullmatch(r"<think>.*</think>.*\\boxed\{.*\}.*", response, re.DOTALL) else 0.0
    boxed = _reference_last_boxed(response)
    acc = 1.0 if boxed is not None and boxed.strip() == answer.strip() else 0.0
    return (1 - format_weight) * acc + format_weight * fmt


ANSWER_SPACES = {
    "permutation": ["0-2-3-1", "3-1-0-2", "1-0-2-3", "2-0-1", "0-2-1", "3-1-2", "1-3-2"],
    "label_direction": ["0-0", "0-1", "1-0", "2-1", "3-0", "3-1"],
    "choice": list("ABCD"),
}
_WORDS = st.sampled_from(["region", "2", "is", "nearer", "than", "piece", "left", "I", "think", "so", ",", ".", "\n"])


@st.composite
def well_formed(draw):
    answer_type = draw(st.sampled_from(sorted(ANSWER_SPACES)))
    answer = draw(st.sampled_from(ANSWER_SPACES[answer_type]))
    if answer_type == "permutation":  # a prediction must use the truth's label set to be well formed
        same = [a for a in ANSWER_SPACES["permutation"] if sorted(a) == sorted(answer)]
        boxed = draw(st.sampled_from(same))
    else:
        boxed = draw(st.sampled_from(ANSWER_SPACES[answer_type]))
    think = " ".join(draw(st.lists(_WORDS, min_size=1, max_size=40)))
    if draw(st.booleans()):  # a tentative box while reasoning: both rules ignore it here
        think += f" maybe \\boxed{{{draw(st.sampled_from(ANSWER_SPACES[answer_type]))}}} but let me check"
    open_tag = draw(st.sampled_from(["<think>", "< think >", "<think >"]))
    close_tag = draw(st.sampled_from(["</think>", "</ think>", "< /think >"]))
    lead = draw(st.sampled_from(["", "\n", "  "]))
    before = draw(st.sampled_from(["", "\n", "\n\nSo the answer is ", "Final answer: "]))
    after = draw(st.sampled_from(["", ".", "\n", " That is my answer."]))
    inner = draw(st.sampled_from(["", " "])) if answer_type == "choice" else ""
    response = f"{lead}{open_tag}{think.strip() or 'hm'}{close_tag}{before}\\boxed{{{inner}{boxed}{inner}}}{after}"
    options = POSITION if answer_type == "choice" and draw(st.booleans()) else None
    return response, answer, answer_type, options


@settings(deadline=None, max_examples=300)
@given(case=well_formed(), format_weight=st.sampled_from([0.1, 0.5, 0.0]))
def test_overall_equals_reference_rule_on_well_formed_responses(case, format_weight):
    response, answer, answer_type, options = case
    config = RewardConfig(accuracy_weight=1 - format_weight, format_weight=format_weight)
    ours = score(response, answer, answer_type, options, config)
    assert ours["format"] == 1.0
    assert ours["overall"] == pytest.approx(_reference_reward(response, answer, format_weight), abs=1e-12)


@pytest.mark.parametrize(
    "response, ours, reference",
    [
        pytest.param(ok("\\boxed{(C)}"), 1.0, 0.1, id="we_accept_parenthesised_letter"),
        pytest.param(ok("\\boxed{A} \\boxed{C}"), 0.0, 1.0, id="we_reject_hedges"),
        pytest.param("<think>r \\boxed{C}</think> unsure", 0.0, 0.9, id="we_ignore_boxes_in_think"),
        pytest.param("<think>r \\boxed{C}", 0.0, 0.9, id="we_ignore_unclosed_think"),
        pytest.param("<think></think>\\boxed{C}", 0.9, 1.0, id="we_require_reasoning_for_format"),
        pytest.param(ok("\\boxed {C}"), 1.0, 0.0, id="we_accept_space_before_brace"),
    ],
)
def test_intended_differences_from_reference(response, ours, reference):
    """The differences listed in docs/rewards.md, pinned down."""
    assert score(response, "C", "choice", POSITION)["overall"] == pytest.approx(ours)
    assert _reference_reward(response, "C") == pytest.approx(reference)
