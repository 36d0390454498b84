"""EasyR1 export: `{split}.parquet` with `problem` / `answer` / `images` (EasyR1's default prompt, answer
and image keys) plus `task` / `variant` / `answer_type` / `options` / `id` for our reward.

`problem` keeps one `<image>` placeholder per image, in order. EasyR1 adds the format instruction
through its prompt template (`data.format_prompt=<jinja file>`), so with `format_prompt=None` the
problem is left as generated and `format_prompt.jinja` (our instruction) is written next to the data;
an explicit `format_prompt` string is appended to every problem instead and no template is written.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT, with_format_prompt
from spatial_ssrl.export.common import (
    IMAGES_TYPE,
    ParquetSink,
    atomic_open,
    check_placeholders,
    hf_schema,
    rows_of,
    splits_present,
)

SCHEMA = hf_schema(
    [
        ("problem", pa.string()),
        ("answer", pa.string()),
        ("images", IMAGES_TYPE),
        ("task", pa.string()),
        ("variant", pa.string()),
        ("answer_type", pa.string()),
        ("options", pa.string()),
        ("id", pa.string()),
    ]
)
"""Columns of an EasyR1 parquet file, with `images` marked as images for `datasets`."""
TEMPLATE_NAME = "format_prompt.jinja"  # written next to the data; pass it as `data.format_prompt`


def convert(row: dict, format_prompt: str = "") -> dict:
    """One EasyR1 record from a dataset row, with `format_prompt` appended to the problem ("" = none).

    Raises:
        ValueError: the problem's image placeholders do not match its images.
    """
    check_placeholders(row)
    return {
        "problem": with_format_prompt(row["problem"], format_prompt),
        "answer": row["answer"],
        "images": row["images"],
        "task": row["task"],
        "variant": row["variant"],
        "answer_type": row["answer_type"],
        "options": row["options"],
        "id": row["id"],
    }


def write(dataset_dir: Path, out_dir: Path, splits: tuple[str, ...], format_prompt: str | None = None) -> list[Path]:
    """Write `{split}.parquet` for each of `splits` the dataset has, plus the template if `format_prompt` is None.

    Returns:
        The files written.

    Raises:
        FileNotFoundError: the dataset has no shards.
    """
    written: list[Path] = []
    for split in splits_present(dataset_dir, splits):
        with ParquetSink(out_dir / f"{split}.parquet", SCHEMA) as sink:
            for row in rows_of(dataset_dir, split):
                sink.add(convert(row, format_prompt or ""))
            written.append(sink.commit())
    if format_prompt is None:
        # EasyR1 renders this with the problem as `content`.
        with atomic_open(out_dir / TEMPLATE_NAME) as fh:
            fh.write("{{ content | trim }}\n" + DEFAULT_FORMAT_PROMPT + "\n")
        written.append(out_dir / TEMPLATE_NAME)
    return written
