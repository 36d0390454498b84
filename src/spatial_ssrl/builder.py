"""The dataset builder: sources x tasks -> sharded parquet, dataset card, stats and preview.

How a build is laid out, top to bottom:
1. Plan. Sources are sorted by id and each gets a split from a hash of its id (no source in two
   splits). With a total sample count, each task's share (the paper's mix by default) is spread
   over the sources that can serve it in a seeded order; otherwise every source gets
   `samples_per_task` per eligible task.
2. Shard. Consecutive sources are grouped into shards of bounded size. A shard is the unit of work,
   of memory and of resume: its samples are a pure function of (seed, source id, task, index), so
   it produces the same bytes in any process, in any order.
3. Run. Shards run in this process, in `workers` processes, or as Ray tasks. Each writes
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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from spatial_ssrl import __version__
from spatial_ssrl.inputs import SourceRef
from spatial_ssrl.registry import get_task, list_tasks, run_task
from spatial_ssrl.sample import Rejection, Source, SourceError
from spatial_ssrl.schema import SCHEMA, SPLITS, sample_to_row

# Released Spatial-SSRL-81k counts per task (SPEC section 2): the default mix for a total count.
PAPER_TASK_MIX = {"shuffle": 16028, "flip": 4005, "crop": 20200, "depth_order": 20620, "position": 20200}
TOPUP_INDEX_STRIDE = 1_000_000  # round r uses sample indices from r * stride: never reused


@dataclass
class BuildConfig:
    out_dir: Path
    seed: int = 0
    total: int | None = None  # total samples over all tasks; None = `samples_per_task` per source
    samples_per_task: int = 2  # per source and eligible task, when `total` is None
    tasks: list[str] = field(default_factory=list_tasks)
    task_mix: dict[str, float] = field(default_factory=lambda: dict(PAPER_TASK_MIX))
    # task -> {variant: weight}; a task not listed uses its registered default (the paper's mix)
    variant_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.98, "validation": 0.01, "test": 0.01})
    samples_per_shard: int = 256  # planned samples per shard: bounds memory and the work lost to a crash
    max_attempts: int = 6  # attempts per wanted sample before a (source, task) gives up
    max_topup_rounds: int = 4
    image_format: str = "jpeg"  # "jpeg" (quality 95, no chroma subsampling) or "png" (lossless)
    jpeg_quality: int = 95
    max_side: int | None = None  # downscale sources whose long side exceeds this
    workers: int = 1
    engine: str = "local"  # "local" (this process or a process pool) or "ray"
    preview: bool = True

    def identity(self) -> dict:
        """The fields that decide the output bytes (not how the work is run)."""
        skip = {"out_dir", "workers", "engine", "preview"}
        return {k: v for k, v in asdict(self).items() if k not in skip}


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
    mix = {t: config.task_mix.get(t, 0.0) for t in config.tasks}
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
# 2-3. Run one shard (in any process)


@dataclass
class ShardJob:
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


def _run_shard_star(args: tuple[ShardJob, BuildConfig]) -> dict:
    return run_shard(*args)


# ---------------------------------------------------------------------------------------------
# Engines: where shards run. All of them call `run_shard`, so they write the same bytes.


def run_local(jobs: list[ShardJob], config: BuildConfig) -> Iterator[dict]:
    if config.workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_shard(job, config)
        return
    import multiprocessing as mp

    # spawn: workers start clean (no copied locks or threads from pyarrow in the parent)
    with mp.get_context("spawn").Pool(min(config.workers, len(jobs))) as pool:
        yield from pool.imap_unordered(_run_shard_star, [(job, config) for job in jobs])


def run_ray(jobs: list[ShardJob], config: BuildConfig) -> Iterator[dict]:
    """Shards as Ray Data rows, mapped by the same shard function. On a cluster, `out_dir` must be
    on storage every node can write (NFS, a mounted bucket); `ray.init()` joins the running
    cluster when RAY_ADDRESS is set, and starts a local one otherwise."""
    import pickle

    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=max(1, config.workers), include_dashboard=False, log_to_driver=False)
    items = [{"job": pickle.dumps((job, config))} for job in jobs]

    def generate(batch: dict) -> dict:
        results = [json.dumps(_run_shard_star(pickle.loads(b))) for b in batch["job"]]
        return {"result": results}

    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items)))
    ds = ds.map_batches(generate, batch_size=1, num_cpus=1, zero_copy_batch=False)
    for row in ds.iter_rows():
        yield json.loads(row["result"])


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
    engine = run_ray if config.engine == "ray" else run_local
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
    if config.engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {config.engine!r}")
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
    from spatial_ssrl.card import write_card

    write_card(Path(config.out_dir), stats, config)
    if config.preview:
        from spatial_ssrl.preview import write_preview

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
