"""Export a generated dataset to the layout each trainer or evaluator loads (docs/exports.md).

    from spatial_ssrl.export import export
    export("out/ds", "verl", "out/verl")   # -> [out/verl/train.parquet, out/verl/validation.parquet, ...]

Formats: easyr1, verl, trl, llamafactory, vlmevalkit, one module each (imported when used). Each reads the
dataset shard by shard (`dataset.schema.shard_paths`), so memory is bounded by one shard, and writes each
file atomically. Splits without shards are skipped. `format_prompt`: None uses each consumer's default (our
instruction appended to the prompt; EasyR1 gets it as a prompt template instead), "" appends nothing, any
other string is appended as the instruction. Command line: `ssrl export DATASET FORMAT OUT`. The cold-start
set: `spatial_ssrl.export.coldstart.write_coldstart` (`ssrl coldstart`).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from spatial_ssrl.contract import DEFAULT_FORMAT_PROMPT, SPLITS

FORMATS = ("easyr1", "verl", "trl", "llamafactory", "vlmevalkit")
"""Export formats; format X is written by `spatial_ssrl.export.X.write`."""
NATIVE_VIDEO_FORMATS = ("easyr1", "verl", "llamafactory")
"""Formats whose trainer takes a list of frames as a video (`video="native"`); TRL and VLMEvalKit take images."""

__all__ = ["DEFAULT_FORMAT_PROMPT", "FORMATS", "NATIVE_VIDEO_FORMATS", "export"]


def export(
    dataset_dir,
    fmt: str,
    out_dir,
    splits: tuple[str, ...] | list[str] = SPLITS,
    format_prompt: str | None = None,
    video: str = "frames",
) -> list[Path]:
    """Write `dataset_dir` in format `fmt` under `out_dir`. `video`: a video task's clips as images ("frames",
    every format) or as the trainer's video field ("native", NATIVE_VIDEO_FORMATS; docs/exports.md).

    Returns:
        The files written.

    Raises:
        ValueError: an unknown format or video mode, native video for a format without it, or a split that is
            not one of SPLITS.
        FileNotFoundError: `dataset_dir` holds no shards.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {sorted(FORMATS)}")
    from spatial_ssrl.export.common import check_video_mode

    check_video_mode(video, fmt, native=fmt in NATIVE_VIDEO_FORMATS)
    if isinstance(splits, str):
        splits = (splits,)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = importlib.import_module(f"spatial_ssrl.export.{fmt}").write
    if fmt in NATIVE_VIDEO_FORMATS:
        return writer(Path(dataset_dir), out, tuple(splits), format_prompt, video=video)
    return writer(Path(dataset_dir), out, tuple(splits), format_prompt)
