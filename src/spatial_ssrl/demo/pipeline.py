"""`ssrl demo`: the whole method on one CPU in minutes, offline.

    tiny model -> dataset -> cold-start SFT -> GRPO -> evaluation of the three models -> report

Every stage is the library code a paper-scale run uses (the builder, `run_sft` / `run_grpo` over TRL, the
evaluation runner); only the sizes are small and the model is a tiny random Qwen2.5-VL built on the spot, so
nothing is downloaded. What to expect from it: the cold start teaches the answer format (format rate from ~0 to
~1) and brings flip above chance on the held-out test split (15.7% and 20.0% in two seeds, against 12.5%).
A random 0.6M-parameter model needs about 10,000 distinct examples of one task before it reads the picture
(docs/evidence.md), so the demo spends its budget on flip (12,000 samples from 3,000 scenes, two epochs) and
shows every other task with 60 samples or fewer, where accuracy stays near chance. A few dozen GRPO steps at
the paper's rate barely move the model. The demo shows the pipeline, its outputs and that the data teaches; the paper's
gains need the 3B/7B models and GPUs.

Layout of the output folder:

    OUT/demo.json         settings and finished stages (a rerun skips them; interrupted stages resume)
    OUT/model/            the tiny base model          OUT/dataset/   `ssrl generate` output
    OUT/sft/              cold-start model + metrics   OUT/grpo/      GRPO model + metrics
    OUT/eval/{base,cold_start,grpo}/   `ssrl eval` runs on the held-out test split; OUT/eval/compare/
    OUT/report.html, report.md, report.json
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatial_ssrl.demo.config import EVAL_BENCH, MODEL_NAMES, MODELS, STATE_FILE, DemoConfig, DemoError


@dataclass
class Stage:
    """One step of the demo: what it runs, how long it should take, and what it writes under OUT."""

    name: str
    title: str
    run: Callable[[DemoConfig, Path, dict], dict]  # (config, out dir, state) -> summary saved in demo.json
    estimate: Callable[[DemoConfig, dict], float]  # seconds on a 2-core CPU
    outputs: tuple[str, ...]  # what it writes under OUT: invalid once an earlier stage runs again


# ---------------------------------------------------------------- stages


def make_model(config: DemoConfig, out: Path, state: dict) -> dict:
    """Build the tiny random base model in OUT/model."""
    from spatial_ssrl.train.tiny import build_tiny_model

    folder = build_tiny_model(
        out / "model",
        config.arch,
        hidden=config.hidden,
        layers=config.layers,
        vision_hidden=config.vision_hidden,
        max_pixels=config.max_pixels,
        seed=config.seed,
    )
    info = json.loads((folder / "spatial_ssrl_tiny.json").read_text())
    return {"path": "model", "arch": config.arch, "parameters": info["parameters"], "hidden": config.hidden}


def make_dataset(config: DemoConfig, out: Path, state: dict) -> dict:
    """Generate the demo dataset (bundled photos, synthetic RGB-D scenes and camera paths: all tasks) in
    OUT/dataset. The paths go through scenes other than the still ones (seeds after theirs)."""
    from spatial_ssrl.dataset.builder import BuildConfig, build
    from spatial_ssrl.sources.discover import bundled_photos, synthetic, synthetic_paths

    sources = bundled_photos() + synthetic(config.scenes, size=config.scene_size)
    if config.camera_paths:
        sources += synthetic_paths(config.camera_paths, config.scene_size, config.path_frames, first_seed=config.scenes)
    build_config = BuildConfig(
        out_dir=out / "dataset",
        seed=config.seed,
        total=sum(config.task_samples.values()),
        tasks=list(config.task_samples),
        task_mix={task: float(n) for task, n in config.task_samples.items()},  # exact counts: weights = counts
        splits=dict(config.splits),
        max_side=max(config.scene_size),  # the photos at the scenes' size: small images for a tiny model
        workers=config.workers,
    )
    stats = build(build_config, sources)
    empty = [s for s in ("train", "validation", "test") if not stats["per_split"].get(s)]
    if empty:
        raise DemoError(
            f"the {', '.join(empty)} split(s) got no samples with {len(sources)} sources: raise --scenes "
            "(splits are assigned per source)"
        )
    return {
        "path": "dataset",
        "samples": stats["samples"],
        "per_split": stats["per_split"],  # refines the later stages' time estimates
    }


def _split_rows(config: DemoConfig, state: dict, split: str) -> float:
    """Rows of a split: counted once the dataset exists, else expected from the samples asked for."""
    counted = state.get("dataset", {}).get("summary", {}).get("per_split", {}).get(split)
    return counted if counted is not None else config.splits.get(split, 0) * sum(config.task_samples.values())


def _sft_examples(config: DemoConfig, state: dict) -> float:
    return _split_rows(config, state, "train") * config.sft_epochs


def _series(records: list[dict], key: str) -> list[float]:
    return [r[key] for r in records if isinstance(r.get(key), (int, float))]


def _finish_training(out: Path, run: str, metrics: dict[str, str]) -> dict:
    """Drop the run's checkpoints (they serve resuming an interrupted stage; the final model is saved) and
    summarise it: steps, and the first and last value of each metric (name -> metrics.jsonl key)."""
    from spatial_ssrl.train.metrics import read_metrics

    for checkpoint in (out / run).glob("checkpoint-*"):
        shutil.rmtree(checkpoint, ignore_errors=True)
    records = read_metrics(out / run)
    summary: dict[str, Any] = {"path": run, "steps": max((r["step"] for r in records), default=0)}
    for name, key in metrics.items():
        values = _series(records, key)
        summary[f"first_{name}"] = values[0] if values else None
        summary[f"last_{name}"] = values[-1] if values else None
    return summary


def _cpu_run(config: DemoConfig, output_dir: Path) -> dict[str, Any]:
    """Options both training stages add to their shipped tiny-cpu config: one checkpoint kept for resuming, no
    external loggers (metrics.jsonl and plots are written anyway), our progress bar, the demo's seed."""
    return {
        "output_dir": str(output_dir),
        "save_total_limit": 1,
        "report_to": "none",
        "disable_tqdm": False,
        "seed": config.seed,
    }


def train_cold_start(config: DemoConfig, out: Path, state: dict) -> dict:
    """The shipped `sft/tiny-cpu` config with the demo's sizes: every train row, `sft_epochs` epochs at a constant
    rate, brief reasoning."""
    from trl import ModelConfig, SFTConfig

    from spatial_ssrl.demo.progress import compact_training_bar
    from spatial_ssrl.train.args import DataArguments
    from spatial_ssrl.train.configs import load_config
    from spatial_ssrl.train.sft import run_sft

    data_args, sft_config, model_args = load_config(
        "sft/tiny-cpu",
        (DataArguments, SFTConfig, ModelConfig),
        **_cpu_run(config, out / "sft"),
        train_file=str(out / "dataset"),
        model_name_or_path=str(out / "model"),
        num_train_epochs=config.sft_epochs,
        learning_rate=config.sft_learning_rate,
        lr_scheduler_type="constant",
        per_device_train_batch_size=config.sft_batch_size,
        per_device_eval_batch_size=config.sft_batch_size,
        coldstart_reasoning=config.coldstart_reasoning,
    )
    run_sft(data_args, sft_config, model_args, callbacks=[compact_training_bar("cold start")])
    return _finish_training(out, "sft", {"loss": "loss", "eval_loss": "eval_loss"})


def train_grpo(config: DemoConfig, out: Path, state: dict) -> dict:
    """The shipped `grpo/tiny-cpu` config from the cold-start model, with the demo's step count and lengths."""
    from trl import GRPOConfig, ModelConfig

    from spatial_ssrl.demo.progress import compact_training_bar
    from spatial_ssrl.train.args import DataArguments
    from spatial_ssrl.train.configs import load_config
    from spatial_ssrl.train.grpo import run_grpo

    half = max(1, config.grpo_steps // 2)
    data_args, grpo_config, model_args = load_config(
        "grpo/tiny-cpu",
        (DataArguments, GRPOConfig, ModelConfig),
        **_cpu_run(config, out / "grpo"),
        train_file=str(out / "dataset"),
        model_name_or_path=str(out / "sft"),
        num_generations=config.num_generations,
        per_device_train_batch_size=2 * config.num_generations,  # 2 prompts x their rollouts per step
        max_completion_length=config.max_completion_length,
        max_steps=config.grpo_steps,
        eval_steps=half,
        save_steps=half,
    )
    run_grpo(data_args, grpo_config, model_args, callbacks=[compact_training_bar("GRPO")])
    return _finish_training(out, "grpo", {"reward": "reward", "format": "rewards/format_reward/mean"})


def evaluate_models(config: DemoConfig, out: Path, state: dict) -> dict:
    """Evaluate the base, cold-start and GRPO models on the test split (greedy) and compare them."""
    from spatial_ssrl.evaluate import TransformersBackend, compare, evaluate
    from spatial_ssrl.evaluate.readers.pretext import read_pretext

    bench = read_pretext(out / "dataset", "test", name=EVAL_BENCH)
    if config.eval_limit is not None:
        bench.items = bench.items[: config.eval_limit]
    for key, folder in MODELS.items():
        backend = TransformersBackend(
            str(out / folder),
            device_map=None,
            dtype="float32",
            batch_size=config.eval_batch_size,
            max_new_tokens=config.eval_max_new_tokens,
        )
        evaluate([bench], backend, out / "eval" / key, mode="cot")
    runs = [out / "eval" / key for key in MODELS]
    compare(runs, names=[MODEL_NAMES[k] for k in MODELS], out_dir=out / "eval" / "compare")
    return {"path": "eval", "items": len(bench.items)}


def write_report_stage(config: DemoConfig, out: Path, state: dict) -> dict:
    """Write report.html, report.md and report.json."""
    from spatial_ssrl.demo.report import write_report

    paths = write_report(out)
    return {"files": [p.name for p in paths]}


def _estimate_eval(config: DemoConfig, state: dict) -> float:
    items = _split_rows(config, state, "test")
    if config.eval_limit is not None:
        items = min(items, config.eval_limit)
    return len(MODELS) * (3 + items * config.eval_max_new_tokens * 0.0002 * config.hidden / 256)


# Estimates: seconds measured on a 2-core CPU with the default sizes, scaled by the sizes that drive them.
STAGES = [
    Stage("model", "tiny base model", make_model, lambda c, s: 8.0, ("model",)),
    Stage(
        "dataset",
        "dataset",
        make_dataset,
        lambda c, s: 5 + 0.013 * sum(c.task_samples.values()) / min(c.workers, os.cpu_count() or 1),
        ("dataset",),
    ),
    Stage(
        "sft",
        "cold-start SFT",
        train_cold_start,
        lambda c, s: 15 + _sft_examples(c, s) * 0.015 * (0.3 + 0.7 * c.hidden / 128),
        ("sft",),
    ),
    Stage(
        "grpo",
        "GRPO",
        train_grpo,
        lambda c, s: 10 + c.grpo_steps * 1.7 * c.max_completion_length / 384 * (0.3 + 0.7 * c.hidden / 256),
        ("grpo",),
    ),
    Stage("evaluate", "evaluation of base, cold start and GRPO", evaluate_models, _estimate_eval, ("eval",)),
    Stage("report", "report", write_report_stage, lambda c, s: 6.0, ("report.html", "report.md", "report.json")),
]


# ---------------------------------------------------------------- running


def _remove(out: Path, names) -> None:
    for name in names:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _write_state(out: Path, state: dict) -> None:
    tmp = out / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, out / STATE_FILE)


def _open_state(config: DemoConfig, out: Path, restart: bool) -> dict:
    """The state of the run in `out`: new, or a previous run with the same settings (else DemoError)."""
    path = out / STATE_FILE
    if restart:
        _remove(out, [name for stage in STAGES for name in stage.outputs] + [STATE_FILE])
    if path.exists():
        state = json.loads(path.read_text())
        old, new = state.get("config", {}), config.settings()
        if old != new:
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise DemoError(
                f"{out} holds a demo run with other settings ({', '.join(changed)}): rerun with the same settings "
                "to resume it, pass --restart to replace it, or choose another folder"
            )
        return state
    if out.exists() and any(out.iterdir()):
        raise DemoError(
            f"{out} exists and is not a demo folder (no {STATE_FILE}): remove it, or pass another folder "
            "(ssrl demo OTHER_DIR)"
        )
    out.mkdir(parents=True, exist_ok=True)
    state = {"config": config.settings(), "stages": {}}
    _write_state(out, state)
    return state


@contextlib.contextmanager
def quiet_libraries():
    """Library deprecation notices and per-map progress bars would drown the stage lines; errors still show."""
    import warnings

    import datasets
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = datasets.is_progress_bar_enabled()
    hf_bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # weight loading / saving bars
    datasets.disable_progress_bars()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if hf_bars:
            hf_logging.enable_progress_bar()
        if bars:
            datasets.enable_progress_bars()


def _summary_line(summary: dict) -> str:
    keys = ("samples", "parameters", "steps", "last_loss", "last_reward", "items")
    shown = {k: summary[k] for k in keys if summary.get(k) is not None}
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items())


def run_demo(config: DemoConfig, restart: bool = False, stream=None) -> dict:
    """Run (or resume) the demo in `config.out_dir`; returns the report's data (report.json)."""
    from spatial_ssrl.demo.progress import StageProgress

    out = Path(config.out_dir)
    state = _open_state(config, out, restart)
    done = state["stages"]
    progress = StageProgress(
        [s.title for s in STAGES], [0.0 if s.name in done else s.estimate(config, done) for s in STAGES], stream
    )
    with quiet_libraries():
        for k, stage in enumerate(STAGES):
            if stage.name in done:
                progress.skip(k, done[stage.name]["seconds"])
                continue
            # Later stages' outputs (an evaluation cache of a model about to be retrained) would be stale.
            for later in STAGES[k + 1 :]:
                done.pop(later.name, None)
                _remove(out, later.outputs)
            _write_state(out, state)
            t0 = progress.start(k)
            summary = stage.run(config, out, done)
            seconds = progress.finish(k, t0, _summary_line(summary))
            done[stage.name] = {"title": stage.title, "seconds": round(seconds, 2), "summary": summary}
            _write_state(out, state)
            for later in range(k + 1, len(STAGES)):  # sizes known now (e.g. training rows) refine the estimates
                if STAGES[later].name not in done:
                    progress.set_estimate(later, STAGES[later].estimate(config, done))
    return json.loads((out / "report.json").read_text())
