"""Evaluation answer matching: choice letters, yes/no, quantities with units."""

from __future__ import annotations

import json

import pytest

from spatial_ssrl.rewards.match import (
    MAX_ANSWER_TEXT_CHARS,
    MAX_NUMBERS,
    answer_text,
    match_choice,
    match_number,
    match_yes_no,
    parse_number_with_unit,
)
from tests.fixtures.timing import cpu_seconds

OPTIONS = {"A": "left of the chair", "B": "right of the chair", "C": "behind the chair", "D": "in front of the chair"}


@pytest.mark.parametrize(
    "prediction, expected",
    [
        pytest.param("C", "C", id="bare"),
        pytest.param("<think>r</think> \\boxed{C}", "C", id="boxed_after_think"),
        pytest.param("<think>maybe \\boxed{A}</think>The answer is \\boxed{C}.", "C", id="think_box_ignored"),
        pytest.param("<think>r</think>  C. ", "C.", id="unboxed_answer_part"),
        pytest.param("\\boxed{A} \\boxed{C}", None, id="hedge"),
        pytest.param("\\boxed{C} \\boxed{\\text{C}}", "\\text{C}", id="same_answer_twice"),
        pytest.param("<think>r \\boxed{C}", None, id="unclosed_think"),
        pytest.param("\\boxed{C", None, id="malformed_box"),
        pytest.param(None, None, id="not_text"),
    ],
)
def test_answer_text(prediction, expected):
    assert answer_text(prediction) == expected


@pytest.mark.parametrize(
    "prediction, letter, expected",
    [
        pytest.param("\\boxed{C}", "C", True, id="boxed_letter"),
        pytest.param("\\boxed{(C)}", "C", True, id="boxed_parenthesised"),
        pytest.param("C. behind the chair", "C", True, id="letter_with_text"),
        pytest.param("Behind the chair.", "C", True, id="option_text"),
        pytest.param("The answer is C.", "C", True, id="prose_answer_is"),
        pytest.param("Answer: (C)", "C", True, id="prose_answer_colon"),
        pytest.param("Looking at the image, the answer is B.", "C", False, id="prose_wrong"),
        pytest.param("The answer is A or the answer is C", "C", False, id="prose_hedge"),
        pytest.param("\\boxed{A or C}", "C", False, id="boxed_hedge"),
        pytest.param("\\boxed{C. left of the chair}", "C", False, id="letter_of_one_text_of_another"),
        pytest.param("I cannot tell.", "C", False, id="no_answer"),
        pytest.param("\\boxed{c}", "c", True, id="lower_case_target"),
    ],
)
def test_match_choice(prediction, letter, expected):
    assert match_choice(prediction, letter, OPTIONS) is expected
    assert match_choice(prediction, letter, json.dumps(OPTIONS)) is expected  # a TSV/JSON column works too


@pytest.mark.parametrize(
    "prediction, answer, expected",
    [
        pytest.param("Yes", "yes", True, id="bare_yes"),
        pytest.param("\\boxed{No}", "no", True, id="boxed_no"),
        pytest.param("\\boxed{\\text{yes}}", "Yes", True, id="boxed_latex"),
        pytest.param("Yes, the cup is to the left.", "yes", True, id="prose_first_word"),
        pytest.param("No.", "yes", False, id="wrong"),
        pytest.param("\\boxed{yes or no}", "yes", False, id="boxed_hedge"),
        pytest.param("\\boxed{yes} \\boxed{no}", "yes", False, id="two_boxes"),
        pytest.param("Probably yes", "yes", False, id="not_first_word"),
        pytest.param("", "yes", False, id="empty"),
    ],
)
def test_match_yes_no(prediction, answer, expected):
    assert match_yes_no(prediction, answer) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("1.5 m", (1.5, "m"), id="metres"),
        pytest.param("1.5m", (1.5, "m"), id="no_space"),
        pytest.param("150 cm", (1.5, "m"), id="centimetres"),
        pytest.param("1500 mm", (1.5, "m"), id="millimetres"),
        pytest.param("2 km", (2000.0, "m"), id="kilometres"),
        pytest.param("20 inches", (0.508, "m"), id="inches"),
        pytest.param("1 in", (0.0254, "m"), id="in"),
        pytest.param("3 feet", (0.9144, "m"), id="feet"),
        pytest.param("1 foot", (0.3048, "m"), id="foot"),
        pytest.param("2 ft", (0.6096, "m"), id="ft"),
        pytest.param("1 yd", (0.9144, "m"), id="yard"),
        pytest.param("2 miles", (3218.688, "m"), id="miles"),
        pytest.param("3.5\\,\\text{m}", (3.5, "m"), id="latex_thin_space_text"),
        pytest.param("$2 \\mathrm{meters}$", (2.0, "m"), id="latex_mathrm"),
        pytest.param("1,200 metres", (1200.0, "m"), id="thousands_separator"),
        pytest.param("1.2e3 mm", (1.2, "m"), id="scientific"),
        pytest.param("Region 1 is about 2.5 meters away", (2.5, "m"), id="prefers_a_length"),
        pytest.param("42", (42.0, ""), id="no_unit"),
        pytest.param("3 chairs", (3.0, "chairs"), id="other_unit"),
        pytest.param("about five metres", None, id="number_word"),
        pytest.param("1e999 m", None, id="overflow_skipped"),
    ],
)
def test_parse_number_with_unit(text, expected):
    got = parse_number_with_unit(text)
    if expected is None:
        assert got is None
    else:
        assert got[1] == expected[1] and got[0] == pytest.approx(expected[0])


@pytest.mark.parametrize(
    "prediction, target, kwargs, expected",
    [
        pytest.param("\\boxed{3 m}", "2 m", {"within_factor": 2}, True, id="qspatial_within_2x"),
        pytest.param("\\boxed{5 m}", "2 m", {"within_factor": 2}, False, id="qspatial_over_2x"),
        pytest.param("\\boxed{1 m}", "2 m", {"within_factor": 2}, True, id="qspatial_exactly_half"),
        pytest.param("about 6 feet", (1.5, "m"), {"within_factor": 2}, True, id="feet_against_metres"),
        pytest.param("\\boxed{-1 m}", "2 m", {"within_factor": 2}, False, id="negative_never_within_factor"),
        pytest.param("\\boxed{2}", "2 m", {"within_factor": 2}, True, id="bare_number_in_target_unit"),
        pytest.param("\\boxed{200}", "2 m", {"within_factor": 2, "default_unit": "cm"}, True, id="default_unit"),
        pytest.param("\\boxed{3 chairs}", "3 m", {}, False, id="unit_mismatch"),
        pytest.param("\\boxed{2.05 m}", 2.0, {"rel_tol": 0.05}, True, id="rel_tol"),
        pytest.param("\\boxed{2.2 m}", 2.0, {"rel_tol": 0.05}, False, id="rel_tol_exceeded"),
        pytest.param("\\boxed{7}", 7, {}, True, id="exact"),
        pytest.param("\\boxed{2 m} \\boxed{3 m}", "2 m", {"within_factor": 2}, False, id="hedge"),
        pytest.param("no idea", "2 m", {"within_factor": 2}, False, id="no_number"),
        pytest.param(2.5, "2 m", {"within_factor": 2}, True, id="numeric_prediction"),
    ],
)
def test_match_number(prediction, target, kwargs, expected):
    assert match_number(prediction, target, **kwargs) is expected


# ---------------------------------------------------------------------------- hostile model output


# Whitespace after a cue word made the cue regex backtrack quadratically (2.3 s at 16k spaces); each
# run ends in a non-space, which the answer's strip() keeps.
CUE_RUNS = {
    "answer_spaces_bang": lambda n: "answer" + " " * n + "!",
    "answer_is_newlines": lambda n: "The answer is" + "\n" * n + "!",
    "option_tabs": lambda n: "option" + "\t" * n + "(",
    "answer_is_colon_spaces": lambda n: "answer is" + " " * (n // 2) + ":" + " " * (n // 2),
}


@pytest.mark.parametrize("make", list(CUE_RUNS.values()), ids=list(CUE_RUNS))
def test_matching_a_cue_followed_by_whitespace_is_linear(make):
    """A 16x longer input costs about 16x the time (asserted under 40x: 2.5x the cost of 16 short calls)."""
    short, long = make(512), make(512 * 16)
    assert len(long) <= MAX_ANSWER_TEXT_CHARS  # both are read in full: this times the scan, not the length cap
    for func in (lambda t: match_choice(t, "C", OPTIONS), lambda t: match_choice(t, "C")):
        assert func(long) is False
        ratio = cpu_seconds(func, long, 1) / max(cpu_seconds(func, short, 16), 1e-6)
        assert ratio < 2.5, f"16x input took {16 * ratio:.0f}x the time"


def test_unboxed_answer_longer_than_the_limit_is_not_read():
    """Past MAX_ANSWER_TEXT_CHARS an unboxed answer part is not an answer: a cue at its end is not
    credited (and nothing is scanned), while the same answer within the limit is."""
    tail = " The answer is C."
    fits = "so " * ((MAX_ANSWER_TEXT_CHARS - len(tail)) // 3) + tail
    over = "so " + fits
    assert len(fits) <= MAX_ANSWER_TEXT_CHARS < len(over)
    assert match_choice(fits, "C", OPTIONS) and answer_text(fits) == fits.strip()
    assert not match_choice(over, "C", OPTIONS) and answer_text(over) is None
    assert not match_choice("<think>r</think>" + over, "C", OPTIONS)
    assert match_choice("<think>" + over + "</think>\\boxed{C}", "C", OPTIONS)  # reasoning may be long
    assert not match_yes_no("Yes" + " so" * (MAX_ANSWER_TEXT_CHARS // 3), "yes")
    assert parse_number_with_unit("2 m" + " " * MAX_ANSWER_TEXT_CHARS) is None


def test_only_the_first_numbers_are_read_for_a_quantity():
    """Number soup costs a bounded number of steps: a length after MAX_NUMBERS numbers is not looked for."""
    assert parse_number_with_unit("1 " * (MAX_NUMBERS - 1) + "2 m") == (2.0, "m")
    assert parse_number_with_unit("1 " * MAX_NUMBERS + "2 m") == (1.0, "")
