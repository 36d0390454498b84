"""Scoring of hand-made predictions for every answer kind, numeric edge cases included."""

from __future__ import annotations

import pytest

from spatial_ssrl.evaluate.items import EvalItem
from spatial_ssrl.evaluate.scoring import mean_relative_accuracy, score_item
from spatial_ssrl.evaluate.summary import summarize
from tests.fixtures.timing import cpu_seconds

COT = "<think>I compared the two objects.</think> \\boxed{{{}}}"


def item(kind="choice", answer="B", **kw) -> EvalItem:
    return EvalItem(benchmark="t", id="0", question="q", answer=answer, kind=kind, **kw)


def right(it: EvalItem, response: str) -> float:
    return score_item(it, response)["score"]


@pytest.mark.parametrize(
    "response, expected",
    [
        (COT.format("B"), 1.0),
        (COT.format("(B)"), 1.0),
        ("B", 1.0),  # direct mode
        ("The answer is B.", 1.0),
        (COT.format("the table"), 1.0),  # the option's text
        (COT.format("A"), 0.0),
        ("<think>B or A</think> \\boxed{B} \\boxed{A}", 0.0),  # a hedge
        ("<think>never closed \\boxed{B}", 0.0),
        ("", 0.0),
    ],
)
def test_choice(response, expected):
    assert right(item(options={"A": "the chair", "B": "the table"}), response) == expected


@pytest.mark.parametrize(
    "response, expected",
    [(COT.format("Yes"), 1.0), ("yes, there is one.", 1.0), ("No.", 0.0), (COT.format("no"), 0.0), ("maybe", 0.0)],
)
def test_yes_no(response, expected):
    assert right(item("yesno", "Yes"), response) == expected


QSPATIAL = {"metric": "within_factor", "factor": 2.0}


@pytest.mark.parametrize(
    "response, expected",
    [
        (COT.format("1.5 m"), 1.0),
        (COT.format("3 meters"), 1.0),  # exactly 2x: in
        (COT.format("0.75 m"), 1.0),  # exactly half: in
        (COT.format("3.01 m"), 0.0),  # just over 2x: out
        (COT.format("0.74 m"), 0.0),  # just under half: out
        (COT.format("300 cm"), 1.0),  # units convert: 300 cm = 2x 1.5 m
        (COT.format("301 cm"), 0.0),
        (COT.format("59 inches"), 1.0),  # 1.4986 m
        (COT.format("1.5"), 1.0),  # a bare number is read in the answer's unit
        (COT.format("0 m"), 0.0),  # zero is never within a factor
        (COT.format("-1.5 m"), 0.0),  # nor a negative length
        ("\\scalar{2.0} \\distance_unit{meters}", 1.0),  # QSpatial's own answer notation
        (COT.format("far"), 0.0),
    ],
)
def test_qspatial_factor_two(response, expected):
    assert right(item("number", "1.5 meters", extra=QSPATIAL), response) == expected


def test_qspatial_centimetre_truth():
    it = item("number", "80 centimeters", extra=QSPATIAL)
    assert right(it, COT.format("1.6 m")) == 1.0 and right(it, COT.format("1.61 m")) == 0.0
    assert right(it, COT.format("40 cm")) == 1.0 and right(it, COT.format("39 cm")) == 0.0


def test_exact_number():
    it = item("number", "3", extra={"metric": "exact"})
    assert right(it, COT.format("3")) == 1.0 and right(it, "3.0") == 1.0
    assert right(it, COT.format("4")) == 0.0 and right(it, "three") == 0.0


@pytest.mark.parametrize(
    "pred, gt, expected",
    [
        (10.0, 10.0, 1.0),
        (10.5, 10.0, 1.0),  # 5% off: within every threshold (1 - 0.95 = 0.05)
        (15.0, 10.0, 0.1),  # 50% off: only θ = 0.50 counts, since the official rule is `<=`
        (14.9, 10.0, 0.1),
        (15.1, 10.0, 0.0),
        (5.0, 10.0, 0.1),
        (12.0, 10.0, 0.6),  # 20% off: θ in 0.50..0.75
        (-10.0, 10.0, 0.0),
        (0.0, 0.0, 1.0),  # zero truth: right only when exactly zero
        (0.1, 0.0, 0.0),
        (None, 10.0, 0.0),
    ],
)
def test_mean_relative_accuracy(pred, gt, expected):
    assert mean_relative_accuracy(pred, gt) == pytest.approx(expected)


def test_mra_items_convert_units():
    distance = item("number", "2.0", extra={"metric": "mra", "unit": "m"})
    assert right(distance, COT.format("2")) == 1.0
    assert right(distance, COT.format("200 cm")) == 1.0
    assert right(distance, "3 meters") == pytest.approx(0.1)
    size = item("number", "40", extra={"metric": "mra", "unit": "cm"})
    assert right(size, COT.format("0.4 m")) == 1.0 and right(size, "40") == 1.0
    count = item("number", "4", extra={"metric": "mra", "unit": None})
    assert right(count, COT.format("4 chairs")) == 1.0 and right(count, "no idea") == 0.0


def test_text_and_open():
    it = item("text", "dark-red")
    assert right(it, COT.format("Dark red")) == 1.0 and right(it, "red") == 0.0
    assert right(item("open", ""), "anything") is None


def test_pretext_reward_and_direct_answers():
    it = item("pretext:permutation", "0-2-3-1")
    full = score_item(it, COT.format("0-2-3-1"))
    assert full["score"] == 1.0 and full["format"] == 1.0
    direct = score_item(it, "0, 2, 3, 1")  # direct mode: no box, no think
    assert direct["score"] == 1.0 and direct["format"] == 0.0
    assert right(it, COT.format("0-2-1-3")) == 0.0
    choice = item("pretext:choice", "C", options={"A": "Front", "B": "Back", "C": "Left", "D": "Right"})
    assert right(choice, COT.format("Left")) == 1.0


def test_format_rate_in_scores():
    it = item(options={"A": "x", "B": "y"})
    assert score_item(it, COT.format("B"))["format"] == 1.0
    assert score_item(it, "B")["format"] == 0.0
    assert score_item(it, COT.format("B"))["pred"] == "B"


def _rec(cat, sub, score, fmt=1.0):
    return {"category": cat, "subcategory": sub, "score": score, "format": fmt}


def test_summaries_micro_and_macro():
    records = [
        _rec("rel_dir", "rel_dir_easy", 1.0),
        _rec("rel_dir", "rel_dir_easy", 1.0),
        _rec("rel_dir", "rel_dir_hard", 0.0),
        _rec("count", "count", 0.5),
        _rec("count", "count", 0.1, fmt=0.0),
    ]
    micro = summarize(records, "micro")
    assert micro["score"] == pytest.approx(2.6 / 5) and micro["format_rate"] == pytest.approx(0.8)
    assert micro["by_category"]["rel_dir"]["score"] == pytest.approx(2 / 3)
    macro = summarize(records, "macro")
    # VSI-Bench: levels averaged into their type (1.0 and 0.0 -> 0.5), then types averaged (0.5, 0.3).
    assert macro["by_category"]["rel_dir"]["score"] == pytest.approx(0.5)
    assert macro["score"] == pytest.approx(0.4)
    assert macro["accuracy"] == pytest.approx(2.6 / 5)
    assert summarize([_rec("x", "", None)], "micro")["n"] == 0  # unscored items do not count


def test_qspatial_notation_hedges_score_zero():
    """Disagreeing scalars or units are two answers; notation inside the think block is reasoning;
    the same scalar written twice is one answer."""
    it = item("number", "1.5 meters", extra=QSPATIAL)
    hedges = {
        "two_scalars": "\\scalar{1} \\scalar{3} \\distance_unit{meters}",
        "two_units": "\\scalar{1.5} \\distance_unit{feet} \\distance_unit{meters}",
        "scalar_spam": "\\scalar{1.5} " * 9 + "\\distance_unit{meters}",
        "only_in_think": "<think>\\scalar{1.5} \\distance_unit{meters}</think> I am not sure.",
    }
    assert {name: right(it, response) for name, response in hedges.items()} == dict.fromkeys(hedges, 0.0)
    assert right(it, "<think>r</think>\\scalar{2.0} \\distance_unit{meters}, so \\scalar{2.0}") == 1.0


def test_each_response_is_scanned_once(monkeypatch):
    """Format, answer and match read one parse of the response, whatever the kind."""
    from spatial_ssrl.rewards import extract

    calls = []
    real = extract.find_think_tags
    monkeypatch.setattr(extract, "find_think_tags", lambda text: calls.append(1) or real(text))
    kinds = [
        item(options={"A": "x", "B": "y"}),
        item("yesno", "yes"),
        item("number", "1.5 meters", extra=QSPATIAL),
        item("number", "2", extra={"metric": "mra", "unit": "m"}),
        item("text", "red"),
        item("pretext:permutation", "0-2-3-1"),
    ]
    for it in kinds:
        calls.clear()
        score_item(it, "<think>r</think> the answer is B")
        assert len(calls) == 1, it.kind


def test_scoring_whitespace_after_a_cue_is_linear():
    """A 16x longer hostile answer costs under 40x the time (2.5x the cost of 16 short ones)."""
    it = item(options={"A": "x", "B": "y"})
    make = lambda n: "<think>r</think>The answer is" + " " * n + "!"  # noqa: E731
    func = lambda t: score_item(it, t)  # noqa: E731
    ratio = cpu_seconds(func, make(512 * 16), 1) / max(cpu_seconds(func, make(512), 16), 1e-6)
    assert ratio < 2.5, f"16x input took {16 * ratio:.0f}x the time"
