"""Summaries of scored records: the overall score, and tables per category and subcategory.

Benchmark modules build their official breakdowns from `score_table` and `mean`; `summarize` is the
generic summary every benchmark gets unless its module forms the score differently.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any


def mean(values: list[float]) -> float | None:
    """The mean of `values`, or None when there are none."""
    return sum(values) / len(values) if values else None


Z_95 = 1.959963984540054  # the standard normal quantile of 0.975


def wilson_interval(successes: float, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a binomial proportion (95% by default), or None when n is 0.

    Unlike the normal approximation it stays inside [0, 1] and is usable at 0 or n successes, which small
    held-out splits and near-chance accuracies produce."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarize(records: list[dict[str, Any]], aggregate: str = "micro") -> dict[str, Any]:
    """Overall score, accuracy (mean over items), format rate, and the same per category/subcategory.

    When every score is 0 or 1, each block also has `ci95`, the Wilson interval of its accuracy; when the
    records carry a `chance` level (pretext tasks), each block has `chance`, the mean over its items."""
    scored = [r for r in records if r["score"] is not None]
    by_cat: dict[str, list] = defaultdict(list)
    by_sub: dict[str, list] = defaultdict(list)
    for r in scored:
        by_cat[r["category"]].append(r)
        if r["subcategory"]:
            by_sub[r["subcategory"]].append(r)

    def block(rs: list[dict]) -> dict[str, Any]:
        out = {
            "n": len(rs),
            "accuracy": mean([r["score"] for r in rs]),
            "format_rate": mean([r["format"] for r in rs]),
        }
        if rs and all(r["score"] in (0, 1) for r in rs):
            out["ci95"] = list(wilson_interval(sum(r["score"] for r in rs), len(rs)))
        chances = [r["chance"] for r in rs if r.get("chance") is not None]
        if rs and len(chances) == len(rs):
            out["chance"] = mean(chances)
        return out

    subs = {k: {**block(v), "score": block(v)["accuracy"]} for k, v in sorted(by_sub.items())}
    cats = {}
    for cat, rs in sorted(by_cat.items()):
        entry = block(rs)
        entry["score"] = entry["accuracy"]
        if aggregate == "macro":
            parts = sorted({r["subcategory"] for r in rs if r["subcategory"]})
            if parts:
                entry["score"] = mean([subs[p]["score"] for p in parts])
        cats[cat] = entry
    overall = block(scored)
    if aggregate == "macro":
        overall["score"] = mean([c["score"] for c in cats.values()])
    else:
        overall["score"] = overall["accuracy"]
    return {**overall, "aggregate": aggregate, "by_category": cats, "by_subcategory": subs}


def score_table(records: Iterable[dict], key: Callable[[dict], str | None]) -> dict[str, dict[str, Any]]:
    """{row: {"n", "score"}} over the records whose `key` is not None (records with a None score are left out),
    rows sorted by name: a breakdown table."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        k = key(r)
        if k is not None and r.get("score") is not None:
            groups[k].append(r["score"])
    return {k: {"n": len(v), "score": mean(v)} for k, v in sorted(groups.items())}
