"""The dataset builder: sources x tasks -> sharded parquet, dataset card, stats and preview.

How a build is laid out, top to bottom:
0. Output and content. The output folder must be empty, new, or hold a build with the same settings
   (`OutputNotEmpty`, `BuildMismatch` otherwise). A parallel pre-pass hashes every source's decoded
   pixels (`content.content_hash`, cached in `_progress/content.jsonl` by the source's file
   fingerprint): unreadable sources are recorded, and of sources with identical content (copies,
   symlinks, a lossless re-encode) only the first id is used; the others are reported as duplicates.
1. Plan. Sources are sorted by id and each gets a split from a hash of its content (no picture in two
   splits, whatever its names). With a total sample count, each task's share (the paper's mix by
   default: each task's registered `mix_weight`) is spread over the sources that can serve it in a
   seeded order; otherwise every source gets `samples_per_task` per eligible task.
2. Shard. Consecutive sources are grouped into shards of at most `samples_per_shard` planned samples
   (a source with more is spread over several shards with disjoint sample indices). A shard is the
   unit of work and of resume: its samples are a pure function of (seed, source id, task, index), so
   it produces the same bytes in any process, in any order.
3. Run (`shards.run_shard`, on an engine from `engines`). Shards run in this process, in `workers`
   processes (a worker that dies or hangs is noticed; the source it was on is retried, then recorded
   as unreadable), or as Ray tasks. Each writes `data/{split}-{shard:05d}.parquet` (more files past
   `max_shard_bytes`) through temporary files and atomic renames, then the main process records it in
   `_progress/` (also atomically) with each file's size and blake2b and each source's fingerprint.
   A rerun keeps a recorded shard only if its plan, its sources' fingerprints and its files all still
   match, and redoes the others (reported in stats.json `redone_shards` and on stderr), so a crash,
   `kill -9`, a deleted or damaged file or an edited input never leaves a mix: the result is
   byte-identical to a clean build of the final inputs.
4. Top up. A source that cannot yield a verifiable sample leaves a shortfall; with a total count,
   further rounds ask other sources of the same task (fresh sample indices) until the total is met.
5. Report. stats.json, the dataset card README.md and preview.html summarise the finished shards;
   parquet files and records no shard of this plan owns (left by an older plan) are removed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path

from tqdm import tqdm

import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks)
from spatial_ssrl import __version__
from spatial_ssrl.contract import is_utf8_text
from spatial_ssrl.dataset.card import write_card
from spatial_ssrl.dataset.config import BuildConfig, BuildConfigError
from spatial_ssrl.dataset.content import (
    HASH_BATCH_SOURCES,
    ContentCache,
    HashJob,
    cache_key,
    source_fingerprint,
)
from spatial_ssrl.dataset.engines import ENGINES
from spatial_ssrl.dataset.preview import write_preview
from spatial_ssrl.dataset.schema import SPLITS
from spatial_ssrl.dataset.shards import TOPUP_INDEX_STRIDE, ShardJob, file_digest
from spatial_ssrl.engine.registry import default_mix, get_task
from spatial_ssrl.sources.discover import SourceRef

MAX_LISTED = 100  # entries of a list in stats.json (source errors, duplicate groups, redone shards)
MAX_GROUP_IDS = 20  # ids shown per duplicate group in stats.json
MAX_NAMED_ENTRIES = 5  # entries of a non-empty output folder named in its error
MAX_SCANNED_ENTRIES = 1000  # entries of a non-empty output folder read to name a few (a huge folder is not listed)

# The files a build writes in data/: a shard's parquet files and their temporary names. Only names
# like these are ever deleted, so a file a user put in data/ survives any rebuild.
SHARD_FILE = re.compile(r"(train|validation|test)-\d{5,}(-topup\d+)?(-part\d{4,})?\.parquet")
TEMP_FILE = re.compile(r"\.(train|validation|test)-\d{5,}(-topup\d+)?-part\d{4,}\.parquet\.tmp-\d+")
RECORD_FILE = re.compile(r"r\d+-shard-\d{5,}\.json")

# ---------------------------------------------------------------------------------------------
# 1. Plan


def split_of(key: str, fractions: dict[str, float]) -> str:
    """The split of a source from its key (the builder passes the content hash): a stable hash,
    independent of the seed and of other sources."""
    u = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8, person=b"ssrl-split").digest(), "big")
    u /= 2**64
    total = sum(fractions.values())
    acc = 0.0
    for name in SPLITS:
        acc += fractions.get(name, 0.0) / total
        if u < acc:
            return name
    return "train"


def _rank_key(seed: int, source_id: str, task: str) -> bytes:
    return hashlib.blake2b(f"{seed}\0{source_id}\0{task}".encode("utf-8", "surrogatepass"), digest_size=8).digest()


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


def _serves(ref: SourceRef, task: str) -> bool:
    """Can `ref` serve `task`: a video for a video task, a photo or scene for an image task, with depth if needed."""
    spec = get_task(task)
    return spec.needs_video == ref.is_video and (ref.has_depth or not spec.needs_depth)


def servable_tasks(refs: list[SourceRef]) -> list[str]:
    """The registered tasks at least one of `refs` can serve (the default task list of a build)."""
    from spatial_ssrl.engine.registry import list_tasks

    return [t for t in list_tasks() if any(_serves(r, t) for r in refs)]


def task_totals(config: BuildConfig) -> dict[str, int]:
    """Samples per task for `config.total`: the mix (`task_mix`, or the registered weights) by largest
    remainder; tasks of weight 0 are left out."""
    mix = (
        default_mix(config.tasks) if config.task_mix is None else {t: config.task_mix.get(t, 0.0) for t in config.tasks}
    )
    if not any(mix.values()):
        raise BuildConfigError(f"task_mix (--mix) gives no weight to any of the tasks {config.tasks}")
    return largest_remainder(config.total, {t: w for t, w in mix.items() if w > 0})


def _check_servable(totals: dict[str, int], refs: list[SourceRef]) -> None:
    missing = [t for t in totals if not any(_serves(r, t) for r in refs)]
    if missing:
        raise BuildInputError(
            f"no source can serve task(s) {missing} (depth tasks need RGB-D sources, video tasks videos)"
        )


def plan_quotas(config: BuildConfig, refs: list[SourceRef], active: list[bool] | None = None) -> list[dict[str, int]]:
    """Wanted samples per source and task for round 0, over the `active` sources (default: all)."""
    active = active if active is not None else [True] * len(refs)
    ids = [r.id for r in refs]
    quotas: list[dict[str, int]] = [{} for _ in refs]
    eligible = {t: [i for i, r in enumerate(refs) if active[i] and _serves(r, t)] for t in config.tasks}
    if config.total is None:
        for t, idx in eligible.items():
            for i in idx:
                quotas[i][t] = config.samples_per_task
        return quotas
    totals = task_totals(config)
    _check_servable(totals, refs)
    room = TOPUP_INDEX_STRIDE // config.max_attempts
    for t, n in totals.items():
        for i, q in spread(n, eligible[t], config.seed, t, ids).items():
            if q > room:
                raise BuildConfigError(
                    f"total (--total) {config.total} asks {q} {t} samples of one source, over the {room} "
                    f"a source can give per round with max_attempts {config.max_attempts}; add sources"
                )
            quotas[i][t] = q
    return quotas


def _pieces(quota: dict[str, int], per_shard: int, max_attempts: int) -> list[tuple[dict[str, int], dict[str, int]]]:
    """Cut one source's quota into (quota, first index offset) pieces of at most `per_shard` samples;
    a piece of n samples of a task tries indices offset .. offset + n * max_attempts, disjoint from
    the other pieces'."""
    pieces, piece, offsets, room = [], {}, {}, per_shard
    for task, n in quota.items():
        done = 0
        while done < n:
            take = min(n - done, room)
            piece[task], offsets[task] = take, done * max_attempts
            done, room = done + take, room - take
            if room == 0:
                pieces.append((piece, offsets))
                piece, offsets, room = {}, {}, per_shard
    if piece:
        pieces.append((piece, offsets))
    return pieces


def make_shards(
    quotas: list[dict[str, int]], per_shard: int, max_attempts: int
) -> list[list[tuple[int, dict[str, int], dict[str, int]]]]:
    """Group consecutive sources with a quota into shards of at most `per_shard` planned samples, as
    (source index, quota, index offsets) entries; a source with more than `per_shard` samples is cut
    into pieces, one shard each. Shard boundaries depend only on the plan, never on the number of
    workers."""
    shards, current, planned = [], [], 0
    for i, q in enumerate(quotas):
        n = sum(q.values())
        if n == 0:
            continue
        if current and planned + n > per_shard:
            shards.append(current)
            current, planned = [], 0
        if n > per_shard:
            shards += [[(i, piece, offsets)] for piece, offsets in _pieces(q, per_shard, max_attempts)]
            continue
        current.append((i, q, {}))
        planned += n
    if current:
        shards.append(current)
    return shards


def _jobs(round_: int, quotas: list[dict[str, int]], refs: list[SourceRef], splits: list[str], config) -> list:
    return [
        ShardJob(
            round_,
            k,
            [refs[i] for i, _, _ in entries],
            [q for _, q, _ in entries],
            [splits[i] for i, _, _ in entries],
            [o for _, _, o in entries],
        )
        for k, entries in enumerate(make_shards(quotas, config.samples_per_shard, config.max_attempts))
    ]


# ---------------------------------------------------------------------------------------------
# Output folder, progress records and resume


class BuildInputError(ValueError):
    """The sources cannot make the dataset asked for: none given, duplicate ids, or no source for a task."""


class BuildMismatch(RuntimeError):
    """The output folder holds a build made with different settings or sources."""


class OutputNotEmpty(BuildMismatch):
    """The output folder holds files but no build of this tool (no `_progress/build.json`): writing
    there could overwrite them (a README.md, a data/ folder)."""


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _say(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def _fingerprint(config: BuildConfig, refs: list[SourceRef]) -> str:
    h = hashlib.sha256(json.dumps(config.identity(), sort_keys=True, default=str).encode())
    for r in refs:
        h.update(json.dumps(asdict(r), sort_keys=True).encode())
    return h.hexdigest()


def _foreign_entries(out: Path) -> list[str]:
    """Names in `out` that a build did not make (an empty data/ or _progress/ left by a first run
    interrupted before its record is ours), at most MAX_SCANNED_ENTRIES of them, sorted."""
    found = []
    with os.scandir(out) as it:
        for entry in itertools.islice(it, MAX_SCANNED_ENTRIES):
            if entry.name in ("data", "_progress") and entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as inner:
                    if next(inner, None) is None:
                        continue
            found.append(entry.name + ("/" if entry.is_dir() else ""))
    return sorted(found)


def _prepare_output(config: BuildConfig, refs: list[SourceRef]) -> Path:
    out = Path(config.out_dir)
    progress = out / "_progress"
    record = progress / "build.json"
    if out.exists() and not out.is_dir():
        raise OutputNotEmpty(f"{out} is a file, not a folder; choose an empty or new folder for the dataset")
    if out.is_dir() and not record.is_file():
        foreign = _foreign_entries(out)
        if foreign:
            shown = ", ".join(foreign[:MAX_NAMED_ENTRIES]) + (", ..." if len(foreign) > MAX_NAMED_ENTRIES else "")
            raise OutputNotEmpty(
                f"{out} is not empty and holds no dataset build (it has {shown}); "
                "choose an empty or new folder for the dataset, so nothing there is overwritten"
            )
    fingerprint = _fingerprint(config, refs)
    if record.is_file():
        try:
            previous = json.loads(record.read_text()).get("fingerprint")
        except (ValueError, AttributeError, OSError) as err:
            raise BuildMismatch(f"{record} is unreadable ({err}); use a new folder or delete it to rebuild") from err
        if previous != fingerprint:
            raise BuildMismatch(
                f"{out} holds a build with other settings or sources; use a new folder or delete it to rebuild"
            )
    else:
        progress.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(record, json.dumps({"fingerprint": fingerprint, "config": config.identity()}, default=str))
    (out / "data").mkdir(exist_ok=True)
    _remove_temp_files(out / "data")  # partial files of an interrupted run
    return progress


def _remove_temp_files(data: Path) -> None:
    for stray in data.glob(".*.tmp-*"):
        if TEMP_FILE.fullmatch(stray.name):
            stray.unlink(missing_ok=True)


def _job_key(job: ShardJob, fingerprints: dict[str, dict | None]) -> str:
    """A shard's plan and its sources' file fingerprints: a recorded shard is kept only if this matches."""
    payload = [
        job.round,
        job.shard,
        [asdict(r) for r in job.refs],
        job.quotas,
        job.offsets,
        job.splits,
        [fingerprints[r.id] for r in job.refs],
    ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _record_problem(record: object, key: str, fingerprints: dict[str, dict | None], data: Path) -> str | None:
    """Why a recorded shard cannot be kept (None: it can): its plan or a source changed, or one of its
    files is missing, of another size or of other bytes."""
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        return "its progress record is unreadable"
    if any(not isinstance(name, str) or not SHARD_FILE.fullmatch(name) for name in record["files"]):
        return "its progress record names files a build does not write"
    if record.get("job") != key:
        sources = record.get("sources") if isinstance(record.get("sources"), dict) else {}
        changed = sorted(sid for sid, fp in sources.items() if sid in fingerprints and fingerprints[sid] != fp)
        if changed:
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            return f"source {changed[0]}{more} changed"
        return "its plan changed (other sources, splits or quotas)"
    for name, entry in record["files"].items():
        path = data / name
        if not path.is_file():
            return f"data/{name} is missing"
        if not isinstance(entry, dict) or path.stat().st_size != entry.get("bytes"):
            return f"data/{name} has {path.stat().st_size} bytes, {entry.get('bytes')} were written"
        if file_digest(path) != entry.get("blake2b"):
            return f"data/{name} does not match the checksum recorded when it was written"
    return None


def _record_path(progress: Path, job: ShardJob) -> Path:
    return progress / f"r{job.round}-shard-{job.shard:05d}.json"


def _run_round(
    jobs: list[ShardJob],
    engine,
    progress: Path,
    bar: tqdm,
    fingerprints: dict[str, dict | None],
    redone: list[dict],
) -> list[dict]:
    done, todo, keys = [], [], {}
    data = progress.parent / "data"
    redone_here = []
    for job in jobs:
        keys[job.label] = key = _job_key(job, fingerprints)
        path = _record_path(progress, job)
        if not path.exists():
            todo.append(job)
            continue
        try:
            record = json.loads(path.read_text())
        except (ValueError, OSError):
            record = None
        problem = _record_problem(record, key, fingerprints, data)
        if problem is None:
            done.append(record)
        else:
            redone_here.append({"shard": job.label, "reason": problem})
            path.unlink()
            todo.append(job)
    if redone_here:
        shown = "; ".join(f"{r['shard']}: {r['reason']}" for r in redone_here[:3])
        more = f"; and {len(redone_here) - 3} more" if len(redone_here) > 3 else ""
        _say(f"resume: redoing {len(redone_here)} recorded shard(s) that no longer match ({shown}{more})")
        redone += redone_here
    bar.update(sum(f["samples"] for r in done for f in r["files"].values()))
    rejected = sum(sum(r["rejections"].values()) for r in done)
    by_label = {job.label: job for job in todo}
    for result in engine.run(todo):
        job = by_label[f"r{result['round']}-shard-{result['shard']:05d}"]
        _check_written(data, result, job.label)
        result["job"] = keys[job.label]
        result["sources"] = {r.id: fingerprints[r.id] for r in job.refs}
        _atomic_write_text(_record_path(progress, job), json.dumps(result))
        done.append(result)
        rejected += sum(result["rejections"].values())
        bar.update(sum(f["samples"] for f in result["files"].values()))
        bar.set_postfix(rejected=rejected, refresh=False)
    return sorted(done, key=lambda r: r["shard"])


class OutputNotShared(BuildMismatch):
    """A job reported files the driver cannot see (a worker writing to storage the driver does not share)."""


def _check_written(data: Path, result: dict, label: str) -> None:
    """Before a job is recorded, every file it reports must be in `data` with the size it reported: a Ray node
    added after the storage probe, writing to a disk of its own, is caught here rather than on a later resume."""
    for name, entry in result["files"].items():
        path = data / name
        size = path.stat().st_size if path.is_file() else None
        if size != entry.get("bytes"):
            raise OutputNotShared(
                f"{label}: the worker reported {path} ({entry.get('bytes')} bytes) but the driver "
                f"{'finds ' + str(size) + ' bytes' if size is not None else 'cannot see it'}: every node must "
                "write to storage the driver shares (NFS, a mounted bucket) at the same path"
            )


def _remove_stale(progress: Path, results: list[dict]) -> int:
    """Delete records and shard files that no shard of the final plan owns (an older plan's, or a
    shard redone into fewer files); returns the number of parquet files removed."""
    live_records = {f"r{r['round']}-shard-{r['shard']:05d}.json" for r in results}
    for path in progress.glob("r*-shard-*.json"):
        if RECORD_FILE.fullmatch(path.name) and path.name not in live_records:
            path.unlink(missing_ok=True)
    live_files = {name for r in results for name in r["files"]}
    data = progress.parent / "data"
    removed = 0
    for path in data.glob("*.parquet"):
        if SHARD_FILE.fullmatch(path.name) and path.name not in live_files:
            path.unlink(missing_ok=True)
            removed += 1
    _remove_temp_files(data)  # left by workers that died
    return removed


def _topup_quotas(
    results: list[dict], refs: list[SourceRef], config: BuildConfig, round_: int, active: list[bool]
) -> list[dict[str, int]]:
    """Give each task's shortfall to the active sources of that task that did not fall short."""
    quotas: list[dict[str, int]] = [{} for _ in refs]
    short_total: Counter = Counter()
    failed: dict[str, set[str]] = {}
    for result in results:
        for task, per_source in result["shortfall"].items():
            short_total[task] += sum(per_source.values())
            failed.setdefault(task, set()).update(per_source)
    bad_sources = {sid for r in results for sid in r["source_errors"]}
    room = TOPUP_INDEX_STRIDE // config.max_attempts  # more would reuse the next round's indices
    for task, n in short_total.items():
        eligible = [
            i
            for i, r in enumerate(refs)
            if active[i] and _serves(r, task) and r.id not in failed.get(task, set()) and r.id not in bad_sources
        ]
        for i, q in spread(n, eligible, config.seed * 1009 + round_ + 1, task, [r.id for r in refs]).items():
            quotas[i][task] = min(q, room)
    return quotas


# ---------------------------------------------------------------------------------------------
# 0. Content pre-pass


def _content_prepass(
    refs: list[SourceRef], fingerprints: dict[str, dict | None], progress: Path, engine, max_pixels: int | None
) -> tuple[dict[str, str], dict[str, str], dict]:
    """({id: content hash}, {id: why unreadable}, pre-pass figures), hashing only sources the cache
    does not hold for their current fingerprint."""
    start = time.perf_counter()
    cache = ContentCache(progress / "content.jsonl")
    keys = {r.id: cache_key(r, fingerprints[r.id]) for r in refs}
    known = cache.load(set(keys.values()))
    todo = [r for r in refs if keys[r.id] not in known]
    jobs = [
        HashJob(b, todo[s : s + HASH_BATCH_SOURCES], max_pixels=max_pixels)
        for b, s in enumerate(range(0, len(todo), HASH_BATCH_SOURCES))
    ]
    with tqdm(total=len(todo), desc="content", unit="source", dynamic_ncols=True, disable=not todo) as bar:
        for result in engine.run(jobs):
            entries = [(keys[sid], "hash", h) for sid, h in result["hashes"].items()]
            entries += [(keys[sid], "error", e) for sid, e in result["errors"].items()]
            cache.append(entries)
            known.update({k: (kind, v) for k, kind, v in entries})
            bar.update(len(entries))
    hashes = {r.id: known[keys[r.id]][1] for r in refs if known[keys[r.id]][0] == "hash"}
    errors = {r.id: known[keys[r.id]][1] for r in refs if known[keys[r.id]][0] == "error"}
    figures = {"hashed": len(todo), "cached": len(refs) - len(todo), "seconds": round(time.perf_counter() - start, 2)}
    return hashes, errors, figures


def _duplicate_groups(refs: list[SourceRef], hashes: dict[str, str]) -> list[list[str]]:
    """Ids with the same content, in id order, for every content held by more than one source."""
    by_hash: dict[str, list[str]] = {}
    for r in refs:
        if r.id in hashes:
            by_hash.setdefault(hashes[r.id], []).append(r.id)
    return [ids for ids in by_hash.values() if len(ids) > 1]


# ---------------------------------------------------------------------------------------------
# The build


def _checked_skips(skips: object) -> dict[str, dict[str, int]]:
    """A copy of {collection: {reason: count}}; BuildInputError for anything else (checked before the build)."""
    if isinstance(skips, dict) and all(
        isinstance(c, str)
        and isinstance(per, dict)
        and all(isinstance(r, str) and isinstance(n, int) and not isinstance(n, bool) for r, n in per.items())
        for c, per in skips.items()
    ):
        return {c: dict(per) for c, per in skips.items()}
    raise BuildInputError("discovery_skips must map collection -> {reason: count}")


def build(config: BuildConfig, sources: Iterable[SourceRef], discovery_skips: dict | None = None) -> dict:
    """Build (or resume) a dataset in `config.out_dir`. Returns the statistics written to stats.json.

    `discovery_skips` (e.g. `DiscoveryReport.skipped`: collection -> reason -> count) is copied into
    the statistics as `discovery_skips`."""
    if discovery_skips is not None:
        discovery_skips = _checked_skips(discovery_skips)
    sources = list(sources)
    if config.tasks is None:
        config = replace(config, tasks=servable_tasks(sources) or None)
        if config.tasks is None:
            raise BuildInputError("no registered task can use these sources")
    if config.engine not in ENGINES:
        raise BuildConfigError(f"engine (--engine) must be one of {sorted(ENGINES)}, got {config.engine!r}")
    for task in config.tasks:
        try:
            get_task(task)  # fail fast on a typo
        except KeyError as err:
            raise BuildConfigError(f"tasks (--tasks): {err.args[0]}") from None
    # Every process (local workers, Ray nodes with their own working folders) gets the same absolute path.
    config = replace(config, out_dir=Path(config.out_dir).resolve())
    refs = sorted(sources, key=lambda r: r.id)
    bad_ids = [r.id for r in refs if not is_utf8_text(r.id)]
    if bad_ids:
        shown = bad_ids[0].encode("utf-8", "backslashreplace").decode()
        raise BuildInputError(f"{len(bad_ids)} source id(s) are not UTF-8 text (first: {shown!r})")
    dupes = [k for k, n in Counter(r.id for r in refs).items() if n > 1]
    if dupes:
        raise BuildInputError(f"duplicate source ids (first: {dupes[0]!r}); ids must be unique")
    if not refs:
        raise BuildInputError("no sources to build from")
    if config.total is not None:
        _check_servable(task_totals(config), refs)  # before anything is written
    start = time.perf_counter()
    progress = _prepare_output(config, refs)
    fingerprints = {r.id: source_fingerprint(r) for r in refs}
    results: list[dict] = []
    redone: list[dict] = []
    with ENGINES[config.engine](config) as engine:
        hashes, unreadable, prepass = _content_prepass(refs, fingerprints, progress, engine, config.max_source_pixels)
        groups = _duplicate_groups(refs, hashes)
        skipped = {sid for ids in groups for sid in ids[1:]}  # the first id of a group is kept
        active = [r.id in hashes and r.id not in skipped for r in refs]
        splits = [split_of(hashes.get(r.id, r.id), config.splits) for r in refs]
        quotas = plan_quotas(config, refs, active)
        planned = sum(sum(q.values()) for q in quotas)
        planned_per_task = Counter()
        for q in quotas:
            planned_per_task.update(q)
        unplaced = Counter()  # samples of a task no readable, distinct source can serve: a shortfall from the start
        if config.total is not None:
            unplaced = Counter(task_totals(config))
            for q in quotas:
                unplaced.subtract(q)
        with tqdm(total=planned, desc="generate", unit="sample", dynamic_ncols=True, smoothing=0.1) as bar:
            for round_ in range(config.max_topup_rounds + 1):
                jobs = _jobs(round_, quotas, refs, splits, config)
                results += _run_round(jobs, engine, progress, bar, fingerprints, redone)
                if config.total is None:
                    break
                quotas = _topup_quotas([r for r in results if r["round"] == round_], refs, config, round_, active)
                if not any(quotas):
                    break
    removed = _remove_stale(progress, results)
    changed = sorted(r.id for r in refs if source_fingerprint(r) != fingerprints[r.id])
    if changed:
        _say(
            f"warning: {len(changed)} source(s) changed during the build (first: {changed[0]}); "
            "run the same build again to redo their shards"
        )

    stats = _merge_stats(results, config, refs, splits, planned, time.perf_counter() - start)
    stats["source_errors"] = dict(sorted({**unreadable, **stats.pop("_errors")}.items())[:MAX_LISTED])
    stats["source_error_count"] = len({*unreadable, *(sid for r in results for sid in r["source_errors"])})
    if unreadable:
        stats["rejections"]["source.unreadable"] = stats["rejections"].get("source.unreadable", 0) + len(unreadable)
        stats["rejections"] = dict(sorted(stats["rejections"].items()))
    stats["sources_per_split"] = dict(Counter(s for s, used in zip(splits, active) if used))
    stats["duplicates"] = {
        "groups": [ids[:MAX_GROUP_IDS] for ids in groups[:MAX_LISTED]],
        "group_count": len(groups),
        "skipped_sources": len(skipped),
    }
    # The target per task: the requested total split by the mix, or (without --total) the per-source
    # quotas planned in round 0. Shortfall = target - produced, so it is never hidden by a missing --total.
    target = Counter(task_totals(config)) if config.total is not None else planned_per_task
    stats["target_per_task"] = dict(sorted(target.items()))
    shortfall = target - Counter(stats["per_task"])  # - keeps positive counts only
    stats["shortfall"] = dict(sorted(shortfall.items()))
    stats["content_prepass"] = prepass
    stats["redone_shards"] = redone[:MAX_LISTED]
    stats["redone_shard_count"] = len(redone)
    stats["stale_files_removed"] = removed
    stats["sources_changed_during_build"] = changed[:MAX_LISTED]
    if discovery_skips is not None:
        stats["discovery_skips"] = discovery_skips
    out = Path(config.out_dir)
    _atomic_write_text(out / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    write_card(out, stats, config)
    if config.preview:
        write_preview(out, out / "preview.html", tasks=config.tasks)
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
    samples = sum(per_task.values())
    return {
        "tool_version": __version__,
        "seed": config.seed,
        "requested": config.total,
        "planned_round0": planned,
        "samples": samples,
        "per_task": dict(sorted(per_task.items())),
        "per_variant": dict(sorted(per_variant.items())),
        "per_split": {s: per_split.get(s, 0) for s in SPLITS},
        "sources": len(refs),
        "answers": {t: dict(sorted(c.items())) for t, c in sorted(answers.items())},
        "rejections": dict(sorted(rejections.items())),
        "_errors": errors,
        "rounds": 1 + max((r["round"] for r in results), default=0),
        "shards": len(results),
        "seconds": round(seconds, 2),
        "samples_per_second": round(samples / seconds, 1) if seconds > 0 else None,
    }
