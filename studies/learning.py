"""CPU learning study: does the pretext data teach a model anything, and what does GRPO add over more SFT?

Every stage runs the project's own commands (the code paths of a paper-scale run), in-process through
`spatial_ssrl.cli.main`:

    data     ssrl generate   synthetic RGB-D scenes, all five tasks, split by source (train / validation / test)
    model    ssrl tiny-model a randomly initialised Qwen2.5-VL-architecture model
    sft      ssrl train sft  cold start on every train row (responses from the task templates)
    grpo     ssrl train grpo from the SFT model, the project's rewards, GRPO_STEPS steps (wall time measured)
    control  ssrl train sft  from the SFT model on the same train prompts for the same wall time as GRPO:
                             max_steps = GRPO's wall time / the SFT stage's seconds per step (compute-matched)
    eval     ssrl eval       base, sft, grpo and control on the held-out test split (greedy, cot)

Then `tables.md`, `results.json` and `accuracy_vs_chance.png`: per task, held-out accuracy with its 95%
Wilson interval next to the task's chance level (`TaskSpec.chance_of`: a uniform guess over its answer
space); GRPO minus control per task with a 95% interval for the difference of two proportions
(Newcombe's method 10, from the two Wilson intervals); and the training curves (`<stage>/plots/`).
Everything is recomputed from the predictions that `ssrl eval` scored
(`eval/<model>/pretext-test/scored.jsonl`), never copied from a summary.

A stage whose output folder holds `stage.json` with the same settings is skipped, so an interrupted
study resumes where it stopped; a stage whose settings changed is refused (delete its folder).
Several seeds (`--seeds 0 1`) repeat every stage with the seed of the data, the model and training.

    python -m studies.learning runs/study --seeds 0 1     # the study
    python -m studies.learning runs/study-quick --quick   # minutes: every stage, tiny sizes (the test)

What this does not do yet: the transfer comparison of issue 15 (pre-trained vs not on the synthetic
spatial QA of `studies/spatial_qa.py` after few-shot fine-tuning).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.evaluate.summary import wilson_interval

EVAL_BENCH = "pretext-test"
MODELS = ("base", "sft", "grpo", "control")  # evaluated checkpoints; base = the untrained model


@dataclass(frozen=True)
class StudySettings:
    """Sizes of one seed's run. The defaults are the study; `quick()` runs every stage in minutes."""

    scenes: int = 160  # synthetic RGB-D scenes (sources), split by source
    scene_size: tuple[int, int] = (192, 144)
    per_task: int = 3  # samples per scene and task
    splits: str = "train=0.7,validation=0.1,test=0.2"
    hidden: int = 256  # tiny model width (~1.4M parameters at 256)
    sft_epochs: float = 5.0
    grpo_steps: int = 60
    num_generations: int = 4
    max_completion_length: int = 384
    eval_max_new_tokens: int = 400
    eval_batch_size: int = 16

    @classmethod
    def quick(cls) -> StudySettings:
        """Every stage at tiny sizes: a few minutes on 2 cores."""
        return cls(
            scenes=16,
            scene_size=(128, 96),
            per_task=1,
            splits="train=0.6,validation=0.2,test=0.2",
            hidden=64,
            sft_epochs=1.0,
            grpo_steps=2,
            max_completion_length=48,
            eval_max_new_tokens=48,
            eval_batch_size=8,
        )


class StudyError(RuntimeError):
    """A stage failed or its folder holds another study's output (the message says which)."""


def _run(args: list[str]) -> None:
    code = ssrl(args)
    if code != 0:
        raise StudyError(f"`ssrl {' '.join(args[:2])} ...` exited with {code}")


def _stage(folder: Path, settings: dict[str, Any], work) -> dict[str, Any]:
    """Run `work()` unless `folder/stage.json` records a finished run with these settings; returns its record."""
    record_path = folder / "stage.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("settings") != settings:
            raise StudyError(f"{folder} was made with other settings: delete it to run this stage again")
        return record
    started = time.perf_counter()
    extra = work() or {}
    record = {"settings": settings, "seconds": round(time.perf_counter() - started, 1), **extra}
    folder.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=2))
    return record


def _training_record(folder: Path) -> dict[str, Any]:
    """Steps and train_runtime of a training run, from its metrics.jsonl (the trainer's final record)."""
    records = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines() if x.strip()]
    final = next((r for r in reversed(records) if "train_runtime" in r), {})
    return {"steps": final.get("step"), "train_runtime": final.get("train_runtime")}


def run_seed(out: Path, seed: int, s: StudySettings) -> dict[str, Any]:
    """Every stage of one seed under `out/seed-<seed>`; returns the stage records."""
    root = out / f"seed-{seed}"
    data, model = root / "data", root / "model"
    common = ["--report_to", "none", "--save_strategy", "no", "--eval_strategy", "no", "--seed", str(seed)]
    stages: dict[str, Any] = {}
    w, h = s.scene_size
    stages["data"] = _stage(
        data,
        {"scenes": s.scenes, "size": [w, h], "per_task": s.per_task, "splits": s.splits, "seed": seed},
        lambda: _run(
            ["generate", str(data), "--inputs", f"synthetic:{s.scenes}x{w}x{h}", "--per-task", str(s.per_task)]
            + ["--splits", s.splits, "--seed", str(seed)]
        ),
    )
    stages["model"] = _stage(
        model,
        {"hidden": s.hidden, "seed": seed},
        lambda: _run(["tiny-model", str(model), "--hidden", str(s.hidden), "--seed", str(seed)]),
    )
    sft = root / "sft"

    def train_sft() -> dict[str, Any]:
        _run(
            ["train", "sft", "--config", "sft/tiny-cpu", "--model_name_or_path", str(model)]
            + ["--train_file", str(data), "--output_dir", str(sft), "--num_train_epochs", str(s.sft_epochs)]
            + common
        )
        return _training_record(sft)

    stages["sft"] = _stage(sft, {"epochs": s.sft_epochs, "seed": seed}, train_sft)
    grpo = root / "grpo"

    def train_grpo() -> dict[str, Any]:
        _run(
            ["train", "grpo", "--config", "grpo/tiny-cpu", "--model_name_or_path", str(sft)]
            + ["--train_file", str(data), "--output_dir", str(grpo), "--max_steps", str(s.grpo_steps)]
            + ["--num_generations", str(s.num_generations), "--max_completion_length", str(s.max_completion_length)]
            + ["--per_device_train_batch_size", str(2 * s.num_generations)]
            + common
        )
        return _training_record(grpo)

    stages["grpo"] = _stage(grpo, {"steps": s.grpo_steps, "generations": s.num_generations, "seed": seed}, train_grpo)
    # Compute-matched control: continued SFT from the same model on the same train rows for GRPO's wall time.
    sft_seconds_per_step = stages["sft"]["train_runtime"] / max(1, stages["sft"]["steps"])
    control_steps = max(1, round(stages["grpo"]["train_runtime"] / sft_seconds_per_step))
    control = root / "control"

    def train_control() -> dict[str, Any]:
        _run(
            ["train", "sft", "--config", "sft/tiny-cpu", "--model_name_or_path", str(sft)]
            + ["--train_file", str(data), "--output_dir", str(control), "--max_steps", str(control_steps)]
            + common
        )
        return {**_training_record(control), "matched_to_grpo_seconds": stages["grpo"]["train_runtime"]}

    stages["control"] = _stage(control, {"steps": control_steps, "seed": seed}, train_control)
    for name, folder in zip(MODELS, (model, sft, grpo, control)):
        target = root / "eval" / name
        stages[f"eval-{name}"] = _stage(
            target,
            {"model": name, "max_new_tokens": s.eval_max_new_tokens},
            lambda folder=folder, target=target: _run(
                ["eval", "--model", str(folder), "--bench", f"pretext:{data}:test", "--out", str(target)]
                + ["--device", "cpu", "--dtype", "float32", "--batch-size", str(s.eval_batch_size)]
                + ["--max-new-tokens", str(s.eval_max_new_tokens), "--quiet"]
            ),
        )
    return stages


# ---------------------------------------------------------------------------- tables from the predictions


def scored_items(out: Path, seed: int, model: str) -> list[dict]:
    """The per-item records `ssrl eval` wrote for one model (category = task, score 0/1, chance)."""
    path = out / f"seed-{seed}" / "eval" / model / EVAL_BENCH / "scored.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval of p1 - p2 from the two Wilson intervals (Newcombe 1998, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    lower = (p1 - p2) - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = (p1 - p2) + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lower, upper


def task_table(records: list[dict]) -> dict[str, dict[str, Any]]:
    """Per task and "all": n, correct, accuracy, its Wilson 95% interval, and the mean chance level."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["category"], []).append(r)
    groups["all"] = list(records)
    table = {}
    for task, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        k, n = int(sum(r["score"] for r in rs)), len(rs)
        lo, hi = wilson_interval(k, n)
        chance = sum(r["chance"] for r in rs) / n
        table[task] = {"n": n, "correct": k, "accuracy": k / n, "ci95": [lo, hi], "chance": chance}
        table[task]["above"] = lo > chance
        # Diagnosis: a model that gives one answer to every question of a balanced task scores chance exactly.
        preds = Counter(r.get("pred") for r in rs)
        top, count = preds.most_common(1)[0]
        table[task]["top_prediction"] = {"answer": top, "share": count / n, "distinct": len(preds)}
    return table


def results(out: Path, seeds: list[int]) -> dict[str, Any]:
    """Learnability (each model vs chance) and GRPO vs control per task, for every seed."""
    per_seed = {}
    for seed in seeds:
        tables = {m: task_table(scored_items(out, seed, m)) for m in MODELS}
        rl = {}
        for task, g in tables["grpo"].items():
            c = tables["control"][task]
            lo, hi = newcombe_difference(g["correct"], g["n"], c["correct"], c["n"])
            rl[task] = {"grpo": g["accuracy"], "control": c["accuracy"], "difference": g["accuracy"] - c["accuracy"]}
            rl[task]["ci95"] = [lo, hi]
        stages = {p.parent.name: json.loads(p.read_text()) for p in (out / f"seed-{seed}").glob("*/stage.json")}
        per_seed[str(seed)] = {"models": tables, "grpo_vs_control": rl, "stages": stages}
    return {"seeds": per_seed}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def tables_markdown(res: dict[str, Any]) -> str:
    """The learnability and GRPO-vs-control tables of every seed."""
    lines = []
    for seed, r in res["seeds"].items():
        lines += [f"## Seed {seed}", "", "| task | n | chance | " + " | ".join(MODELS) + " |"]
        lines.append("|---|---:|---:|" + "---:|" * len(MODELS))
        for task, first in r["models"]["base"].items():
            cells = []
            for m in MODELS:
                b = r["models"][m][task]
                star = "*" if b["above"] else ""
                cells.append(f"{_pct(b['accuracy'])} [{_pct(b['ci95'][0])}–{_pct(b['ci95'][1])}]{star}")
            lines.append(f"| {task} | {first['n']} | {_pct(first['chance'])} | " + " | ".join(cells) + " |")
        lines += ["", "| task | most frequent answer (share, distinct answers): " + " | ".join(MODELS) + " |"]
        lines.append("|---|" + "---|" * len(MODELS))
        for task in r["models"]["base"]:
            cells = []
            for m in MODELS:
                t = r["models"][m][task]["top_prediction"]
                answer = "(none)" if not t["answer"] else t["answer"][:12].replace("|", "\\|")
                cells.append(f"{answer} ({_pct(t['share'])}%, {t['distinct']})")
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
        lines += ["", "| task | GRPO | control | GRPO − control [95% CI] |", "|---|---:|---:|---:|"]
        for task, d in r["grpo_vs_control"].items():
            diff = f"{100 * d['difference']:+.1f} [{100 * d['ci95'][0]:+.1f}, {100 * d['ci95'][1]:+.1f}]"
            lines.append(f"| {task} | {_pct(d['grpo'])} | {_pct(d['control'])} | {diff} |")
        lines.append("")
    lines.append("Accuracy on the held-out test split (%), [95% Wilson interval]; * = the interval lies above chance.")
    return "\n".join(lines) + "\n"


def accuracy_plot(res: dict[str, Any], path: Path) -> Path:
    """Held-out accuracy per task for each model (bars, 95% intervals as error bars), one panel per seed, the
    task's chance level as a black line across its group."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt
    import numpy as np

    seeds = list(res["seeds"])
    fig, axes = plt.subplots(1, len(seeds), figsize=(6.5 * len(seeds), 3.8), squeeze=False)
    for ax, seed in zip(axes[0], seeds):
        tables = res["seeds"][seed]["models"]
        tasks = list(tables["base"])
        x = np.arange(len(tasks))
        width = 0.8 / len(MODELS)
        for k, model in enumerate(MODELS):
            acc = np.array([100 * tables[model][t]["accuracy"] for t in tasks])
            lo = acc - np.array([100 * tables[model][t]["ci95"][0] for t in tasks])
            hi = np.array([100 * tables[model][t]["ci95"][1] for t in tasks]) - acc
            ax.bar(x + (k - (len(MODELS) - 1) / 2) * width, acc, width, yerr=[lo, hi], capsize=2, label=model)
        chance = [100 * tables["base"][t]["chance"] for t in tasks]
        ax.hlines(chance, x - 0.45, x + 0.45, colors="black", linewidths=1.5, label="chance")
        ax.set_xticks(x, tasks, rotation=20)
        ax.set_ylim(0, 100)
        ax.set_ylabel("held-out accuracy (%)")
        ax.set_title(f"seed {seed}")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_study(out: str | Path, seeds: list[int], settings: StudySettings) -> dict[str, Any]:
    """Run (or resume) every seed, then write results.json and tables.md under `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(asdict(settings), indent=2))
    for seed in seeds:
        run_seed(out, seed, settings)
    res = results(out, seeds)
    (out / "results.json").write_text(json.dumps(res, indent=2))
    (out / "tables.md").write_text(tables_markdown(res))
    accuracy_plot(res, out / "accuracy_vs_chance.png")
    return res


def main(argv: list[str] | None = None) -> int:
    """`python -m studies.learning OUT [--quick] [--seeds 0 1]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="study folder (resumed when it exists)")
    parser.add_argument("--quick", action="store_true", help="every stage at tiny sizes (minutes)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    settings = StudySettings.quick() if args.quick else StudySettings()
    res = run_study(args.out, args.seeds, replace(settings))
    print(tables_markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
