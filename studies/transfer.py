"""Transfer, the paper's claim in miniature: does pretext pre-training help on spatial questions it never saw?

Two starting points of one seed of the learning study get the same small downstream budget and the same
evaluation:

    scratch  the randomly initialised model (`seed-S/model`), never trained on pretext tasks
    pretext  the same model after cold-start SFT and GRPO on the pretext tasks (`seed-S/grpo`)

Downstream data is the synthetic spatial QA of `studies/spatial_qa.py` (closer / left_of / higher questions
about two marked objects, exact answers from the scenes' 3-D geometry), in three disjoint sets of scenes that
no pretext split contains (scene seeds from 1,000,000 up; `ssrl generate --synthetic N` uses 0..N-1):

    fewshot         the few-shot training items, turned into an SFT parquet (`fewshot_parquet`): the user
                    message is exactly what `ssrl eval` shows for the item (`prompts.build_message` after the
                    runner's `prepare_benchmark`), the response a short think block and `\\boxed{letter}`
    validation      the validation loss during fine-tuning (nothing is tuned on test)
    test            `ssrl eval --bench tsv:spatialqa-test.tsv` after fine-tuning, and zero-shot for the pretext model

Fine-tuning is `ssrl train sft` with the same settings for both starting points (epochs, learning rate, batch,
seed), so they get the same number of forward/backward passes. The result is the accuracy of each model per
category with a 95% Wilson interval next to chance (1/2), and pretext minus scratch with Newcombe's interval
(`studies.common.newcombe_difference`), whatever its sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SET_PREFIX = "spatialqa-"  # the sets are <prefix><name>.tsv; ssrl eval names a TSV benchmark by its stem
TRANSFER_BENCH = SET_PREFIX + "test"
SPLIT_FIRST_SEEDS = {"fewshot": 1_000_000, "validation": 1_100_000, "test": 1_200_000}
REASONS = {
    "closer": "Comparing how far the two marked objects are from the camera, object {k} is the nearer one.",
    "left_of": "Comparing where the two marked objects are across the view, object {k} is further to the left.",
    "higher": "Comparing the tops of the two marked objects above the ground, object {k} reaches higher.",
}


@dataclass(frozen=True)
class TransferSettings:
    """Sizes of the transfer comparison (scenes per set, image size, few-shot fine-tuning)."""

    fewshot_scenes: int = 60  # about 3 items each: the downstream budget, the same for both starting points
    validation_scenes: int = 10
    test_scenes: int = 80
    per_scene: int = 3
    size: tuple[int, int] = (256, 192)  # the pretext scenes' size
    epochs: float = 8.0  # enough for the scratch model to learn the answer format on short responses
    learning_rate: float = 3e-4  # the study's SFT rate
    eval_max_new_tokens: int = 160

    @classmethod
    def quick(cls) -> TransferSettings:
        """A few items per set and one epoch (the study's --quick)."""
        return cls(
            fewshot_scenes=4, validation_scenes=2, test_scenes=4, size=(128, 96), epochs=1.0, eval_max_new_tokens=48
        )


def write_sets(folder: Path, s: TransferSettings) -> dict[str, Any]:
    """The three TSVs under `folder` (deterministic: the same settings give the same bytes); their statistics."""
    from studies.spatial_qa import write_benchmark

    scenes = {"fewshot": s.fewshot_scenes, "validation": s.validation_scenes, "test": s.test_scenes}
    stats = {}
    for name, first in SPLIT_FIRST_SEEDS.items():
        stats[name] = write_benchmark(
            folder / f"{SET_PREFIX}{name}.tsv", range(first, first + scenes[name]), s.size, s.per_scene
        )
    return {name: {"items": st["items"], "per_category": st["per_category"]} for name, st in stats.items()}


def response(category: str, answer: str) -> str:
    """The few-shot target: which object the relation picks, then the boxed letter."""
    k = {"A": 1, "B": 2}[answer]
    return f"<think>{REASONS[category].format(k=k)}</think> \\boxed{{{answer}}}"


def fewshot_parquet(tsv: Path, out: Path) -> int:
    """The SFT parquet (the cold-start layout `ssrl train sft` reads: messages + images) of a spatial-QA TSV,
    each user message exactly as `ssrl eval --bench tsv:TSV` (cot, official) shows the item; returns the rows."""
    from spatial_ssrl.evaluate.backends import encoded_image
    from spatial_ssrl.evaluate.load import load_benchmark
    from spatial_ssrl.evaluate.prompts import build_message
    from spatial_ssrl.evaluate.runner import prepare_benchmark
    from spatial_ssrl.export.common import ParquetSink
    from spatial_ssrl.export.trl import SFT_SCHEMA

    bench, _ = prepare_benchmark(load_benchmark(f"tsv:{tsv}"), "cot", "official", None)
    with ParquetSink(out, SFT_SCHEMA) as sink:
        for item in bench.items:
            assistant = {
                "role": "assistant",
                "content": [{"type": "text", "text": response(item.category, item.answer)}],
            }
            images = [{"bytes": encoded_image(im)[0], "path": None} for im in item.images]
            sink.add(
                {
                    "messages": [build_message(item, "cot"), assistant],
                    "images": images,
                    "id": str(item.id),
                    "task": item.category,
                    "answer": item.answer,
                }
            )
        sink.commit()
    return len(bench.items)


def run_transfer(root: Path, data: Path, starts: dict[str, Path], s: TransferSettings, seed: int) -> dict[str, Any]:
    """Fine-tune every starting point in `starts` on the few-shot set and evaluate it on the test set, plus the
    pretext model zero-shot; stages under `root/transfer` (resumable like the study's); returns their records."""
    from studies.common import run_command, stage, training_record

    out = root / "transfer"
    stages: dict[str, Any] = {}
    common = ["--report_to", "none", "--save_strategy", "no", "--seed", str(seed)]
    evaluated = {f"{name}-fewshot": out / f"ft-{name}" for name in starts}
    if "pretext" in starts:
        evaluated["pretext-zero-shot"] = starts["pretext"]

    def fine_tune(start: Path, target: Path) -> dict[str, Any]:
        run_command(
            ["train", "sft", "--config", "sft/tiny-cpu", "--model_name_or_path", str(start)]
            + ["--train_file", str(data / "fewshot.parquet"), "--eval_file", str(data / "validation.parquet")]
            + ["--output_dir", str(target), "--num_train_epochs", str(s.epochs)]
            + ["--learning_rate", str(s.learning_rate), "--eval_strategy", "epoch"]
            + common
        )
        return training_record(target)

    for name, start in starts.items():
        target = out / f"ft-{name}"
        settings = {"start": name, "epochs": s.epochs, "learning_rate": s.learning_rate, "seed": seed}
        stages[f"ft-{name}"] = stage(target, settings, lambda start=start, target=target: fine_tune(start, target))
    for name, model in evaluated.items():
        target = out / "eval" / name
        stages[f"eval-{name}"] = stage(
            target,
            {"model": name, "max_new_tokens": s.eval_max_new_tokens},
            lambda model=model, target=target: run_command(
                ["eval", "--model", str(model), "--bench", f"tsv:{data / (TRANSFER_BENCH + '.tsv')}"]
                + ["--out", str(target), "--device", "cpu", "--dtype", "float32", "--batch-size", "16"]
                + ["--max-new-tokens", str(s.eval_max_new_tokens), "--quiet"]
            ),
        )
    return stages


def prepare_data(folder: Path, s: TransferSettings) -> dict[str, Any]:
    """The benchmark sets and the SFT parquets of the few-shot and validation sets (one stage, shared by seeds)."""
    from studies.common import stage

    def work() -> dict[str, Any]:
        stats = write_sets(folder, s)
        rows = {
            name: fewshot_parquet(folder / f"{SET_PREFIX}{name}.tsv", folder / f"{name}.parquet")
            for name in ("fewshot", "validation")
        }
        return {"sets": stats, "sft_rows": rows}

    scenes = [s.fewshot_scenes, s.validation_scenes, s.test_scenes]
    return stage(folder, {"scenes": scenes, "per_scene": s.per_scene, "size": list(s.size)}, work)


def scored(root: Path, name: str) -> list[dict]:
    """The items `ssrl eval` scored for one evaluated model (category = closer / left_of / higher)."""
    from studies.common import read_jsonl

    records = read_jsonl(root / "transfer" / "eval" / name / TRANSFER_BENCH / "scored.jsonl")
    return [{**r, "chance": r.get("chance", 0.5)} for r in records]


def transfer_results(root: Path) -> dict[str, Any]:
    """Per evaluated model: the per-category table (accuracy, Wilson interval, chance, answer diagnosis), format
    rate; and pretext minus scratch (both fine-tuned) per category with Newcombe's interval."""
    from studies.common import difference_table, task_table

    names = sorted(p.name for p in (root / "transfer" / "eval").iterdir() if p.is_dir())
    tables = {name: task_table(scored(root, name)) for name in names}
    formats = {name: tables[name]["all"]["format"] for name in names}
    diff = {}
    if {"pretext-fewshot", "scratch-fewshot"} <= set(tables):
        diff = difference_table(tables["pretext-fewshot"], tables["scratch-fewshot"], ("pretext", "scratch"))
    return {"models": tables, "format": formats, "pretext_minus_scratch": diff}
