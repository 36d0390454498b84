"""`BuildConfig`: every setting of a dataset build, one field each, with its help text.

The `ssrl generate` flags are generated from these fields (`metadata["flag"]` names the flag,
`metadata["help"]` is its help), so each default exists here only. Standard library only, so the
command line can be built without loading the engine.

`BuildConfig.__post_init__` checks every field (types, ranges, names) and raises `BuildConfigError`
with one line naming the field and its flag, so a bad value fails before any work starts.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spatial_ssrl.contract import SPLITS

# Sample indices of top-up round r start at r * SAMPLE_INDEX_STRIDE, so rounds never reuse an index;
# a (source, task) may therefore plan at most SAMPLE_INDEX_STRIDE // max_attempts samples per round.
SAMPLE_INDEX_STRIDE = 1_000_000
MIN_MAX_SIDE = 64  # below this no built-in task can cut pieces of its minimum size (32 px)
MAX_WORKERS = 256  # worker processes a build may start
MAX_ATTEMPTS = 1000  # attempts per wanted sample
MAX_TOPUP_ROUNDS = 100
JPEG_QUALITY_RANGE = (1, 95)  # Pillow: above 95 only grows files
MIN_SHARD_BYTES = 1 << 20  # max_shard_bytes may not go below 1 MiB
MIN_ROW_GROUP_BYTES = 64 << 10  # max_row_group_bytes may not go below 64 KiB
# Parquet readers (pyarrow, `datasets`) fail on a row group holding over 2 GiB of binary in a list
# column; 1 GiB leaves room for the other columns and for one oversized row.
MAX_ROW_GROUP_BYTES = 1 << 30
ENGINE_NAMES = ("local", "ray")
IMAGE_FORMATS = ("jpeg", "png")


class BuildConfigError(ValueError):
    """A BuildConfig field has a value a build cannot use; the message is one line naming the field."""


def _registered_tasks() -> list[str]:
    import spatial_ssrl.tasks  # noqa: F401  (registers the built-in tasks)
    from spatial_ssrl.engine.registry import list_tasks

    return list_tasks()


@dataclass
class BuildConfig:
    """Settings of one dataset build (`dataset.builder.build`)."""

    out_dir: Path = field(metadata={"help": "output folder"})
    seed: int = field(default=0, metadata={"flag": "--seed", "help": "seed of every sample's random stream"})
    total: int | None = field(
        default=None,
        metadata={"flag": "--total", "help": "total samples over all tasks (default: --per-task per source and task)"},
    )
    samples_per_task: int = field(
        default=2, metadata={"flag": "--per-task", "help": "samples per source and task when --total is not given"}
    )
    tasks: list[str] | None = field(
        default=None,
        metadata={
            "flag": "--tasks",
            "help": "comma-separated task names (default: every registered task the inputs can serve: image tasks "
            "for photos and scenes, video tasks for videos and camera paths)",
            "parse": "list",
        },
    )
    task_mix: dict[str, float] | None = field(
        default=None,
        metadata={
            "flag": "--mix",
            "help": "task weights for --total, e.g. shuffle=1,flip=1 (default: each task's registered mix "
            "weight, the released Spatial-SSRL-81k counts for the built-in tasks)",
            "parse": "pairs",
        },
    )
    variant_weights: dict[str, dict[str, float]] = field(
        default_factory=dict,
        metadata={"help": "task -> {variant: weight}; a task not listed uses its registered weights"},
    )
    splits: dict[str, float] = field(
        default_factory=lambda: {"train": 0.98, "validation": 0.01, "test": 0.01},
        metadata={
            "flag": "--splits",
            "help": "split fractions as name=fraction pairs",
            "show_default": True,
            "parse": "pairs",
        },
    )
    samples_per_shard: int = field(
        default=256,
        metadata={"flag": "--shard-size", "help": "planned samples per shard (bounds memory and work lost to a crash)"},
    )
    max_attempts: int = field(
        default=6, metadata={"help": "attempts per wanted sample before a (source, task) gives up"}
    )
    max_topup_rounds: int = field(default=4, metadata={"help": "rounds that re-ask other sources for a shortfall"})
    image_format: str = field(
        default="jpeg",
        metadata={
            "flag": "--format",
            "choices": IMAGE_FORMATS,
            "help": "encoding of output images: jpeg (quality 95, no chroma subsampling) or png (lossless)",
        },
    )
    jpeg_quality: int = field(default=95, metadata={"help": "JPEG quality of output images (1..95)"})
    max_source_pixels: int | None = field(
        default=None,
        metadata={
            "flag": "--max-source-pixels",
            "help": "per-source memory budget: sources (and depth maps) with more pixels are refused from their "
            "headers, before decoding; a source costs about 8 bytes per pixel in memory (default: the readers' "
            "limit, 64M pixels)",
        },
    )
    max_side: int | None = field(
        default=None,
        metadata={"flag": "--max-side", "help": f"downscale sources whose long side exceeds this (>= {MIN_MAX_SIDE})"},
    )
    max_shard_bytes: int = field(
        default=512 << 20,
        metadata={
            "flag": "--max-shard-bytes",
            "help": "largest parquet file in bytes: a shard's rows spill into further files past it (>= 1 MiB)",
        },
    )
    max_row_group_bytes: int = field(
        default=64 << 20,
        metadata={
            "help": "largest parquet row group in bytes (images included), so every reader can load one; "
            "64 KiB .. 1 GiB and at most max_shard_bytes"
        },
    )
    workers: int = field(
        default=1, metadata={"flag": "--workers", "help": "worker processes (output is identical for any number)"}
    )
    engine: str = field(
        default="local",
        metadata={
            "flag": "--engine",
            "choices": ENGINE_NAMES,
            "help": "local: this process or a process pool; ray: shards as Ray tasks",
        },
    )
    ray_address: str | None = field(
        default=None,
        metadata={
            "flag": "--ray-address",
            "help": "with --engine ray: the running cluster to join, e.g. 10.0.0.1:6379 (default: $RAY_ADDRESS, "
            "else a local Ray); OUT must be on storage every node mounts",
        },
    )
    task_modules: list[str] = field(
        default_factory=list,
        metadata={
            "help": "modules or .py files registering extra tasks, imported in every worker before it runs a shard "
            "(what --import gives)"
        },
    )
    shard_timeout: float | None = field(
        default=3600.0,
        metadata={
            "flag": "--shard-timeout",
            "help": "seconds a worker may spend on one shard (or one batch of the content pre-pass) before it is "
            "killed and the source in flight is recorded as unreadable; None = no limit; needs --workers >= 2",
        },
    )
    preview: bool = field(default=True, metadata={"help": "write preview.html at the end"})

    def __post_init__(self) -> None:
        _validate(self)

    def identity(self) -> dict:
        """The fields that decide the output bytes (not how the work is run)."""
        skip = {"out_dir", "workers", "engine", "ray_address", "preview", "task_modules", "shard_timeout"}
        return {k: v for k, v in asdict(self).items() if k not in skip}


# ---------------------------------------------------------------------------------------------
# Validation


def _name(config_field: str) -> str:
    """`total (--total)`: the field, and its flag when it has one."""
    flag = BuildConfig.__dataclass_fields__[config_field].metadata.get("flag")
    return f"{config_field} ({flag})" if flag else config_field


def _fail(config_field: str, problem: str, value: Any) -> BuildConfigError:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return BuildConfigError(f"{_name(config_field)} {problem}, got {text}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_int(config: BuildConfig, name: str, low: int | None = None, high: int | None = None, none: bool = False):
    value = getattr(config, name)
    if value is None and none:
        return
    if not _is_int(value):
        raise _fail(name, "must be an integer" + (" or None" if none else ""), value)
    if low is not None and value < low:
        raise _fail(name, f"must be >= {low}", value)
    if high is not None and value > high:
        raise _fail(name, f"must be <= {high}", value)


def _check_weights(name: str, weights: Any, known: tuple[str, ...] | list[str] | None, what: str) -> None:
    """Names known (when `known` is given), weights finite and >= 0, at least one positive."""
    if not isinstance(weights, dict) or not weights:
        raise _fail(name, f"must be a non-empty mapping of {what} name to weight", weights)
    for key, w in weights.items():
        if not isinstance(key, str):
            raise _fail(name, f"has a {what} name that is not a string", key)
        if known is not None and key not in known:
            raise _fail(name, f"names the unknown {what} {key!r} (known: {', '.join(known)})", weights)
        if not _is_number(w) or not math.isfinite(w) or w < 0:
            raise _fail(name, f"needs a finite weight >= 0 for {key!r}", w)
    if not any(w > 0 for w in weights.values()):
        raise _fail(name, "needs at least one positive weight", weights)


def _validate(config: BuildConfig) -> None:
    """Raise BuildConfigError (one line) for the first field a build cannot use."""
    if not isinstance(config.out_dir, (str, os.PathLike)) or not str(config.out_dir):
        raise _fail("out_dir", "must be a folder path", config.out_dir)
    _check_int(config, "seed")
    _check_int(config, "total", low=1, none=True)
    _check_int(config, "max_attempts", low=1, high=MAX_ATTEMPTS)
    _check_int(config, "samples_per_task", low=0, high=SAMPLE_INDEX_STRIDE // config.max_attempts)
    _check_int(config, "samples_per_shard", low=1)
    _check_int(config, "max_topup_rounds", low=0, high=MAX_TOPUP_ROUNDS)
    _check_int(config, "jpeg_quality", low=JPEG_QUALITY_RANGE[0], high=JPEG_QUALITY_RANGE[1])
    _check_int(config, "max_side", low=MIN_MAX_SIDE, none=True)
    _check_int(config, "max_source_pixels", low=MIN_MAX_SIDE * MIN_MAX_SIDE, none=True)
    _check_int(config, "workers", low=1, high=MAX_WORKERS)
    _check_int(config, "max_shard_bytes", low=MIN_SHARD_BYTES)
    _check_int(config, "max_row_group_bytes", low=MIN_ROW_GROUP_BYTES, high=MAX_ROW_GROUP_BYTES)
    if config.max_row_group_bytes > config.max_shard_bytes:
        raise _fail(
            "max_row_group_bytes", f"must be <= max_shard_bytes ({config.max_shard_bytes})", config.max_row_group_bytes
        )
    timeout = config.shard_timeout
    if timeout is not None and (not _is_number(timeout) or not math.isfinite(timeout) or timeout <= 0):
        raise _fail("shard_timeout", "must be a finite number of seconds > 0, or None for no limit", timeout)
    if config.image_format not in IMAGE_FORMATS:
        raise _fail("image_format", f"must be one of {', '.join(IMAGE_FORMATS)}", config.image_format)
    address = config.ray_address
    if address is not None and (not isinstance(address, str) or not address.strip() or address != address.strip()):
        raise _fail("ray_address", "must be an address such as 10.0.0.1:6379, ray://host:10001 or auto", address)
    if config.engine not in ENGINE_NAMES:
        raise _fail("engine", f"must be one of {', '.join(ENGINE_NAMES)}", config.engine)
    tasks = _registered_tasks() if config.tasks is None else config.tasks
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t for t in tasks):
        raise _fail("tasks", "must be a non-empty list of task names", tasks)
    if len(set(tasks)) != len(tasks):
        raise _fail("tasks", "lists a task twice", tasks)
    if config.task_mix is not None:
        _check_weights("task_mix", config.task_mix, tasks, "task")
    if not isinstance(config.variant_weights, dict):
        raise _fail("variant_weights", "must be a mapping of task name to {variant: weight}", config.variant_weights)
    for task, weights in config.variant_weights.items():
        if task not in tasks:
            raise _fail("variant_weights", f"names the task {task!r}, which is not in tasks", task)
        _check_weights("variant_weights", weights, None, f"{task} variant")
    _check_weights("splits", config.splits, SPLITS, "split")
    if not isinstance(config.task_modules, list) or not all(isinstance(m, str) for m in config.task_modules):
        raise _fail("task_modules", "must be a list of module names or .py paths", config.task_modules)
    if not isinstance(config.preview, bool):
        raise _fail("preview", "must be True or False", config.preview)
