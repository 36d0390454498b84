"""Run benchmarks through a backend with a per-item predictions cache, score, and write results.

Layout of an output folder (one per model and prompt mode):

    OUT/run.json                      model, backend, mode (a rerun must match: no mixing of runs)
    OUT/results.json, OUT/results.md  every benchmark evaluated into OUT so far
    OUT/<benchmark>/predictions.jsonl {"id", "response"} per line, appended and flushed per batch
    OUT/<benchmark>/scored.jsonl      per item: answer, extracted prediction, score, format
    OUT/<benchmark>/results.json, results.md

Items whose id is already in predictions.jsonl are not generated again, so an interrupted run resumes
where it stopped and a finished run only re-scores (a TransformersBackend then never loads the model).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from spatial_ssrl.evaluate.backends import Backend, plan_batches
from spatial_ssrl.evaluate.items import Benchmark
from spatial_ssrl.evaluate.prompts import MODES
from spatial_ssrl.evaluate.scoring import score_item


class RunMismatch(ValueError):
    """The output folder holds predictions of another model or prompt mode."""


def bench_dir(out_dir: Path, name: str) -> Path:
    """The folder of benchmark `name` under `out_dir`, its name made safe for a file system."""
    return Path(out_dir) / re.sub(r"[^A-Za-z0-9._+-]+", "_", name)


def load_cache(path: Path) -> dict[str, str]:
    """id -> response from a predictions file. A line cut short by an interruption is dropped (and
    truncated away, so the next append starts on a fresh line)."""
    if not path.exists():
        return {}
    raw = path.read_bytes()
    if raw and not raw.endswith(b"\n"):
        raw = raw[: raw.rfind(b"\n") + 1]
        path.write_bytes(raw)
    cache: dict[str, str] = {}
    for line in raw.decode("utf-8").splitlines():
        try:
            record = json.loads(line)
            cache[str(record["id"])] = record["response"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return cache


def _check_run(out_dir: Path, info: dict[str, Any]) -> None:
    path = out_dir / "run.json"
    if path.exists():
        old = json.loads(path.read_text())
        for key in ("model", "mode"):
            if old.get(key) != info.get(key):
                raise RunMismatch(
                    f"{out_dir} holds predictions for {key}={old.get(key)!r}, not {info.get(key)!r}: "
                    "use another --out (cached predictions of different runs must not mix)"
                )
        info = {**old, **info}
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))


def generate_missing(
    bench: Benchmark, backend: Backend, out_dir: Path, mode: str, progress: bool = True
) -> dict[str, str]:
    """Generate the items not yet cached, appending each batch to the cache as soon as it is done."""
    path = bench_dir(out_dir, bench.name) / "predictions.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    cache = load_cache(path)
    pending = [it for it in bench.items if it.id not in cache]
    if not pending:
        return cache
    from tqdm import tqdm

    bar = tqdm(total=len(pending), desc=bench.name, unit="item", disable=not progress)
    with open(path, "a", encoding="utf-8") as fh:
        for batch in plan_batches(pending, backend.batch_size):
            responses = backend.generate(batch, mode)
            for item, response in zip(batch, responses):
                cache[item.id] = response
                fh.write(json.dumps({"id": item.id, "response": response}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())  # a batch that was paid for survives a crash of the machine too
            bar.update(len(batch))
    bar.close()
    return cache


def _mean(values: list[float]) -> float | None:
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
            "accuracy": _mean([r["score"] for r in rs]),
            "format_rate": _mean([r["format"] for r in rs]),
        }

    subs = {k: {**block(v), "score": block(v)["accuracy"]} for k, v in sorted(by_sub.items())}
    cats = {}
    for cat, rs in sorted(by_cat.items()):
        entry = block(rs)
        entry["score"] = entry["accuracy"]
        if aggregate == "macro":
            parts = sorted({r["subcategory"] for r in rs if r["subcategory"]})
            if parts:
                entry["score"] = _mean([subs[p]["score"] for p in parts])
        cats[cat] = entry
    overall = block(scored)
    if aggregate == "macro":
        overall["score"] = _mean([c["score"] for c in cats.values()])
    else:
        overall["score"] = overall["accuracy"]
    return {**overall, "aggregate": aggregate, "by_category": cats, "by_subcategory": subs}


def score_benchmark(bench: Benchmark, predictions: dict[str, str]) -> tuple[list[dict], dict[str, Any]]:
    """Score every item of `bench` against `predictions` (id -> response; a missing id scores 0).

    Returns:
        The per-item records (scored.jsonl) and the summary (`summarize`, plus `missing` and `source`).
    """
    records = []
    for item in bench.items:
        response = predictions.get(item.id)
        result = score_item(item, response)
        records.append(
            {
                "id": item.id,
                "category": item.category,
                "subcategory": item.subcategory,
                "kind": item.kind,
                "answer": item.answer,
                "pred": result["pred"],
                "score": result["score"],
                "format": result["format"],
                "missing": response is None,
            }
        )
    summary = summarize(records, bench.aggregate)
    summary["missing"] = sum(r["missing"] for r in records)
    summary["source"] = bench.source
    return records, summary


def percent_text(value: float | None) -> str:
    """A fraction as a percentage with two decimals for tables ("—" for None)."""
    return "—" if value is None else f"{100 * value:.2f}"


def benchmark_markdown(name: str, summary: dict[str, Any]) -> str:
    """One benchmark's summary as Markdown: the overall line, then tables per category and subcategory."""
    lines = [
        f"### {name}",
        "",
        f"score **{percent_text(summary['score'])}** ({summary['aggregate']}), "
        f"accuracy {percent_text(summary['accuracy'])}, "
        f"format {percent_text(summary['format_rate'])}, n = {summary['n']}",
        "",
    ]
    for title, table in (("category", summary["by_category"]), ("subcategory", summary["by_subcategory"])):
        if not table or (title == "subcategory" and set(table) <= set(summary["by_category"])):
            continue
        lines += [f"| {title} | n | score | format |", "|---|---:|---:|---:|"]
        lines += [
            f"| {k or '(none)'} | {v['n']} | {percent_text(v['score'])} | {percent_text(v['format_rate'])} |"
            for k, v in table.items()
        ]
        lines.append("")
    return "\n".join(lines)


def results_markdown(results: dict[str, Any]) -> str:
    """results.md: a table of every benchmark of the run, then each benchmark's section."""
    run = results.get("run", {})
    lines = [f"# Results: {run.get('model', '?')} ({run.get('mode', '?')} prompts)", ""]
    lines += ["| benchmark | n | score | format |", "|---|---:|---:|---:|"]
    for name, s in results["benchmarks"].items():
        lines.append(f"| {name} | {s['n']} | {percent_text(s['score'])} | {percent_text(s['format_rate'])} |")
    lines.append("")
    lines += [benchmark_markdown(name, s) for name, s in results["benchmarks"].items()]
    return "\n".join(lines)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(tmp, path)


def evaluate(
    benchmarks: list[Benchmark],
    backend: Backend,
    out_dir: str | Path,
    mode: str = "cot",
    progress: bool = True,
) -> dict[str, Any]:
    """Generate what is missing, score everything, write the results; returns results.json's content."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    out_dir = Path(out_dir)
    info = {**backend.describe(), "mode": mode}
    _check_run(out_dir, info)
    results_path = out_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"benchmarks": {}}
    for bench in benchmarks:
        started = time.perf_counter()
        predictions = generate_missing(bench, backend, out_dir, mode, progress)
        records, summary = score_benchmark(bench, predictions)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        folder = bench_dir(out_dir, bench.name)
        with open(folder / "scored.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        _write_json(folder / "results.json", {"run": info, "benchmark": bench.name, **summary})
        (folder / "results.md").write_text(benchmark_markdown(bench.name, summary) + "\n")
        results["benchmarks"][bench.name] = summary
    results["run"] = json.loads((out_dir / "run.json").read_text())
    _write_json(results_path, results)
    (out_dir / "results.md").write_text(results_markdown(results))
    return results
