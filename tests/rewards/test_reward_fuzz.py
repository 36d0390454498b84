"""Arbitrary and adversarial text: the reward never raises, stays in [0, 1], and stays fast."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl.rewards import RewardConfig, answer_text, match_choice, match_number, match_yes_no, score
from spatial_ssrl.rewards.extract import MAX_BOXES, parse_response
from spatial_ssrl.rewards.normalize import normalize_answer
from spatial_ssrl.rewards.trl import accuracy_reward, format_reward
from tests.fixtures.timing import cpu_seconds

POSITION = {"A": "Front", "B": "Left", "C": "Back", "D": "Right"}
TRUTHS = [
    ("C", "choice", POSITION),
    ("B", "choice", None),
    ("0-2-3-1", "permutation", None),
    ("3-1-2", "permutation", None),
    ("3-0", "label_direction", None),
]
PARTIAL = RewardConfig(partial_credit=True)

# Pieces that matter to the parser, plus unicode; joined at random they make brace and tag soup.
PIECES = [
    "\\boxed", "\\boxed{", "\\boxed {", "{", "}", "{{", "}}", "<think>", "</think>", "< think >", "</ think>",
    "<", ">", "/", "think", " ", "\n", "\t", "C", "A or C", "0-2-3-1", "3-0", "(C)", "Back", "$", "**",
    "\\text{", "\\fbox{", "é", "漢", "😀", "\u200b", "\x00", "\\", ".", ",", "-", "→",
]  # fmt: skip
SOUP = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=300), SOUP, st.text(alphabet="{}\\boxed<>/think \n", max_size=300))


def _check(result: dict) -> None:
    assert set(result) == {"overall", "format", "accuracy"}
    assert all(0.0 <= v <= 1.0 for v in result.values())
    assert result["format"] in (0.0, 1.0)


@settings(deadline=None, max_examples=200)
@given(text=ANY_TEXT, truth=st.sampled_from(TRUTHS), partial=st.booleans())
def test_score_never_raises_and_stays_in_unit_interval(text, truth, partial):
    answer, answer_type, options = truth
    result = score(text, answer, answer_type, options, PARTIAL if partial else RewardConfig())
    _check(result)
    if not partial:
        assert result["accuracy"] in (0.0, 1.0)


@settings(deadline=None, max_examples=200)
@given(text=ANY_TEXT, answer_type=st.sampled_from(["choice", "permutation", "label_direction"]))
def test_normalize_never_raises(text, answer_type):
    got = normalize_answer(text, answer_type, POSITION, labels={0, 1, 2, 3})
    assert got is None or isinstance(got, str)


@settings(deadline=None, max_examples=200)
@given(text=ANY_TEXT)
def test_matchers_never_raise(text):
    answer_text(text)
    assert isinstance(match_choice(text, "C", POSITION), bool)
    assert isinstance(match_yes_no(text, "yes"), bool)
    assert isinstance(match_number(text, "2 m", within_factor=2), bool)


@settings(deadline=None, max_examples=200)
@given(prefix=ANY_TEXT, truth=st.sampled_from(TRUTHS))
def test_a_hedge_anywhere_in_the_answer_part_scores_zero(prefix, truth):
    """Whatever precedes it, an answer part holding the right and a wrong box never earns accuracy."""
    answer, answer_type, options = truth
    wrong = {"choice": "A", "permutation": "0-1-2-3" if len(answer) == 7 else "1-2-3", "label_direction": "2-1"}
    response = f"<think>{prefix}</think>\\boxed{{{answer}}} \\boxed{{{wrong[answer_type]}}}"
    assert score(response, answer, answer_type, options, PARTIAL)["accuracy"] == 0.0


@settings(deadline=None, max_examples=200)
@given(think=ANY_TEXT, truth=st.sampled_from(TRUTHS))
def test_nothing_inside_a_closed_think_block_changes_accuracy(think, truth):
    """Reasoning is not an answer: any think text (without tags) leaves accuracy as the boxed answer says."""
    answer, answer_type, options = truth
    think = think.replace("think>", "")
    response = f"<think>{think}</think>\\boxed{{{answer}}}"
    tags = parse_response(response)
    if tags.answer_start == len(f"<think>{think}</think>"):  # the think text held no tag-like residue
        assert score(response, answer, answer_type, options)["accuracy"] == 1.0


@settings(deadline=None, max_examples=100)
@given(completions=st.lists(st.one_of(ANY_TEXT, st.none(), st.integers(), st.just([{"role": "assistant"}]))))
def test_trl_adapters_never_raise(completions):
    n = len(completions)
    acc = accuracy_reward(completions, answer=["C"] * n, answer_type=["choice"] * n)
    fmt = format_reward(completions)
    assert len(acc) == len(fmt) == n
    assert all(0.0 <= v <= 1.0 for v in acc + fmt)


@settings(deadline=None, max_examples=30)
@given(unit=st.text(min_size=1, max_size=12) | st.sampled_from(PIECES), truth=st.sampled_from(TRUTHS))
def test_megabyte_strings_never_raise(unit, truth):
    text = unit * (1_000_000 // len(unit) + 1)
    answer, answer_type, options = truth
    _check(score(text, answer, answer_type, options))
    _check(score("<think>r</think>" + text, answer, answer_type, options))


MB = 1 << 20
# Hostile responses of about n characters each (n = 1 MB in the test).
ADVERSARIAL = {
    "thousands_of_open_boxes": lambda n: "\\boxed{" * (n // 7),
    "thousands_of_closed_boxes": lambda n: "<think>r</think>" + "\\boxed{C}" * (n // 9),
    "box_then_open_braces": lambda n: "<think>r</think>\\boxed{" + "{" * n,
    "box_then_brace_pairs": lambda n: "<think>r</think>\\boxed{" + "{}" * (n // 2),
    "close_braces": lambda n: "<think>r</think>\\boxed{C" + "}" * n,
    "nested_boxes_at_the_limits": lambda n: (
        "<think>r</think>" + ("\\boxed{" + "{" * 490 + "}" * 490 + "}") * MAX_BOXES + "x" * n
    ),
    "angle_brackets": lambda n: "<" * n,
    "angle_then_spaces": lambda n: "<" + " " * n,
    "open_tags": lambda n: "<think>" * (n // 7),
    "close_tags": lambda n: "</think>" * (n // 8),
    "tag_variants": lambda n: "< / think >" * (n // 11),
    "think_words": lambda n: "I think " * (n // 8),
    "backslashes": lambda n: "\\" * n,
    "box_gap_of_spaces": lambda n: "<think>r</think>\\boxed" + " " * n + "{C}",
    "unicode_brace_soup": lambda n: "é漢😀{}\\boxed<" * (n // 13),
    "long_reasoning_then_answer": lambda n: "<think>" + "region two is nearer " * (n // 21) + "</think>\\boxed{C}",
    "long_answer_part": lambda n: "<think>r</think>" + "so " * (n // 3) + "\\boxed{C}",
}


def _best_seconds(text: str) -> float:
    return cpu_seconds(lambda t: score(t, "C", "choice", POSITION), text)


@pytest.mark.parametrize("make", list(ADVERSARIAL.values()), ids=list(ADVERSARIAL))
def test_one_megabyte_adversarial_response_scores_in_linear_time(make):
    """Scoring grows at most linearly: 16x the input costs well under 16^2 x the time. (The absolute worst
    case on 1 MB inputs is measured by benchmarks/bench_rewards.py, not asserted here: timings are noisy.)"""
    big, small = make(MB), make(MB // 16)
    _check(score(big, "C", "choice", POSITION))
    ratio_cap = 40  # linear is 16; quadratic would be 256
    floor = 0.002  # below this the small run is all overhead and the ratio means nothing
    assert _best_seconds(big) <= ratio_cap * max(_best_seconds(small), floor)
