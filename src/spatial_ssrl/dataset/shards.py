"""One shard of a build: its job description and the function that makes its samples and writes them.

A shard's samples are a pure function of (seed, source id, task, index), so `run_shard` writes the same
bytes in any process, in any order; every engine (`dataset.engines`) calls it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks in worker processes too)
from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.schema import SCHEMA, SPLITS, sample_to_row
from spatial_ssrl.engine.loader import import_task_modules
from spatial_ssrl.engine.registry import run_task
from spatial_ssrl.engine.sample import Rejection, Source, SourceError
from spatial_ssrl.sources.discover import SourceRef

TOPUP_INDEX_STRIDE = 1_000_000  # round r uses sample indices from r * stride: never reused


@dataclass
class ShardJob:
    """One unit of work: a round's shard number, its sources with their wanted samples per task, and their splits."""

    round: int
    shard: int
    refs: list[SourceRef]
    quotas: list[dict[str, int]]
    splits: list[str]


def _name(split: str, job: ShardJob) -> str:
    suffix = "" if job.round == 0 else f"-topup{job.round}"
    return f"{split}-{job.shard:05d}{suffix}.parquet"


def _attempts(source: Source, task: str, wanted: int, first_index: int, config: BuildConfig, stats: dict):
    """Yield up to `wanted` samples, trying indices first_index, first_index + 1, ..."""
    accepted = 0
    for index in range(first_index, first_index + wanted * config.max_attempts):
        try:
            result = run_task(
                task, source, seed=config.seed, index=index, variant_weights=config.variant_weights.get(task)
            )
        except Exception as err:  # a task bug on one odd source must not end the whole run
            result = Rejection(task, f"error.{type(err).__name__}", f"{source.id}: {err}")
        if isinstance(result, Rejection):
            stats["rejections"][result.reason] += 1
            continue
        yield result
        accepted += 1
        if accepted == wanted:
            return


def run_shard(job: ShardJob, config: BuildConfig) -> dict:
    """Generate one shard's samples and write its parquet files atomically. Returns its statistics."""
    start = time.perf_counter()
    import_task_modules(config.task_modules)  # user tasks, in a fresh worker process (a no-op when loaded)
    stats = {"rejections": Counter(), "source_errors": {}, "shortfall": {}}
    rows: dict[str, list[dict]] = {s: [] for s in SPLITS}
    first_index = job.round * TOPUP_INDEX_STRIDE
    for ref, quota, split in zip(job.refs, job.quotas, job.splits):
        if not quota:
            continue
        try:
            source = ref.load(max_side=config.max_side)
        except SourceError as err:
            stats["source_errors"][ref.id] = str(err)
            stats["rejections"]["source.unreadable"] += 1
            for task, n in quota.items():
                stats["shortfall"].setdefault(task, {})[ref.id] = n
            continue
        for task, wanted in quota.items():
            got = 0
            for sample in _attempts(source, task, wanted, first_index, config, stats):
                rows[split].append(sample_to_row(sample, split, config.image_format, config.jpeg_quality))
                got += 1
            if got < wanted:
                stats["shortfall"].setdefault(task, {})[ref.id] = wanted - got
    data = Path(config.out_dir) / "data"
    files = {}
    for split, split_rows in rows.items():
        if split_rows:
            path = data / _name(split, job)
            tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
            pq.write_table(pa.Table.from_pylist(split_rows, schema=SCHEMA), tmp)
            os.replace(tmp, path)
            files[path.name] = _summarise(split_rows)
    return {
        "round": job.round,
        "shard": job.shard,
        "files": files,
        "rejections": dict(stats["rejections"]),
        "source_errors": stats["source_errors"],
        "shortfall": stats["shortfall"],
        "seconds": round(time.perf_counter() - start, 3),
    }


def _summarise(rows: list[dict]) -> dict:
    return {
        "samples": len(rows),
        "per_task": dict(Counter(r["task"] for r in rows)),
        "per_variant": dict(Counter(f"{r['task']}/{r['variant']}" for r in rows)),
        "answers": dict(Counter(f"{r['task']}\0{r['answer']}" for r in rows)),
    }


def run_shard_star(args: tuple[ShardJob, BuildConfig]) -> dict:
    """`run_shard(*args)`, for pool maps that pass one argument."""
    return run_shard(*args)
