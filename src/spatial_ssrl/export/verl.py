"""verl export: `{split}.parquet` in verl's RL dataset layout.

| column | content |
|---|---|
| data_source | `spatial_ssrl/<task>` (our verl reward reads the task from it) |
| prompt | `[{"role": "user", "content": problem + format instruction}]`, `<image>` placeholders kept (1) |
| images | list of {bytes, path} (decoded as images by `datasets`) |
| ability | `spatial` |
| reward_model | `{"style": "rule", "ground_truth": answer}` |
| extra_info | `{"split", "index", "id", "task", "variant", "answer_type", "options"}` |

(1) verl's multimodal dataset splits the text on `<image>` and fills the images in order.

Video tasks: by default their frames are `images` like any other. With `video="native"` the rows of a video
task go to `{split}-video.parquet` instead, with a `videos` column (one `{"video": [frame paths]}` per clip,
each clip one `<video>` placeholder in the prompt: `rl_dataset._build_messages` splits on `<image>|<video>`
and asserts one video per placeholder) and no `images` column. Frames are written under `frames/{split}/` and
named by absolute path (verl hands the list to `qwen_vl_utils.fetch_video`, which reads paths as given).

Reward: `custom_reward_function.path=<spatial_ssrl/rewards/verl.py> custom_reward_function.name=compute_score`.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from spatial_ssrl.contract import resolve_format_prompt, with_format_prompt
from spatial_ssrl.export.common import (
    IMAGES_TYPE,
    check_placeholders,
    check_video_mode,
    hf_schema,
    rows_of,
    splits_present,
    write_split,
)

DATA_SOURCE_PREFIX = "spatial_ssrl/"  # + task name = `data_source`; our verl reward reads the task back
ABILITY = "spatial"  # the `ability` label of every row
SCHEMA = hf_schema(
    [
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("images", IMAGES_TYPE),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        (
            "extra_info",
            pa.struct(
                [
                    ("split", pa.string()),
                    ("index", pa.int64()),
                    ("id", pa.string()),
                    ("task", pa.string()),
                    ("variant", pa.string()),
                    ("answer_type", pa.string()),
                    ("options", pa.string()),
                ]
            ),
        ),
    ]
)
"""Columns of a verl parquet file (the table in the module docstring)."""
VIDEO_SCHEMA = hf_schema(
    [f for f in zip(SCHEMA.names, SCHEMA.types) if f[0] != "images"]
    + [("videos", pa.list_(pa.struct([("video", pa.list_(pa.string()))])))],
    image_columns=(),
)
"""Columns of a verl video file (`video="native"`): `videos` ({"video": frame paths} per clip) instead of `images`."""


def convert(row: dict, index: int, format_prompt: str) -> dict:
    """One verl record from a dataset row; `index` is its position in the split (`extra_info.index`).

    Raises:
        ValueError: the problem's image placeholders do not match its images.
    """
    check_placeholders(row)
    return {
        "data_source": DATA_SOURCE_PREFIX + row["task"],
        "prompt": [{"role": "user", "content": with_format_prompt(row["problem"], format_prompt)}],
        "images": row["images"],
        "ability": ABILITY,
        "reward_model": {"style": "rule", "ground_truth": row["answer"]},
        "extra_info": {
            "split": row["split"],
            "index": index,
            "id": row["id"],
            "task": row["task"],
            "variant": row["variant"],
            "answer_type": row["answer_type"],
            "options": row["options"],
        },
    }


def write(
    dataset_dir: Path,
    out_dir: Path,
    splits: tuple[str, ...],
    format_prompt: str | None = None,
    video: str = "frames",
) -> list[Path]:
    """Write `{split}.parquet` for each of `splits` the dataset has; None = the default format instruction. With
    `video="native"`, video task rows go to `{split}-video.parquet` (module docstring).

    Returns:
        The files written.

    Raises:
        FileNotFoundError: the dataset has no shards.
        ValueError: an unknown video mode, or a native video row that also has images.
    """
    check_video_mode(video, "verl", native=True)
    instruction = resolve_format_prompt(format_prompt)
    records = (
        lambda row, index: convert(row, index, instruction),
        lambda row, index, problem, clips: convert_video(row, index, problem, clips, instruction),
    )
    written: list[Path] = []
    for split in splits_present(dataset_dir, splits):
        written += write_split(rows_of(dataset_dir, split), out_dir, split, (SCHEMA, VIDEO_SCHEMA), records, video)
    return written


def convert_video(row: dict, index: int, problem: str, clips: list[list[str]], format_prompt: str) -> dict:
    """One record of `{split}-video.parquet`: `convert`'s columns with `<video>` placeholders, no `images` and
    `videos` = one `{"video": frame paths}` per clip."""
    record = convert({**row, "problem": problem, "images": []}, index, format_prompt)
    del record["images"]
    return {**record, "videos": [{"video": paths} for paths in clips]}
