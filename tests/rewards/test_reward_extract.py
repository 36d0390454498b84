"""Extraction rules: boxes with balanced braces, think tags, the answer part."""

from __future__ import annotations

import pytest

from spatial_ssrl.rewards.extract import (
    MAX_BOX_CHARS,
    MAX_BOXES,
    answer_start,
    boxed_contents,
    find_think_tags,
    last_boxed,
    match_brace,
    parse_response,
)

B = "\\boxed"


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("\\boxed{C}", ("C",), id="simple"),
        pytest.param("x \\boxed{0-2-3-1} y", ("0-2-3-1",), id="text_around"),
        pytest.param("\\boxed{\\frac{1}{2}}", ("\\frac{1}{2}",), id="nested_braces"),
        pytest.param("\\boxed{{{a}}{b}}", ("{{a}}{b}",), id="deeply_nested_braces"),
        pytest.param("\\boxed {x}", ("x",), id="space_before_brace"),
        pytest.param("\\boxed\n\t{x}", ("x",), id="newline_tab_before_brace"),
        pytest.param("\\boxed{}", ("",), id="empty_box_is_a_box"),
        pytest.param("\\boxed{A} and \\boxed{C}", ("A", "C"), id="two_boxes_in_order"),
        pytest.param("\\boxed{\\boxed{A}}", ("\\boxed{A}",), id="nested_box_is_outer_content"),
        pytest.param("\\boxed{\\text{Left-Back}}", ("\\text{Left-Back}",), id="latex_inside"),
        pytest.param("\\fbox{C}", (), id="fbox_is_not_a_box"),
        pytest.param("no box here", (), id="no_box"),
        pytest.param("}{ \\boxed{C}", ("C",), id="stray_braces_before"),
        pytest.param("\\boxed{C} }}{", ("C",), id="stray_braces_after"),
    ],
)
def test_boxed_contents_accepts(text, expected):
    assert boxed_contents(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\\boxed{C", id="unclosed"),
        pytest.param("\\boxed{{C}", id="unbalanced"),
        pytest.param("\\boxed{A} \\boxed{C", id="unclosed_after_complete"),
        pytest.param("\\boxed{A \\boxed{C}", id="unclosed_outer_swallows_inner"),
        pytest.param("\\boxed C", id="no_brace"),
        pytest.param("\\boxed", id="bare_macro_at_end"),
        pytest.param("\\boxedC{C}", id="other_macro_name"),
        pytest.param("\\boxed" + " " * 40 + "{C}", id="gap_too_long"),
        pytest.param("\\boxed{" + "x" * (MAX_BOX_CHARS + 1) + "}", id="content_too_long"),
        pytest.param("\\boxed{C}" * (MAX_BOXES + 1), id="too_many_boxes"),
    ],
)
def test_boxed_contents_rejects(text):
    assert boxed_contents(text) is None


def test_box_content_at_the_length_limit_is_accepted():
    content = "x" * MAX_BOX_CHARS
    assert boxed_contents(f"\\boxed{{{content}}}") == (content,)
    assert boxed_contents("\\boxed{C}" * MAX_BOXES) == ("C",) * MAX_BOXES


def test_match_brace_counts_nesting():
    s = "{a{b}c{d{e}}f}g}"
    assert match_brace(s, 0, len(s)) == s.index("g") - 1
    assert match_brace("{{}", 0, 3) == -1
    assert match_brace("{abc}", 0, 3) == -1  # the limit is exclusive


def test_last_boxed():
    assert last_boxed("\\boxed{A} then \\boxed{B}") == "B"
    assert last_boxed("nothing") is None
    assert last_boxed("\\boxed{A} \\boxed{B") is None


@pytest.mark.parametrize(
    "text, n_open, n_close",
    [
        pytest.param("<think>a</think>", 1, 1, id="exact"),
        pytest.param("< think >a</ think >", 1, 1, id="spaces_inside"),
        pytest.param("<think >a< / think>", 1, 1, id="spaces_around_slash"),
        pytest.param("<\nthink>a<\n/\nthink\n>", 1, 1, id="newlines_inside"),
        pytest.param("<think>a<think>b</think>c</think>d</think>", 2, 2, id="counts_saturate_at_two"),
        pytest.param("I think so. <thinking>", 0, 0, id="words_are_not_tags"),
        pytest.param("<Think>a</THINK>", 0, 0, id="case_sensitive"),
        pytest.param("<" + " " * 20 + "think>", 0, 0, id="too_much_space"),
    ],
)
def test_think_tags(text, n_open, n_close):
    tags = find_think_tags(text)
    assert (tags.n_open, tags.n_close) == (n_open, n_close)


def test_think_tags_on_long_angle_dense_text_fall_back_to_exact_tags():
    text = "<think>reasoning</think>\\boxed{C}" + "<" * 100_000
    tags = find_think_tags(text)
    assert (tags.n_open, tags.n_close, tags.close_end) == (1, 1, len("<think>reasoning</think>"))
    assert parse_response(text).boxes == ("C",)


@pytest.mark.parametrize(
    "text, think_ok, start, boxes",
    [
        pytest.param("<think>r</think>\\boxed{C}", True, 16, ("C",), id="well_formed"),
        pytest.param("  \n<think>r</think> \\boxed{C}.", True, 19, ("C",), id="leading_whitespace"),
        pytest.param("<think>r \\boxed{A}</think>\\boxed{C}", True, 26, ("C",), id="think_box_is_not_an_answer"),
        pytest.param("<think>r \\boxed{C}</think>", True, 26, (), id="box_only_in_think"),
        pytest.param("Sure! <think>r</think>\\boxed{C}", False, 22, ("C",), id="text_before_think"),
        pytest.param("<think>r \\boxed{C}", False, -1, (), id="think_never_closed"),
        pytest.param("<think>  </think>\\boxed{C}", False, 17, ("C",), id="blank_think"),
        pytest.param("r</think>\\boxed{C}", False, 9, ("C",), id="close_without_open"),
        pytest.param("\\boxed{C}", False, 0, ("C",), id="no_tags_whole_text_answers"),
        pytest.param("<think>a</think>\\boxed{A}<think>b</think>\\boxed{C}", False, 16, ("A", "C"), id="two_blocks"),
        pytest.param("</think><think>r</think>\\boxed{C}", False, 8, ("C",), id="close_before_open"),
    ],
)
def test_parse_response(text, think_ok, start, boxes):
    parsed = parse_response(text)
    assert parsed.think_ok is think_ok
    assert parsed.answer_start == start == answer_start(text)
    assert parsed.boxes == boxes
