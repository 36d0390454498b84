"""Pieces every exporter shares: the format instruction, streaming reads, atomic writes, chat parts.

Every writer streams: rows come one shard at a time (`schema.read_rows`), parquet output is flushed in
row groups of bounded size, and each output file is written to `<name>.tmp` and renamed into place
only when complete, so an interrupted export never leaves a truncated file under the final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spatial_ssrl.contract import IMAGE, SPLITS, video_groups
from spatial_ssrl.dataset.paths import confined
from spatial_ssrl.dataset.schema import HF_FEATURES, IMAGE_STRUCT, read_rows, shard_paths

# Hugging Face `datasets` reads this schema metadata and decodes a list<struct<bytes, path>> column
# as a list of images; columns not named here get their type from Arrow.
IMAGES_FEATURE = HF_FEATURES["images"]
IMAGES_TYPE = pa.list_(IMAGE_STRUCT)
"""Arrow type of an `images` column: a list of `{bytes, path}` structs."""
# One part of a structured chat message: {"type": "image"} or {"type": "text", "text": ...}.
CONTENT_PART = pa.struct([("type", pa.string()), ("text", pa.string())])

# Flush a parquet row group at this many rows or this many image bytes, whichever comes first
# (small row groups also keep `datasets` streaming light).
ROW_GROUP_ROWS = 256
ROW_GROUP_BYTES = 32 << 20  # 32 MiB


def hf_schema(fields: list[tuple[str, pa.DataType]], image_columns: tuple[str, ...] = ("images",)) -> pa.Schema:
    """An Arrow schema of `fields` whose metadata tells `datasets` to decode `image_columns` as images."""
    features = {c: IMAGES_FEATURE for c in image_columns}
    return pa.schema(fields, metadata={"huggingface": json.dumps({"info": {"features": features}})})


def splits_present(dataset_dir: Path, splits: tuple[str, ...]) -> list[str]:
    """The requested splits that have at least one shard, in the order asked.

    Raises:
        ValueError: a split is not one of SPLITS (split names become file names: `../x` must not).
        FileNotFoundError: the dataset has no shards.
    """
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"unknown split(s) {', '.join(map(repr, unknown))}; choose from {', '.join(SPLITS)}")
    if not shard_paths(dataset_dir):
        raise FileNotFoundError(f"{dataset_dir}: no shards under data/ (expected data/<split>-00000.parquet)")
    return [s for s in splits if shard_paths(dataset_dir, s)]


def rows_of(dataset_dir: Path, split: str, columns: list[str] | None = None) -> Iterator[dict]:
    """The rows of one split, one shard in memory at a time."""
    return read_rows(dataset_dir, split, columns=columns)


def check_placeholders(row: dict) -> None:
    """Check that `row["problem"]` has one image placeholder per image.

    Raises:
        ValueError: the counts differ (named by the row's id).
    """
    n_ph, n_img = row["problem"].count(IMAGE), len(row["images"])
    if n_ph != n_img:
        raise ValueError(f"{row['id']}: {n_ph} {IMAGE} placeholders for {n_img} images")


def image_ext(image: dict) -> str:
    """File extension for an encoded image: from its stored path, else from its magic bytes."""
    suffix = Path(image.get("path") or "").suffix.lower().lstrip(".")
    if suffix in ("jpg", "jpeg", "png", "webp"):
        return suffix
    data = image.get("bytes") or b""
    return "png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "jpg"


# A spreadsheet opening a CSV/TSV runs a cell that starts with one of these as a formula (OWASP, "CSV
# Injection"): `=HYPERLINK(...)`, `@SUM(...)`, `-2+3`, or one of them after a tab or carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote (OWASP's
    advice: the quote makes it text, and shows); any other value unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def tmp_path(path: Path) -> Path:
    """`path` with `.tmp` appended to its name: where a file is written before it is renamed into place."""
    return path.with_name(path.name + ".tmp")


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", **kwargs: Any):
    """Open `path.tmp` for writing; rename it to `path` on success, delete it on error.

    A `.tmp` left over by an interrupted run is removed first and the new one is created exclusively,
    so a symbolic link planted under that name is never written through."""
    tmp = tmp_path(path)
    tmp.unlink(missing_ok=True)
    try:
        with open(tmp, mode.replace("w", "x"), **kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ParquetSink:
    """Append rows, flushed as row groups of bounded size; the file appears under its name on commit.

    As a context manager it aborts on an exception; on success the caller still calls `commit()`.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = Path(path), schema
        self.tmp = tmp_path(self.path)
        self.tmp.unlink(missing_ok=True)  # left over by an interrupted run (or a planted link): never written through
        self.rows = 0
        self._buffer: list[dict] = []
        self._bytes = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, record: dict) -> None:
        """Buffer one row (a dict matching the schema); flush once the buffer reaches a row-group bound."""
        self._buffer.append(record)
        self._bytes += sum(len(im.get("bytes") or b"") for im in record.get("images") or ())
        if len(self._buffer) >= ROW_GROUP_ROWS or self._bytes >= ROW_GROUP_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one row group to the `.tmp` file (creating it on first use)."""
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.tmp, self.schema)
        if self._buffer:
            self._writer.write_table(pa.Table.from_pylist(self._buffer, schema=self.schema))
            self.rows += len(self._buffer)
        self._buffer, self._bytes = [], 0

    def commit(self) -> Path:
        """Flush, close and rename the `.tmp` file to `path`; returns `path`."""
        self.flush()  # also creates the file (with the schema) when there were no rows
        self._writer.close()
        self._writer = None
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the `.tmp` file; nothing appears under `path`."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


VIDEO = "<video>"  # the video placeholder of EasyR1, verl and LLaMA-Factory
VIDEO_MODES = ("frames", "native")
"""How exports write a video task's clips: `frames` as images (every trainer), `native` as the trainer's own
video field where it has one (EasyR1, verl, LLaMA-Factory; docs/exports.md)."""


def check_video_mode(video: str, fmt: str, native: bool) -> None:
    """Raise ValueError for an unknown mode, or `native` for a format without a video input."""
    if video not in VIDEO_MODES:
        raise ValueError(f"video mode must be one of {', '.join(VIDEO_MODES)}, got {video!r}")
    if video == "native" and not native:
        raise ValueError(f"{fmt} has no video input: export video tasks with --video frames (frames as images)")


def video_prompt(row: dict) -> tuple[str, list[int], list[list[int]]]:
    """For a native video export: the problem with each clip's image placeholders (`contract.video_groups`)
    replaced by one `<video>`, the indices of the images left as images, and the clips' image indices.

    Raises:
        ValueError: placeholders that do not match the images, or a clip whose placeholders are not
            consecutive images with only whitespace between them (it could not become one `<video>`).
    """
    check_placeholders(row)
    groups = video_groups(row)
    pieces = row["problem"].split(IMAGE)  # image k sits between pieces[k] and pieces[k + 1]
    first = {g[0]: g for g in groups}
    grouped = {i for g in groups for i in g}
    out, images, k = [pieces[0]], [], 0
    while k < len(row["images"]):
        if k in first:
            g = first[k]
            if g != list(range(k, k + len(g))) or any(p.strip() for p in pieces[k + 1 : k + len(g)]):
                raise ValueError(f"{row['id']}: clip {g} is not a run of adjacent image placeholders")
            out += [VIDEO, pieces[k + len(g)]]
            k += len(g)
        elif k in grouped:
            raise ValueError(f"{row['id']}: image {k} belongs to a clip that does not start with it")
        else:
            out += [IMAGE, pieces[k + 1]]
            images.append(k)
            k += 1
    return "".join(out), images, groups


class MediaDir:
    """Media files an export writes next to its data (images, video frames): written into `<folder>.tmp`,
    swapped into place by `commit()` (replacing an earlier export's folder), deleted by `abort()`."""

    def __init__(self, out_dir: Path, rel: str) -> None:
        """`rel`: the folder, relative to `out_dir`. Raises UnsafePath if it would resolve outside `out_dir`."""
        self.out_dir, self.rel = Path(out_dir), rel
        self.final = self.out_dir / rel
        confined(self.out_dir, self.final.parent)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp_path(self.final)
        if self.tmp.is_symlink() or self.tmp.is_file():
            self.tmp.unlink()  # not a folder of ours: remove the entry, never what it points to
        elif self.tmp.exists():
            shutil.rmtree(self.tmp)  # left over by an interrupted run of ours
        self.tmp.mkdir()

    def write(self, name: str, data: bytes) -> str:
        """Write one file; returns its path relative to `out_dir` once committed."""
        (self.tmp / name).write_bytes(data)
        return f"{self.rel}/{name}"

    def commit(self) -> Path:
        """Move the folder into place; returns its final path."""
        if self.final.is_symlink() or self.final.is_file():
            self.final.unlink()
        elif self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        return self.final

    def abort(self) -> None:
        """Delete the temporary folder; an earlier export's folder is kept."""
        shutil.rmtree(self.tmp, ignore_errors=True)


class VideoRows:
    """The native-video part of one split of an export: video task rows go to `{split}-video.parquet` (created
    with the first such row) and their frames to `frames/{split}/`, named by absolute path (EasyR1 and verl
    hand a frame list to `qwen_vl_utils.fetch_video`, which reads paths as given)."""

    def __init__(self, out_dir: Path, split: str, schema: pa.Schema) -> None:
        self.out_dir, self.split, self.schema = Path(out_dir), split, schema
        self.sink: ParquetSink | None = None
        self.media: MediaDir | None = None
        self.count = 0

    def clips(self, row: dict) -> tuple[str, list[int], list[list[str]]] | None:
        """None for a row without clips; else writes its frames and returns (the problem with `<video>`
        placeholders, the indices of its other images, the absolute frame paths of each clip)."""
        if not video_groups(row):
            return None
        problem, kept, groups = video_prompt(row)
        if self.media is None:
            self.media = MediaDir(self.out_dir, f"frames/{self.split}")
        base = self.media.final.resolve()
        paths = []
        for g in groups:
            names = [f"{self.count:07d}_{k}.{image_ext(row['images'][k])}" for k in g]
            for name, k in zip(names, g, strict=True):
                self.media.write(name, row["images"][k]["bytes"])
            paths.append([str(base / name) for name in names])
        self.count += 1
        return problem, kept, paths

    def add(self, record: dict) -> None:
        """Append one video record."""
        if self.sink is None:
            self.sink = ParquetSink(self.out_dir / f"{self.split}-video.parquet", self.schema)
        self.sink.add(record)

    def commit(self) -> list[Path]:
        """Move the frames and the video file into place; returns the files written ([] without video rows)."""
        if self.sink is None:
            if self.media is not None:
                self.media.abort()
            return []
        self.media.commit()
        return [self.sink.commit()]

    def abort(self) -> None:
        """Delete what was written; an earlier export is kept."""
        if self.sink is not None:
            self.sink.abort()
        if self.media is not None:
            self.media.abort()

    def __enter__(self) -> VideoRows:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


def write_split(
    rows: Iterator[dict],
    out_dir: Path,
    split: str,
    schemas: tuple[pa.Schema, pa.Schema],
    records: tuple[Callable[[dict, int], dict], Callable[[dict, int, str, list[list[str]]], dict]],
    video: str,
) -> list[Path]:
    """Write one split of a parquet export: each row as `records[0](row, index)` to `{split}.parquet`; with
    `video="native"`, a row with clips as `records[1](row, index, problem, clip_frame_paths)` to
    `{split}-video.parquet` instead (`VideoRows`). `schemas` are the two files' schemas. Returns the files.

    Raises:
        ValueError: a native video row that also has images (the trainers read one kind per file).
    """
    image_record, video_record = records
    with ParquetSink(out_dir / f"{split}.parquet", schemas[0]) as sink, VideoRows(out_dir, split, schemas[1]) as vids:
        for index, row in enumerate(rows):
            clips = vids.clips(row) if video == "native" else None
            if clips is None:
                sink.add(image_record(row, index))
                continue
            problem, images, paths = clips
            if images:
                raise ValueError(f"{row['id']}: a native video row with images as well is not written")
            vids.add(video_record(row, index, problem, paths))
        return [sink.commit(), *vids.commit()]


_OPTION_LINE = re.compile(r"^\s*([A-H])[.)]\s?(.*)$")


def question_without_options(problem: str, options: dict[str, str] | None) -> tuple[str, list[tuple[int, str]]]:
    """The problem text with its `<image>` placeholders, its `Options:` header and its option lines
    removed, for evaluators that lay out the options themselves. Also returns, for every option line
    that held an image, (1-based image number, letter)."""
    kept: list[str] = []
    option_images: list[tuple[int, str]] = []
    seen = 0
    for line in problem.split("\n"):
        m = _OPTION_LINE.match(line)
        if options and m and m.group(1) in options:
            if IMAGE in line:
                option_images.append((seen + 1, m.group(1)))
            seen += line.count(IMAGE)
            continue
        seen += line.count(IMAGE)
        if options and line.strip().lower() == "options:":
            continue
        text = line.replace(IMAGE, "").strip()
        if text:
            kept.append(text)
    return "\n".join(kept), option_images
