"""Every accepted and rejected answer shape, per answer type, as a named case."""

from __future__ import annotations

import pytest

from spatial_ssrl.rewards.normalize import normalize_answer, strip_wrappers

POSITION = {"A": "Front", "B": "Left", "C": "Back", "D": "Right"}
DIAGONAL = {"A": "Left-Front", "B": "Right-Back", "C": "Left-Back", "D": "Right-Front"}
CROP = {k: f"candidate patch {k}" for k in "ABCD"}
SHUFFLE_LABELS = {0, 1, 2, 3}  # shuffle labels are 0-based
DEPTH_LABELS = {1, 2, 3}  # depth regions are 1-based


@pytest.mark.parametrize(
    "text, labels, expected",
    [
        pytest.param("0-2-3-1", SHUFFLE_LABELS, "0-2-3-1", id="canonical"),
        pytest.param("0, 2, 3, 1", SHUFFLE_LABELS, "0-2-3-1", id="comma_space"),
        pytest.param("0,2,3,1", SHUFFLE_LABELS, "0-2-3-1", id="comma"),
        pytest.param("0 - 2 - 3 - 1", SHUFFLE_LABELS, "0-2-3-1", id="spaced_dashes"),
        pytest.param("0 2 3 1", SHUFFLE_LABELS, "0-2-3-1", id="spaces"),
        pytest.param("0 > 2 > 3 > 1", SHUFFLE_LABELS, "0-2-3-1", id="greater_than"),
        pytest.param("0→2→3→1", SHUFFLE_LABELS, "0-2-3-1", id="unicode_arrow"),
        pytest.param("0 -> 2 -> 3 -> 1", SHUFFLE_LABELS, "0-2-3-1", id="ascii_arrow"),
        pytest.param("0 \\to 2 \\to 3 \\to 1", SHUFFLE_LABELS, "0-2-3-1", id="latex_to"),
        pytest.param(
            "0 \\rightarrow 2 \\rightarrow 3 \\rightarrow 1", SHUFFLE_LABELS, "0-2-3-1", id="latex_rightarrow"
        ),
        pytest.param("0–2–3–1", SHUFFLE_LABELS, "0-2-3-1", id="en_dash"),
        pytest.param("[0, 2, 3, 1]", SHUFFLE_LABELS, "0-2-3-1", id="brackets"),
        pytest.param("(0, 2, 3, 1)", SHUFFLE_LABELS, "0-2-3-1", id="parentheses"),
        pytest.param(" 0-2-3-1. ", SHUFFLE_LABELS, "0-2-3-1", id="trailing_period"),
        pytest.param("\\text{0-2-3-1}", SHUFFLE_LABELS, "0-2-3-1", id="latex_text"),
        pytest.param("**0-2-3-1**", SHUFFLE_LABELS, "0-2-3-1", id="markdown_bold"),
        pytest.param("$0-2-3-1$", SHUFFLE_LABELS, "0-2-3-1", id="math_dollars"),
        pytest.param("3-1-2", DEPTH_LABELS, "3-1-2", id="one_based_depth"),
        pytest.param("3-1-2", None, "3-1-2", id="no_label_set_given"),
    ],
)
def test_permutation_accepted(text, labels, expected):
    assert normalize_answer(text, "permutation", labels=labels) == expected


@pytest.mark.parametrize(
    "text, labels",
    [
        pytest.param("0-2-3", SHUFFLE_LABELS, id="too_short"),
        pytest.param("0-2-3-1-4", SHUFFLE_LABELS, id="too_long"),
        pytest.param("0-2-2-1", SHUFFLE_LABELS, id="repeat"),
        pytest.param("0-2-3-4", SHUFFLE_LABELS, id="out_of_range"),
        pytest.param("1-2-3-4", SHUFFLE_LABELS, id="one_based_for_zero_based"),
        pytest.param("0-1-2", DEPTH_LABELS, id="zero_based_for_one_based"),
        pytest.param("0-0-0-0", SHUFFLE_LABELS, id="all_same"),
        pytest.param("1-1", None, id="repeat_without_label_set"),
        pytest.param("0-2-3-1 or 0-1-2-3", SHUFFLE_LABELS, id="hedge_with_or"),
        pytest.param("0-2-3-1, 0-1-2-3", SHUFFLE_LABELS, id="two_answers"),
        pytest.param("0.0-2-3-1", SHUFFLE_LABELS, id="float_label"),
        pytest.param("a-b-c-d", SHUFFLE_LABELS, id="letters"),
        pytest.param("-0-2-3-1", SHUFFLE_LABELS, id="leading_dash"),
        pytest.param("0-2-3-1-", SHUFFLE_LABELS, id="trailing_dash"),
        pytest.param("0²-2-3-1", SHUFFLE_LABELS, id="superscript_digit"),
        pytest.param("٠-٢-٣-١", SHUFFLE_LABELS, id="non_ascii_digits"),
        pytest.param("Region 2, then 3, then 1", DEPTH_LABELS, id="prose"),
        pytest.param("2", DEPTH_LABELS, id="single_label"),
        pytest.param("", SHUFFLE_LABELS, id="empty"),
        pytest.param("0123", SHUFFLE_LABELS, id="no_separator"),
    ],
)
def test_permutation_rejected(text, labels):
    assert normalize_answer(text, "permutation", labels=labels) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("3-0", "3-0", id="canonical"),
        pytest.param("3 - 0", "3-0", id="spaced_dash"),
        pytest.param("3, 0", "3-0", id="comma"),
        pytest.param("(3, 0)", "3-0", id="tuple"),
        pytest.param("[3, 0]", "3-0", id="list"),
        pytest.param("3 1", "3-1", id="space"),
        pytest.param("\\text{2-1}.", "2-1", id="latex_text_period"),
    ],
)
def test_label_direction_accepted(text, expected):
    assert normalize_answer(text, "label_direction") == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("3-2", id="direction_out_of_range"),
        pytest.param("3", id="label_only"),
        pytest.param("3-0-1", id="three_numbers"),
        pytest.param("3-0 or 3-1", id="hedge"),
        pytest.param("3-vertical", id="direction_word"),
        pytest.param("piece 3, direction 0", id="prose"),
        pytest.param("3--0", id="double_dash"),
        pytest.param("3,,0", id="double_comma"),
        pytest.param("", id="empty"),
    ],
)
def test_label_direction_rejected(text):
    assert normalize_answer(text, "label_direction") is None


@pytest.mark.parametrize(
    "text, options, expected",
    [
        pytest.param("C", POSITION, "C", id="letter"),
        pytest.param("c", POSITION, "C", id="lower_case_letter"),
        pytest.param("(C)", POSITION, "C", id="parenthesised"),
        pytest.param("[C]", POSITION, "C", id="bracketed"),
        pytest.param("C.", POSITION, "C", id="period"),
        pytest.param("C)", POSITION, "C", id="closing_paren"),
        pytest.param("C:", POSITION, "C", id="colon"),
        pytest.param("**C**", POSITION, "C", id="markdown_bold"),
        pytest.param("\\text{C}", POSITION, "C", id="latex_text"),
        pytest.param("\\textbf{C}", POSITION, "C", id="latex_textbf"),
        pytest.param("$\\text{C}$", POSITION, "C", id="math_text"),
        pytest.param("C. Back", POSITION, "C", id="letter_with_matching_text"),
        pytest.param("(C) Back", POSITION, "C", id="paren_letter_with_text"),
        pytest.param("C) back", POSITION, "C", id="letter_with_lower_case_text"),
        pytest.param("C: Back.", POSITION, "C", id="colon_letter_with_text"),
        pytest.param("Back", POSITION, "C", id="bare_option_text"),
        pytest.param("back", POSITION, "C", id="bare_option_text_lower_case"),
        pytest.param("\\text{Back}", POSITION, "C", id="bare_option_text_latex"),
        pytest.param("Left-Back", DIAGONAL, "C", id="diagonal_text"),
        pytest.param("left back", DIAGONAL, "C", id="diagonal_text_without_dash"),
        pytest.param("C. Left - Back", DIAGONAL, "C", id="diagonal_letter_with_text"),
        pytest.param("candidate patch C", CROP, "C", id="crop_text"),
        pytest.param("C. candidate patch C", CROP, "C", id="crop_letter_with_text"),
        pytest.param("C", None, "C", id="letter_without_options"),
    ],
)
def test_choice_accepted(text, options, expected):
    assert normalize_answer(text, "choice", options) == expected


@pytest.mark.parametrize(
    "text, options",
    [
        pytest.param("A or C", POSITION, id="two_letters_or"),
        pytest.param("AB", POSITION, id="two_letters_joined"),
        pytest.param("A, C", POSITION, id="two_letters_comma"),
        pytest.param("A/C", POSITION, id="two_letters_slash"),
        pytest.param("ABCD", POSITION, id="all_letters"),
        pytest.param("C. Front", POSITION, id="letter_with_other_options_text"),
        pytest.param("A. candidate patch C", CROP, id="crop_letter_with_other_text"),
        pytest.param("Back or Front", POSITION, id="two_texts"),
        pytest.param("Back-Left", DIAGONAL, id="reordered_diagonal"),
        pytest.param("E", POSITION, id="letter_not_an_option"),
        pytest.param("Behind", POSITION, id="synonym_not_an_option"),
        pytest.param("The answer is C", POSITION, id="prose"),
        pytest.param("C Back", POSITION, id="letter_text_without_punctuation"),
        pytest.param("C. Back", None, id="text_without_options"),
        pytest.param("Back", None, id="bare_text_without_options"),
        pytest.param("", POSITION, id="empty"),
        pytest.param("()", POSITION, id="empty_parentheses"),
        pytest.param("Back", {"A": "Back", "B": "back", "C": "Left", "D": "Right"}, id="ambiguous_options"),
        pytest.param("\\text{C", POSITION, id="unbalanced_wrapper"),
    ],
)
def test_choice_rejected(text, options):
    assert normalize_answer(text, "choice", options) is None


def test_answer_type_must_be_declared():
    with pytest.raises(ValueError, match="answer_type"):
        normalize_answer("C", "letter")


def test_overlong_text_is_rejected_not_parsed():
    assert normalize_answer("C" + " " * 5000, "choice") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("  $\\text{**C**}$ ", "C", id="layers"),
        pytest.param("\\boxed{C}", "C", id="nested_box"),
        pytest.param("\\text{A}\\text{B}", "\\text{A}\\text{B}", id="two_wrappers_kept"),
        pytest.param("C..", "C", id="trailing_periods"),
    ],
)
def test_strip_wrappers(text, expected):
    assert strip_wrappers(text) == expected
