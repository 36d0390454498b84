"""One shard of a build: its job description and the function that makes its samples and writes them.

A shard's samples are a pure function of (seed, source id, task, index), so `run_shard` writes the same
bytes in any process, in any order; every engine (`dataset.engines`) calls it through `run_work`.

Files are bounded so every reader can load them: rows stream into parquet row groups of at most
`config.max_row_group_bytes` and ROW_GROUP_MAX_ROWS rows, and a split's rows spill into further
files once a file would pass `config.max_shard_bytes` (`train-00003-part0000.parquet`,
`train-00003-part0001.parquet`, ...; a shard that fits keeps `train-00003.parquet`). A single row
larger than a bound (its images are limited by the readers' pixel limit) gets a row group, or a
file, of its own. Where the rows are cut depends only on the rows, so the files do not depend on the
number of workers. Each file is
written under a temporary name, hashed (blake2b) and renamed when the shard ends; the shard's result
lists every file with its size and hash, which a resume checks.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks in worker processes too)
from spatial_ssrl.dataset.config import SAMPLE_INDEX_STRIDE, BuildConfig
from spatial_ssrl.dataset.content import MAX_ERROR_CHARS, HashJob, run_hash_job
from spatial_ssrl.dataset.pool import Report, no_report
from spatial_ssrl.dataset.schema import SCHEMA, SPLITS, sample_to_row
from spatial_ssrl.engine.loader import import_task_modules
from spatial_ssrl.engine.registry import run_task
from spatial_ssrl.engine.sample import Rejection, Source, SourceError
from spatial_ssrl.sources.discover import SourceRef

TOPUP_INDEX_STRIDE = SAMPLE_INDEX_STRIDE  # round r uses sample indices from r * stride: never reused
ROW_GROUP_MAX_ROWS = 1024  # rows per parquet row group, whatever their size
FILE_RESERVE_BYTES = 64 << 10  # room kept under max_shard_bytes for the parquet footer
ROW_GROUP_RESERVE_BYTES = 4 << 10  # and for each row group's page headers and metadata
DIGEST_CHUNK_BYTES = 1 << 20  # read size when hashing a file


@dataclass
class ShardJob:
    """One unit of work: a round's shard number, its sources with their wanted samples per task, and
    their splits. `offsets` (per source and task, default 0) shifts the first sample index, for a
    source whose samples are spread over several shards; `excluded` maps a source id to the reason it
    is not read (set when reading it killed a worker)."""

    round: int
    shard: int
    refs: list[SourceRef]
    quotas: list[dict[str, int]]
    splits: list[str]
    offsets: list[dict[str, int]] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How records and messages name the shard: `r0-shard-00003`."""
        return f"r{self.round}-shard-{self.shard:05d}"


def file_stem(split: str, round_: int, shard: int) -> str:
    """`train-00003` (round 0) or `train-00003-topup1`: the start of a shard's file names in a split."""
    suffix = "" if round_ == 0 else f"-topup{round_}"
    return f"{split}-{shard:05d}{suffix}"


def file_digest(path: Path) -> str:
    """blake2b of a file's bytes, read in chunks."""
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        while chunk := f.read(DIGEST_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def row_bytes(row: dict) -> int:
    """An upper estimate of a row's encoded size: its bytes and strings, plus per-value overhead."""
    size = 64
    for key, value in row.items():
        if key == "images":
            size += sum(len(im["bytes"]) + len(im["path"]) + 16 for im in value)
        else:
            size += len(value) + 8
    return size


class _SplitWriter:
    """The rows of one split of one shard, streamed into bounded row groups and bounded files."""

    def __init__(self, data: Path, stem: str, config: BuildConfig):
        self.data, self.stem, self.config = data, stem, config
        self.parts: list[tuple[Path, dict]] = []  # finished (temporary path, summary)
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._buffer: list[dict] = []
        self._buffer_bytes = 0
        self._written = 0  # estimated bytes of the row groups already in the current file
        self._groups = 0
        self._summary = _new_summary()

    def add(self, row: dict) -> None:
        """Append a row, closing the current file first if the row would take it past the limit."""
        size = row_bytes(row)
        reserve = FILE_RESERVE_BYTES + ROW_GROUP_RESERVE_BYTES * (self._groups + 2)
        if (
            self._summary["samples"]
            and self._written + self._buffer_bytes + size + reserve > self.config.max_shard_bytes
        ):
            self._close_file()
        if self._buffer and (
            self._buffer_bytes + size > self.config.max_row_group_bytes or len(self._buffer) >= ROW_GROUP_MAX_ROWS
        ):
            self._flush()
        if self._writer is None:
            self._tmp = self.data / f".{self.stem}-part{len(self.parts):04d}.parquet.tmp-{os.getpid()}"
            self._writer = pq.ParquetWriter(self._tmp, SCHEMA)
        self._buffer.append(row)
        self._buffer_bytes += size
        _count(self._summary, row)

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(
                pa.Table.from_pylist(self._buffer, schema=SCHEMA), row_group_size=len(self._buffer)
            )
            self._written = max(self._written + self._buffer_bytes, self._tmp.stat().st_size)
            self._groups += 1
            self._buffer, self._buffer_bytes = [], 0

    def _close_file(self) -> None:
        self._flush()
        self._writer.close()
        summary = {**self._summary, "bytes": self._tmp.stat().st_size, "blake2b": file_digest(self._tmp)}
        self.parts.append((self._tmp, summary))
        self._writer, self._tmp, self._written, self._groups, self._summary = None, None, 0, 0, _new_summary()

    def finish(self) -> dict[str, dict]:
        """Close the last file and move every file to its final name; {file name: summary}."""
        if self._writer is not None:
            self._close_file()
        names = (
            [f"{self.stem}.parquet"]
            if len(self.parts) == 1
            else [f"{self.stem}-part{k:04d}.parquet" for k in range(len(self.parts))]
        )
        files = {}
        for name, (tmp, summary) in zip(names, self.parts):
            os.replace(tmp, self.data / name)
            files[name] = summary
        return files

    def abort(self) -> None:
        """Delete the temporary files (the shard failed)."""
        if self._writer is not None:
            self._writer.close()
        for tmp in [p for p, _ in self.parts] + ([self._tmp] if self._tmp else []):
            tmp.unlink(missing_ok=True)


def _new_summary() -> dict:
    return {"samples": 0, "per_task": Counter(), "per_variant": Counter(), "answers": Counter()}


def _count(summary: dict, row: dict) -> None:
    summary["samples"] += 1
    summary["per_task"][row["task"]] += 1
    summary["per_variant"][f"{row['task']}/{row['variant']}"] += 1
    summary["answers"][f"{row['task']}\0{row['answer']}"] += 1


def _attempts(source: Source, task: str, wanted: int, first_index: int, config: BuildConfig, stats: dict):
    """Yield up to `wanted` samples from at most `wanted * max_attempts` tries.

    Each sample index is a slot whose question (answer, variant, option set: the task's question draw)
    stays fixed while its geometry is retried (`run_task(..., attempt=k)`) until it succeeds or the
    budget ends; the next slot then draws the next question. Moving to a new question after a rejection,
    as before, let sources that reject some answers more than others skew the answers towards the ones
    easy to realise on them (docs/builder.md). An answer a source cannot realise at all costs that
    source the rest of its budget: its shortfall goes to other sources in the top-up rounds."""
    accepted, tries, index, attempt = 0, 0, first_index, 0
    budget = wanted * config.max_attempts
    while accepted < wanted and tries < budget:
        tries += 1
        try:
            result = run_task(
                task,
                source,
                seed=config.seed,
                index=index,
                variant_weights=config.variant_weights.get(task),
                attempt=attempt,
            )
        except Exception as err:  # a task bug on one odd source must not end the whole run
            result = Rejection(task, f"error.{type(err).__name__}", f"{source.id}: {err}")
        if isinstance(result, Rejection):
            stats["rejections"][result.reason] += 1
            attempt += 1
            continue
        yield result
        accepted += 1
        index, attempt = index + 1, 0


def run_shard(job: ShardJob, config: BuildConfig, report: Report = no_report) -> dict:
    """Generate one shard's samples and write its parquet files atomically. Returns its statistics.

    `report(position, phase)` is called before each source is read and before its samples are made,
    so a pool can tell which source was in flight if this process dies."""
    start = time.perf_counter()
    import_task_modules(config.task_modules)  # user tasks, in a fresh worker process (a no-op when loaded)
    stats = {"rejections": Counter(), "source_errors": {}, "shortfall": {}}
    data = Path(config.out_dir) / "data"
    writers: dict[str, _SplitWriter] = {}
    base = job.round * TOPUP_INDEX_STRIDE
    try:
        for position, (ref, quota, split) in enumerate(zip(job.refs, job.quotas, job.splits)):
            if not quota:
                continue
            offsets = job.offsets[position] if job.offsets else {}
            reason = job.excluded.get(ref.id)
            if reason is None:
                report(position, "reading this source")
                try:
                    source = ref.load(max_side=config.max_side, max_pixels=config.max_source_pixels)
                except SourceError as err:
                    reason = str(err)[:MAX_ERROR_CHARS]
            if reason is not None:
                stats["source_errors"][ref.id] = reason
                stats["rejections"]["source.unreadable"] += 1
                for task, n in quota.items():
                    stats["shortfall"].setdefault(task, {})[ref.id] = n
                continue
            report(position, "generating samples from this source")
            for task, wanted in quota.items():
                got = 0
                for sample in _attempts(source, task, wanted, base + offsets.get(task, 0), config, stats):
                    if split not in writers:
                        writers[split] = _SplitWriter(data, file_stem(split, job.round, job.shard), config)
                    writers[split].add(sample_to_row(sample, split, config.image_format, config.jpeg_quality))
                    got += 1
                if got < wanted:
                    stats["shortfall"].setdefault(task, {})[ref.id] = wanted - got
            del source  # one decoded source at a time
        report(None, "writing the shard's files")
        files = {}
        for split in SPLITS:
            if split in writers:
                files.update(writers[split].finish())
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    for summary in files.values():
        for key in ("per_task", "per_variant", "answers"):
            summary[key] = dict(summary[key])
    return {
        "round": job.round,
        "shard": job.shard,
        "files": files,
        "rejections": dict(stats["rejections"]),
        "source_errors": stats["source_errors"],
        "shortfall": stats["shortfall"],
        "seconds": round(time.perf_counter() - start, 3),
    }


def run_work(args: tuple[ShardJob | HashJob, BuildConfig], report: Report = no_report) -> dict:
    """Run one job of either kind (a shard, or a batch of the content pre-pass): what engines call."""
    job, config = args
    if isinstance(job, HashJob):
        return run_hash_job(job, report)
    return run_shard(job, config, report)
