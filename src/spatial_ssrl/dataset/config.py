"""`BuildConfig`: every setting of a dataset build, one field each, with its help text.

The `ssrl generate` flags are generated from these fields (`metadata["flag"]` names the flag,
`metadata["help"]` is its help), so each default exists here only. Standard library only, so the
command line can be built without loading the engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


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
    tasks: list[str] = field(
        default_factory=_registered_tasks,
        metadata={"flag": "--tasks", "help": "comma-separated task names (default: all registered)", "parse": "list"},
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
            "choices": ("jpeg", "png"),
            "help": "encoding of output images: jpeg (quality 95, no chroma subsampling) or png (lossless)",
        },
    )
    jpeg_quality: int = field(default=95, metadata={"help": "JPEG quality of output images"})
    max_side: int | None = field(
        default=None, metadata={"flag": "--max-side", "help": "downscale sources whose long side exceeds this"}
    )
    workers: int = field(
        default=1, metadata={"flag": "--workers", "help": "worker processes (output is identical for any number)"}
    )
    engine: str = field(
        default="local",
        metadata={
            "flag": "--engine",
            "choices": ("local", "ray"),
            "help": "local: this process or a process pool; ray: shards as Ray tasks",
        },
    )
    task_modules: list[str] = field(
        default_factory=list,
        metadata={
            "help": "modules or .py files registering extra tasks, imported in every worker before it runs a shard "
            "(what --import gives)"
        },
    )
    preview: bool = field(default=True, metadata={"help": "write preview.html at the end"})

    def identity(self) -> dict:
        """The fields that decide the output bytes (not how the work is run)."""
        skip = {"out_dir", "workers", "engine", "preview", "task_modules"}
        return {k: v for k, v in asdict(self).items() if k not in skip}
