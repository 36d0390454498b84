"""The dataset builder: sources x tasks -> sharded parquet, dataset card, stats and preview.

How a build is laid out, top to bottom:
1. Plan. Sources are sorted by id and each gets a split from a hash of its id (no source in two
   splits). With a total sample count, each task's share (the paper's mix by default) is spread
   over the sources that can serve it in a seeded order (the default mix: each task's registered
   `mix_weight`); otherwise every source gets
   `samples_per_task` per eligible task.
2. Shard. Consecutive sources are grouped into shards of bounded size. A shard is the unit of work,
   of memory and of resume: its samples are a pure function of (seed, source id, task, index), so
   it produces the same bytes in any process, in any order.
3. Run (`shards.run_shard`, on an engine from `engines`). Shards run in this process, in `workers`
   processes, or as Ray tasks. Each writes
   `data/{split}-{shard:05d}.parquet` through a temporary file and an atomic rename, then the main
   process records it in `_progress/` (also atomically). A rerun skips recorded shards, so a crash
   or `kill -9` at any moment loses at most the shards in flight and the final output is
   byte-identical to an uninterrupted run.
4. Top up. A source that cannot yield a verifiable sample leaves a shortfall; with a total count,
   further rounds ask other sources of the same task (fresh sample indices) until the total is met.
5. Report. stats.json, the dataset card README.md and preview.html summarise the finished shards.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks)
from spatial_ssrl import __version__
from spatial_ssrl.dataset.card import write_card
from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.engines import ENGINES
from spatial_ssrl.dataset.preview import write_preview
from spatial_ssrl.dataset.schema import SPLITS
from spatial_ssrl.dataset.shards import ShardJob
from spatial_ssrl.engine.registry import default_mix, get_task
from spatial_ssrl.sources.discover import SourceRef

# ---------------------------------------------------------------------------------------------
# 1. Plan


def split_of(source_id: str, fractions: dict[str, float]) -> str:
    """The split of a source: a stable hash of its id, independent of the seed and of other sources."""
    u = int.from_bytes(hashlib.blake2b(source_id.encode(), digest_size=8, person=b"ssrl-split").digest(), "big")
    u /= 2**64
    total = sum(fractions.values())
    acc = 0.0
    for name in SPLITS:
        acc += fractions.get(name, 0.0) / total
        if u < acc:
            return name
    return "train"


def _rank_key(seed: int, source_id: str, task: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{source_id}\0{task}".encode(), digest_size=8).digest()


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Integer counts summing to `total`, proportional to `weights`."""
    wsum = sum(weights.values())
    exact = {k: total * w / wsum for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


def spread(count: int, eligible: list[int], seed: int, task: str, ids: list[str]) -> dict[int, int]:
    """Distribute `count` samples over the eligible source indices, evenly, in a seeded order."""
    if not eligible or count <= 0:
        return {}
    order = sorted(eligible, key=lambda i: _rank_key(seed, ids[i], task))
    base, extra = divmod(count, len(order))
    return {i: base + (rank < extra) for rank, i in enumerate(order) if base + (rank < extra) > 0}


def plan_quotas(config: BuildConfig, refs: list[SourceRef]) -> list[dict[str, int]]:
    """Wanted samples per source and task for round 0."""
    ids = [r.id for r in refs]
    quotas: list[dict[str, int]] = [{} for _ in refs]
    eligible = {t: [i for i, r in enumerate(refs) if r.has_depth or not get_task(t).needs_depth] for t in config.tasks}
    if config.total is None:
        for t, idx in eligible.items():
            for i in idx:
                quotas[i][t] = config.samples_per_task
        return quotas
    mix = (
        default_mix(config.tasks) if config.task_mix is None else {t: config.task_mix.get(t, 0.0) for t in config.tasks}
    )
    if not any(mix.values()):
        raise ValueError(f"task_mix gives no weight to any of the tasks {config.tasks}")
    missing = [t for t, w in mix.items() if w > 0 and not eligible[t]]
    if missing:
        raise ValueError(f"no source can serve task(s) {missing} (depth tasks need RGB-D sources)")
    for t, n in largest_remainder(config.total, {t: w for t, w in mix.items() if w > 0}).items():
        for i, q in spread(n, eligible[t], config.seed, t, ids).items():
            quotas[i][t] = q
    return quotas


def make_shards(quotas: list[dict[str, int]], per_shard: int) -> list[list[int]]:
    """Group consecutive source indices so each shard plans about `per_shard` samples (at least one
    source per shard). Shard boundaries depend only on the plan, never on the number of workers."""
    shards, current, planned = [], [], 0
    for i, q in enumerate(quotas):
        n = sum(q.values())
        if current and planned + n > per_shard:
            shards.append(current)
            current, planned = [], 0
        current.append(i)
        planned += n
    if current:
        shards.append(current)
    return shards


# ---------------------------------------------------------------------------------------------
# Progress records and resume


class BuildMismatch(RuntimeError):
    """The output folder holds a build made with different settings or sources."""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _fingerprint(config: BuildConfig, refs: list[SourceRef]) -> str:
    h = hashlib.sha256(json.dumps(config.identity(), sort_keys=True, default=str).encode())
    for r in refs:
        h.update(json.dumps(asdict(r), sort_keys=True).encode())
    return h.hexdigest()


def _prepare_output(config: BuildConfig, refs: list[SourceRef]) -> Path:
    out = Path(config.out_dir)
    progress = out / "_progress"
    (out / "data").mkdir(parents=True, exist_ok=True)
    progress.mkdir(exist_ok=True)
    fingerprint = _fingerprint(config, refs)
    record = progress / "build.json"
    if record.exists():
        previous = json.loads(record.read_text()).get("fingerprint")
        if previous != fingerprint:
            raise BuildMismatch(
                f"{out} holds a build with other settings or sources; use a new folder or delete it to rebuild"
            )
    else:
        _atomic_write_text(record, json.dumps({"fingerprint": fingerprint, "config": config.identity()}, default=str))
    for stray in (out / "data").glob(".*.tmp-*"):  # partial files of an interrupted run
        stray.unlink()
    return progress


def _run_round(jobs: list[ShardJob], config: BuildConfig, progress: Path, bar: tqdm) -> list[dict]:
    done, todo = [], []
    for job in jobs:
        record = progress / f"r{job.round}-shard-{job.shard:05d}.json"
        if record.exists():
            done.append(json.loads(record.read_text()))
        else:
            todo.append(job)
    bar.update(sum(f["samples"] for r in done for f in r["files"].values()))
    engine = ENGINES[config.engine]
    rejected = sum(sum(r["rejections"].values()) for r in done)
    for result in engine(todo, config):
        _atomic_write_text(progress / f"r{result['round']}-shard-{result['shard']:05d}.json", json.dumps(result))
        done.append(result)
        rejected += sum(result["rejections"].values())
        bar.update(sum(f["samples"] for f in result["files"].values()))
        bar.set_postfix(rejected=rejected, refresh=False)
    return sorted(done, key=lambda r: r["shard"])


def _topup_quotas(results: list[dict], refs: list[SourceRef], config: BuildConfig, round_: int) -> list[dict[str, int]]:
    """Give each task's shortfall to the sources of that task that did not fall short."""
    quotas: list[dict[str, int]] = [{} for _ in refs]
    short_total: Counter = Counter()
    failed: dict[str, set[str]] = {}
    for result in results:
        for task, per_source in result["shortfall"].items():
            short_total[task] += sum(per_source.values())
            failed.setdefault(task, set()).update(per_source)
    bad_sources = {sid for r in results for sid in r["source_errors"]}
    for task, n in short_total.items():
        eligible = [
            i
            for i, r in enumerate(refs)
            if (r.has_depth or not get_task(task).needs_depth)
            and r.id not in failed.get(task, set())
            and r.id not in bad_sources
        ]
        for i, q in spread(n, eligible, config.seed * 1009 + round_ + 1, task, [r.id for r in refs]).items():
            quotas[i][task] = q
    return quotas


def build(config: BuildConfig, sources: Iterable[SourceRef]) -> dict:
    """Build (or resume) a dataset in `config.out_dir`. Returns the statistics written to stats.json."""
    if config.engine not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {config.engine!r}")
    for task in config.tasks:
        get_task(task)  # fail fast on a typo
    refs = sorted(sources, key=lambda r: r.id)
    dupes = [k for k, n in Counter(r.id for r in refs).items() if n > 1]
    if dupes:
        raise ValueError(f"duplicate source ids (first: {dupes[0]!r}); ids must be unique")
    if not refs:
        raise ValueError("no sources to build from")
    start = time.perf_counter()
    progress = _prepare_output(config, refs)
    splits = [split_of(r.id, config.splits) for r in refs]

    quotas = plan_quotas(config, refs)
    planned = sum(sum(q.values()) for q in quotas)
    results: list[dict] = []
    with tqdm(total=planned, desc="generate", unit="sample", dynamic_ncols=True, smoothing=0.1) as bar:
        for round_ in range(config.max_topup_rounds + 1):
            jobs = [
                ShardJob(round_, k, [refs[i] for i in idx], [quotas[i] for i in idx], [splits[i] for i in idx])
                for k, idx in enumerate(make_shards(quotas, config.samples_per_shard))
                if any(quotas[i] for i in idx)
            ]
            results += _run_round(jobs, config, progress, bar)
            if config.total is None:
                break
            quotas = _topup_quotas([r for r in results if r["round"] == round_], refs, config, round_)
            if not any(quotas):
                break

    stats = _merge_stats(results, config, refs, splits, planned, time.perf_counter() - start)
    _atomic_write_text(Path(config.out_dir) / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    write_card(Path(config.out_dir), stats, config)
    if config.preview:
        write_preview(Path(config.out_dir), Path(config.out_dir) / "preview.html", tasks=config.tasks)
    return stats


def _merge_stats(results, config, refs, splits, planned, seconds) -> dict:
    per_task, per_variant, per_split, answers, rejections = Counter(), Counter(), Counter(), {}, Counter()
    errors: dict[str, str] = {}
    for result in results:
        rejections.update(result["rejections"])
        errors.update(result["source_errors"])
        for name, f in result["files"].items():
            per_split[name.split("-")[0]] += f["samples"]
            per_task.update(f["per_task"])
            per_variant.update(f["per_variant"])
            for key, n in f["answers"].items():
                task, answer = key.split("\0")
                answers.setdefault(task, Counter())[answer] += n
    final_short = Counter()
    if config.total is not None and results:
        last = max(r["round"] for r in results)
        for r in results:
            if r["round"] == last:
                for task, per_source in r["shortfall"].items():
                    final_short[task] += sum(per_source.values())
    samples = sum(per_task.values())
    return {
        "tool_version": __version__,
        "seed": config.seed,
        "requested": config.total,
        "planned_round0": planned,
        "samples": samples,
        "shortfall": dict(final_short),
        "per_task": dict(sorted(per_task.items())),
        "per_variant": dict(sorted(per_variant.items())),
        "per_split": {s: per_split.get(s, 0) for s in SPLITS},
        "sources": len(refs),
        "sources_per_split": dict(Counter(splits)),
        "answers": {t: dict(sorted(c.items())) for t, c in sorted(answers.items())},
        "rejections": dict(sorted(rejections.items())),
        "source_errors": dict(sorted(errors.items())[:100]),
        "source_error_count": len(errors),
        "rounds": 1 + max((r["round"] for r in results), default=0),
        "shards": len(results),
        "seconds": round(seconds, 2),
        "samples_per_second": round(samples / seconds, 1) if seconds > 0 else None,
    }
