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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spatial_ssrl.contract import IMAGE, SPLITS
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
