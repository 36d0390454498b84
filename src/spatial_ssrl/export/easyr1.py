"""EasyR1 export: `{split}.parquet` with `problem` / `answer` / `images` (EasyR1's default prompt, answer
and image keys) plus `task` / `variant` / `answer_type` / `options` / `id` for our reward.

`problem` keeps one `<image>` placeholder per image, in order. EasyR1 adds the format instruction
through its prompt template (`data.format_prompt=<jinja file>`), so with `format_prompt=None` the
problem is left as generated and `format_prompt.jinja` (our instruction) is written next to the data;
an explicit `format_prompt` string is appended to every problem instead and no template is written.

Video tasks: by default their frames are `images` like any other. With `video="native"` the rows of a video
task go to `{split}-video.parquet` instead, with a `videos` column (one list of frame files per clip, each
clip one `<video>` placeholder in `problem`) and no `images` column: EasyR1's loader reads `images` first
whenever the column exists, even empty (`if self.image_key in example`). The frames are written under
`frames/{split}/` and named by absolute path, because EasyR1 joins `image_dir` only onto string videos.
Train on it with `data.train_files=<out>/train-video.parquet data.video_key=videos`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT, with_format_prompt
from spatial_ssrl.export.common import (
    IMAGES_TYPE,
    atomic_open,
    check_placeholders,
    check_video_mode,
    hf_schema,
    rows_of,
    splits_present,
    write_split,
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
VIDEO_SCHEMA = hf_schema(
    [("videos", pa.list_(pa.list_(pa.string())))] + [f for f in zip(SCHEMA.names, SCHEMA.types) if f[0] != "images"],
    image_columns=(),
)
"""Columns of an EasyR1 video file (`video="native"`): `videos` (frame paths per clip) instead of `images`."""
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


def convert_video(row: dict, problem: str, clips: list[list[str]], format_prompt: str = "") -> dict:
    """One record of `{split}-video.parquet`: the problem with `<video>` placeholders and the clips' frame paths
    (`convert`'s columns without `images`)."""
    record = convert({**row, "problem": problem, "images": []}, format_prompt)
    del record["images"]
    return {"videos": clips, **record}


def write(
    dataset_dir: Path,
    out_dir: Path,
    splits: tuple[str, ...],
    format_prompt: str | None = None,
    video: str = "frames",
) -> list[Path]:
    """Write `{split}.parquet` for each of `splits` the dataset has, plus the template if `format_prompt` is None;
    with `video="native"`, video task rows go to `{split}-video.parquet` (module docstring).

    Returns:
        The files written.

    Raises:
        FileNotFoundError: the dataset has no shards.
        ValueError: an unknown video mode, or a native video row that also has images (EasyR1 reads one kind).
    """
    check_video_mode(video, "easyr1", native=True)
    prompt = format_prompt or ""
    records = (
        lambda row, _: convert(row, prompt),
        lambda row, _, problem, clips: convert_video(row, problem, clips, prompt),
    )
    written: list[Path] = []
    for split in splits_present(dataset_dir, splits):
        written += write_split(rows_of(dataset_dir, split), out_dir, split, (SCHEMA, VIDEO_SCHEMA), records, video)
    if format_prompt is None:
        # EasyR1 renders this with the problem as `content`.
        with atomic_open(out_dir / TEMPLATE_NAME) as fh:
            fh.write("{{ content | trim }}\n" + DEFAULT_FORMAT_PROMPT + "\n")
        written.append(out_dir / TEMPLATE_NAME)
    return written
