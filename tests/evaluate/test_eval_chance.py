"""Chance levels per task and variant, and the 95% intervals every binary score block carries."""

from __future__ import annotations

import itertools

import pytest

import spatial_ssrl.tasks  # noqa: F401 - registers the built-in tasks
from spatial_ssrl.engine.registry import default_chance, get_task
from spatial_ssrl.evaluate.summary import summarize, wilson_interval


def answer_space(task: str, variant: str, n_labels: int) -> int:
    """The number of answers a task can ask for, counted from its definition (docs/tasks.md)."""
    if task == "shuffle":
        return sum(1 for p in itertools.permutations(range(n_labels)) if list(p) != list(range(n_labels)))
    if task == "depth_order":
        return len(list(itertools.permutations(range(1, n_labels + 1))))
    if task == "flip":
        return 4 * 2  # four pieces, two directions
    return 4  # crop, position: four lettered options


@pytest.mark.parametrize(
    ("task", "variant", "answer", "options"),
    [
        ("shuffle", "2x2", "0-2-3-1", None),
        ("shuffle", "2x2_blank", "3-2-1-0", None),
        ("shuffle", "strips_row", "2-0-1", None),
        ("shuffle", "strips_row", "3-0-1-2", None),
        ("shuffle", "strips_column", "1-0-2", None),
        ("flip", "vertical", "2-0", None),
        ("flip", "horizontal", "0-1", None),
        ("depth_order", "three_regions", "3-1-2", None),
        ("crop", "square", "C", {"A": "a", "B": "b", "C": "c", "D": "d"}),
        ("position", "cardinal", "B", {"A": "Front", "B": "Back", "C": "Left", "D": "Right"}),
        ("position", "diagonal", "D", {"A": "Left-Front", "B": "Right-Front", "C": "Left-Back", "D": "Right-Back"}),
    ],
)
def test_chance_is_one_over_the_answer_space(task, variant, answer, options):
    spec = get_task(task)
    assert variant in spec.variants
    row = {"answer": answer, "options": options, "variant": variant, "answer_type": spec.answer_type}
    n_labels = len(answer.split("-"))
    assert spec.chance_of(row) == pytest.approx(1 / answer_space(task, variant, n_labels))


def test_default_chance_by_answer_type():
    assert default_chance({"answer": "A", "options": '{"A": "x", "B": "y"}'}, "choice") == 0.5
    assert default_chance({"answer": "1-2-3-4"}, "permutation") == pytest.approx(1 / 24)
    assert default_chance({"answer": "1-0"}, "label_direction") is None  # the task must say


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    # Reference values of the Wilson score interval at 95% (z = 1.96), Newcombe (1998), Table I.
    [(0, 10, 0.0, 0.2775), (1, 29, 0.0061, 0.1718), (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605)],
)
def test_wilson_interval_matches_reference_values(k, n, lo, hi):
    got = wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_blocks_carry_chance_and_interval():
    records = [
        {"score": float(i % 3 == 0), "format": 1, "category": "flip", "subcategory": "flip/vertical", "chance": 1 / 8}
        for i in range(30)
    ]
    summary = summarize(records)
    block = summary["by_category"]["flip"]
    assert block["chance"] == pytest.approx(1 / 8) and summary["chance"] == pytest.approx(1 / 8)
    assert block["ci95"] == pytest.approx(list(wilson_interval(10, 30)))
    assert "ci95" not in summarize([{**records[0], "score": 0.5}])  # MRA-style partial scores: no binomial CI
