"""A small, deterministic dataset build: sources x tasks -> parquet + stats + preview.

Every sample is a pure function of (seed, source id, task, attempt index), so the output does not
depend on the order in which sources are processed. A source that cannot be read is recorded in
the stats and skipped; it never stops the run.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from spatial_ssrl import __version__
from spatial_ssrl.inputs import SourceRef
from spatial_ssrl.registry import get_task, list_tasks, run_task
from spatial_ssrl.sample import Rejection, Sample, Source, SourceError
from spatial_ssrl.schema import SCHEMA, sample_to_row


@dataclass
class BuildConfig:
    out_dir: Path
    seed: int = 0
    samples_per_task: int = 2  # accepted samples wanted per (source, task)
    tasks: list[str] = field(default_factory=list_tasks)
    max_attempts: int = 6  # attempts per wanted sample before giving up on a (source, task)
    image_format: str = "jpeg"  # "jpeg" (quality 95, no chroma subsampling) or "png" (lossless)
    jpeg_quality: int = 95
    # task -> {variant: weight}; a task not listed uses its registered default (the paper's mix)
    variant_weights: dict[str, dict[str, float]] = field(default_factory=dict)


def samples_for_source(source: Source, config: BuildConfig, rejections: Counter) -> Iterator[Sample]:
    for task in config.tasks:
        spec = get_task(task)
        if spec.needs_depth and not source.has_depth:
            continue
        accepted, attempt = 0, 0
        while accepted < config.samples_per_task and attempt < config.samples_per_task * config.max_attempts:
            try:
                result = run_task(
                    task, source, seed=config.seed, index=attempt, variant_weights=config.variant_weights.get(task)
                )
            except Exception as err:  # a task bug on one odd source must not end the whole run
                result = Rejection(task, f"error.{type(err).__name__}", f"{source.id}: {err}")
            attempt += 1
            if isinstance(result, Rejection):
                rejections[result.reason] += 1
                continue
            accepted += 1
            yield result


def build(config: BuildConfig, sources: list[SourceRef]) -> dict:
    """Generate samples from every source and write `data/train.parquet`, `stats.json`, `preview.html`."""
    out = Path(config.out_dir)
    (out / "data").mkdir(parents=True, exist_ok=True)
    for task in config.tasks:
        get_task(task)  # fail fast on a typo
    rows: list[dict] = []
    rejections: Counter = Counter()
    source_errors: dict[str, str] = {}
    start = time.perf_counter()
    bar = tqdm(sources, desc="generate", unit="source", dynamic_ncols=True)
    for ref in bar:
        try:
            source = ref.load()
        except SourceError as err:
            source_errors[ref.id] = str(err)
            rejections["source.unreadable"] += 1
            continue
        for sample in samples_for_source(source, config, rejections):
            rows.append(sample_to_row(sample, "train", config.image_format, config.jpeg_quality))
        bar.set_postfix(samples=len(rows), rejected=sum(rejections.values()))
    rows.sort(key=lambda r: r["id"])  # a stable order, whatever the order of work
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    tmp = out / "data" / "train.parquet.tmp"
    pq.write_table(table, tmp)
    tmp.replace(out / "data" / "train.parquet")
    stats = {
        "tool_version": __version__,
        "seed": config.seed,
        "samples": len(rows),
        "per_task": dict(sorted(Counter(r["task"] for r in rows).items())),
        "per_variant": dict(sorted(Counter(f"{r['task']}/{r['variant']}" for r in rows).items())),
        "answers": {
            t: dict(sorted(Counter(r["answer"] for r in rows if r["task"] == t).items())) for t in config.tasks
        },
        "rejections": dict(sorted(rejections.items())),
        "source_errors": source_errors,
        "sources": len(sources),
        "seconds": round(time.perf_counter() - start, 2),
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    from spatial_ssrl.preview import write_preview

    write_preview(out / "data" / "train.parquet", out / "preview.html")
    return stats
