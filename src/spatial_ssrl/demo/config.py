"""The demo's settings (`DemoConfig`) and the names of what it writes; shared by the pipeline and the report."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field
from typing import Any

STATE_FILE = "demo.json"
MODELS = {"base": "model", "cold_start": "sft", "grpo": "grpo"}  # evaluated model -> its folder under OUT
MODEL_NAMES = {"base": "base", "cold_start": "cold start", "grpo": "GRPO"}
EVAL_BENCH = "pretext-test"


class DemoError(RuntimeError):
    """The demo cannot run or continue in this folder (the message says what to do)."""


# Samples per task of the demo dataset. Flip gets nearly all of them: a model trained from scratch on a CPU
# needs about 10,000 distinct examples of one task before it reads the picture (docs/evidence.md), and ten
# minutes buy one such task; the others are there to show every task end to end.
DEMO_TASK_SAMPLES = {
    "flip": 12000,
    "shuffle": 60,
    "crop": 60,
    "depth_order": 60,
    "position": 60,
    "clip_order": 24,
    "ego_motion": 24,
}


@dataclass
class DemoConfig:
    """Sizes of the demo run. The defaults take about 7 minutes on a 2-core CPU; `DemoConfig.quick` is seconds."""

    out_dir: str = "outputs/demo"
    seed: int = field(default=0, metadata={"help": "seed of the data, the model and training"})
    # data: the bundled photos (RGB tasks) + synthetic RGB-D scenes (the five image tasks) + camera paths through
    # synthetic scenes (the video tasks); `task_samples` is spread evenly over the sources that serve each task
    scenes: int = field(default=3000, metadata={"help": "synthetic RGB-D scenes"})
    scene_size: tuple[int, int] = (128, 96)  # 12 visual tokens per image: a CPU step stays cheap
    camera_paths: int = field(default=12, metadata={"help": "synthetic camera paths (the two video tasks)"})
    path_frames: int = 48  # frames per camera path
    task_samples: dict[str, int] = field(default_factory=lambda: dict(DEMO_TASK_SAMPLES))
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.85, "validation": 0.05, "test": 0.1})
    workers: int = 2  # dataset worker processes (the output is the same for any number)
    # model: a random Qwen2.5-VL small enough to train on a CPU
    arch: str = "qwen2_5_vl"
    hidden: int = 128  # learns flip per example as fast as 192 or 256 on the probe, at 1.8x their speed
    layers: int = 2
    vision_hidden: int = 64
    max_pixels: int = 28 * 28 * 16  # at most 16 visual tokens per image
    # Training starts from the shipped configs sft/tiny-cpu and grpo/tiny-cpu (batch sizes, KL, validation
    # sampling); the fields below are what the demo sizes differently.
    # cold start: every train row once, answers with one sentence of reasoning, a constant rate (the rate and batch
    # chosen on the validation split with studies/vision_probe.py: docs/evidence.md)
    sft_epochs: float = field(default=2.0, metadata={"help": "cold-start epochs"})
    sft_learning_rate: float = 5e-4
    sft_batch_size: int = 32
    coldstart_reasoning: str = "brief"  # "full": each task's evidence template (~200 tokens per answer)
    # GRPO
    grpo_steps: int = field(default=30, metadata={"help": "GRPO steps"})
    num_generations: int = 4
    max_completion_length: int = 48  # a brief answer is about 20 tokens
    # evaluation on the held-out test split (greedy)
    eval_max_new_tokens: int = 48
    eval_batch_size: int = 32
    eval_limit: int | None = field(default=None, metadata={"help": "evaluate on the first N test items only"})
    gallery_per_task: int = 2

    @classmethod
    def quick(cls, out_dir: str, **overrides: Any) -> DemoConfig:
        """A run of well under a minute (tests, smoke checks): same stages, tiny sizes."""
        sizes: dict[str, Any] = dict(
            scenes=12, camera_paths=5, path_frames=32, hidden=64, vision_hidden=32, sft_epochs=1.0, grpo_steps=2,
            task_samples={task: 12 for task in DEMO_TASK_SAMPLES}, sft_batch_size=8,
            eval_batch_size=8, gallery_per_task=1,
            splits={"train": 0.6, "validation": 0.2, "test": 0.2},  # every split gets sources out of 21
        )  # fmt: skip
        return cls(out_dir=out_dir, **{**sizes, **overrides})

    def settings(self) -> dict[str, Any]:
        """Everything but the output folder, as it reads back from JSON (compared on a rerun)."""
        values = asdict(self)
        values.pop("out_dir")
        return json.loads(json.dumps(values))


def field_help(name: str) -> str:
    """Help text of a DemoConfig field for the command line, with the default and the --quick value."""
    f = DemoConfig.__dataclass_fields__[name]
    quick = getattr(DemoConfig.quick("."), name)
    default = f.default
    text = f.metadata.get("help", name)
    return f"{text} (default {default}; --quick: {quick})" if quick != default else f"{text} (default {default})"


def config_from_args(out_dir: str, quick: bool = False, **overrides: Any) -> DemoConfig:
    """A DemoConfig for the command line: the defaults (or `quick`) with the given fields replaced."""
    names = {f.name for f in dataclasses.fields(DemoConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown demo settings: {sorted(unknown)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return DemoConfig.quick(out_dir, **overrides) if quick else DemoConfig(out_dir=out_dir, **overrides)
