"""What every study shares: running project commands as resumable stages, and the statistics of scored items."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.evaluate.summary import wilson_interval


class StudyError(RuntimeError):
    """A stage failed or its folder holds another study's output (the message says which)."""


def run_command(args: list[str]) -> None:
    code = ssrl(args)
    if code != 0:
        raise StudyError(f"`ssrl {' '.join(args[:2])} ...` exited with {code}")


def stage(folder: Path, settings: dict[str, Any], work) -> dict[str, Any]:
    """Run `work()` unless `folder/stage.json` records a finished run with these settings; returns its record."""
    record_path = folder / "stage.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("settings") != settings:
            raise StudyError(f"{folder} was made with other settings: delete it to run this stage again")
        return record
    started = time.perf_counter()
    extra = work() or {}
    record = {"settings": settings, "seconds": round(time.perf_counter() - started, 1), **extra}
    folder.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=2))
    return record


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file (`ssrl eval`'s scored.jsonl)."""
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def training_record(folder: Path) -> dict[str, Any]:
    """Steps and train_runtime of a training run, from its metrics.jsonl (the trainer's final record)."""
    from spatial_ssrl.train.metrics import read_metrics

    records = read_metrics(folder)
    final = next((r for r in reversed(records) if "train_runtime" in r), {})
    return {"steps": final.get("step"), "train_runtime": final.get("train_runtime")}


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval of p1 - p2 from the two Wilson intervals (Newcombe 1998, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    lower = (p1 - p2) - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = (p1 - p2) + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper


def task_table(records: list[dict]) -> dict[str, dict[str, Any]]:
    """Per task and "all": n, correct, accuracy, its Wilson 95% interval, and the mean chance level."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["category"], []).append(r)
    groups["all"] = list(records)
    table = {}
    for task, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        k, n = int(sum(r["score"] for r in rs)), len(rs)
        lo, hi = wilson_interval(k, n)
        chance = sum(r["chance"] for r in rs) / n
        table[task] = {"n": n, "correct": k, "accuracy": k / n, "ci95": [lo, hi], "chance": chance}
        table[task]["above"] = lo > chance
        table[task]["format"] = sum(float(r.get("format", 0.0)) for r in rs) / n  # answer in the asked format
        # The best a constant answer can score here: the share of the most frequent correct answer. Balanced
        # answers keep it near chance; a model stuck on one answer scores at most this.
        gold = Counter(r["answer"] for r in rs)
        table[task]["best_constant"] = gold.most_common(1)[0][1] / n
        # Diagnosis: a model that gives one answer to every question of a balanced task scores chance exactly.
        preds = Counter(r.get("pred") for r in rs)
        top, count = preds.most_common(1)[0]
        table[task]["top_prediction"] = {"answer": top, "share": count / n, "distinct": len(preds)}
    return table


def difference_table(first: dict, second: dict, names: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """Per category of two `task_table`s: both accuracies (under `names`), first - second, Newcombe's interval."""
    diff = {}
    for cat, a in first.items():
        b = second[cat]
        lo, hi = newcombe_difference(a["correct"], a["n"], b["correct"], b["n"])
        diff[cat] = {names[0]: a["accuracy"], names[1]: b["accuracy"], "difference": a["accuracy"] - b["accuracy"]}
        diff[cat]["ci95"] = [lo, hi]
    return diff
