"""Summaries of scored records: the overall score, and tables per category and subcategory.

Benchmark modules build their official breakdowns from `score_table` and `mean`; `summarize` is the
generic summary every benchmark gets unless its module forms the score differently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any


def mean(values: list[float]) -> float | None:
    """The mean of `values`, or None when there are none."""
    return sum(values) / len(values) if values else None


def summarize(records: list[dict[str, Any]], aggregate: str = "micro") -> dict[str, Any]:
    """Overall score, accuracy (mean over items), format rate, and the same per category/subcategory."""
    scored = [r for r in records if r["score"] is not None]
    by_cat: dict[str, list] = defaultdict(list)
    by_sub: dict[str, list] = defaultdict(list)
    for r in scored:
        by_cat[r["category"]].append(r)
        if r["subcategory"]:
            by_sub[r["subcategory"]].append(r)

    def block(rs: list[dict]) -> dict[str, Any]:
        return {
            "n": len(rs),
            "accuracy": mean([r["score"] for r in rs]),
            "format_rate": mean([r["format"] for r in rs]),
        }

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
