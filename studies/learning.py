"""CPU learning study: does the pretext data teach a model anything, and what does GRPO add over more SFT?

Every stage runs the project's own commands (the code paths of a paper-scale run), in-process through
`spatial_ssrl.cli.main`:

    data     ssrl generate   synthetic RGB-D scenes, all five tasks, split by source (train / validation / test)
    model    ssrl tiny-model a randomly initialised Qwen2.5-VL-architecture model
    sft      ssrl train sft  cold start on every train row (responses from the task templates)
    grpo     ssrl train grpo from the SFT model, the project's rewards, `grpo_steps` steps
    control  ssrl train sft  from the SFT model on the same train prompts, as many sequences through forward and
                             backward as GRPO trained on (steps x 2 prompts x generations / SFT_BATCH steps)
    eval     ssrl eval       base, sft, grpo and control on the held-out test split (greedy, cot)
    transfer studies.transfer: the random model and the GRPO model, each fine-tuned with the same few-shot
                             budget on synthetic spatial QA (`studies/spatial_qa.py`), evaluated on held-out scenes

Then `tables.md`, `results.json` and `accuracy_vs_chance.png`: per task, held-out accuracy with its 95%
Wilson interval next to the task's chance level (`TaskSpec.chance_of`: a uniform guess over its answer
space); GRPO minus control per task with a 95% interval for the difference of two proportions
(Newcombe's method 10, from the two Wilson intervals); the transfer tables and `transfer.png`; and the
training curves (`<stage>/plots/`).
Everything is recomputed from the predictions that `ssrl eval` scored
(`eval/<model>/pretext-test/scored.jsonl`), never copied from a summary.

A stage whose output folder holds `stage.json` with the same settings is skipped, so an interrupted
study resumes where it stopped; a stage whose settings changed is refused (delete its folder).
Several seeds (`--seeds 0 1`) repeat every stage with the seed of the data, the model and training.

    python -m studies.learning runs/study --seeds 0 1     # the study
    python -m studies.learning runs/study-quick --quick   # minutes: every stage, tiny sizes (the test)
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from studies.common import difference_table, read_jsonl, run_command, stage, task_table, training_record
from studies.transfer import TransferSettings, prepare_data, run_transfer, transfer_results

EVAL_BENCH = "pretext-test"
MODELS = ("base", "sft", "grpo", "control")  # evaluated checkpoints; base = the untrained model
SFT_BATCH = 8  # per_device_train_batch_size of configs/sft/tiny-cpu.yaml (sequences per SFT step)


@dataclass(frozen=True)
class StudySettings:
    """Sizes of one seed's run. The defaults are the study; `quick()` runs every stage in minutes."""

    scenes: int = 160  # synthetic RGB-D scenes (sources), split by source
    scene_size: tuple[int, int] = (256, 192)
    per_task: int = 3  # samples per scene and task
    splits: str = "train=0.7,validation=0.1,test=0.2"
    hidden: int = 256  # tiny model width (~1.4M parameters at 256)
    max_pixels: int = 28 * 28 * 64  # the processor's image bound: up to 64 visual tokens per image
    vision_hidden: int = 64  # width of the vision encoder
    sft_epochs: float = 6.0
    sft_learning_rate: float = 3e-4  # chosen on validation (docs/evidence.md): 2e-3 never learns the image
    grpo_steps: int = 60
    num_generations: int = 4
    max_completion_length: int = 384
    eval_max_new_tokens: int = 400
    eval_batch_size: int = 16
    transfer: TransferSettings = TransferSettings()

    @classmethod
    def quick(cls) -> StudySettings:
        """Every stage at tiny sizes: a few minutes on 2 cores."""
        return cls(
            scenes=16,
            scene_size=(128, 96),
            per_task=1,
            splits="train=0.6,validation=0.2,test=0.2",
            hidden=64,
            max_pixels=28 * 28 * 16,
            vision_hidden=32,
            sft_epochs=1.0,
            grpo_steps=2,
            max_completion_length=48,
            eval_max_new_tokens=48,
            eval_batch_size=8,
            transfer=TransferSettings.quick(),
        )


def run_seed(out: Path, seed: int, s: StudySettings, transfer_data: Path | None = None) -> dict[str, Any]:
    """Every stage of one seed under `out/seed-<seed>`; returns the stage records."""
    root = out / f"seed-{seed}"
    data, model = root / "data", root / "model"
    common = ["--report_to", "none", "--save_strategy", "no", "--eval_strategy", "no", "--seed", str(seed)]
    stages: dict[str, Any] = {}
    w, h = s.scene_size
    stages["data"] = stage(
        data,
        {"scenes": s.scenes, "size": [w, h], "per_task": s.per_task, "splits": s.splits, "seed": seed},
        lambda: run_command(
            ["generate", str(data), "--inputs", f"synthetic:{s.scenes}x{w}x{h}", "--per-task", str(s.per_task)]
            + ["--splits", s.splits, "--seed", str(seed)]
        ),
    )
    sizes = {"hidden": s.hidden, "max_pixels": s.max_pixels, "vision_hidden": s.vision_hidden}
    stages["model"] = stage(
        model,
        {**sizes, "seed": seed},
        lambda: run_command(
            ["tiny-model", str(model), "--seed", str(seed)]
            + [arg for k, v in sizes.items() for arg in (f"--{k.replace('_', '-')}", str(v))]
        ),
    )
    sft = root / "sft"

    def train_sft() -> dict[str, Any]:
        run_command(
            ["train", "sft", "--config", "sft/tiny-cpu", "--model_name_or_path", str(model)]
            + ["--train_file", str(data), "--output_dir", str(sft), "--num_train_epochs", str(s.sft_epochs)]
            + ["--learning_rate", str(s.sft_learning_rate)]
            + common
        )
        return training_record(sft)

    stages["sft"] = stage(sft, {"epochs": s.sft_epochs, "learning_rate": s.sft_learning_rate, "seed": seed}, train_sft)
    grpo = root / "grpo"

    def train_grpo() -> dict[str, Any]:
        run_command(
            ["train", "grpo", "--config", "grpo/tiny-cpu", "--model_name_or_path", str(sft)]
            + ["--train_file", str(data), "--output_dir", str(grpo), "--max_steps", str(s.grpo_steps)]
            + ["--num_generations", str(s.num_generations), "--max_completion_length", str(s.max_completion_length)]
            + ["--per_device_train_batch_size", str(2 * s.num_generations)]
            + common
        )
        return training_record(grpo)

    stages["grpo"] = stage(grpo, {"steps": s.grpo_steps, "generations": s.num_generations, "seed": seed}, train_grpo)
    # Compute-matched control: continued SFT from the same model on the same train rows, with as many sequences
    # through forward and backward as GRPO trained on (its rollout generation is extra, uncounted compute).
    control_steps = max(1, round(s.grpo_steps * 2 * s.num_generations / SFT_BATCH))
    control = root / "control"

    def train_control() -> dict[str, Any]:
        run_command(
            ["train", "sft", "--config", "sft/tiny-cpu", "--model_name_or_path", str(sft)]
            + ["--train_file", str(data), "--output_dir", str(control), "--max_steps", str(control_steps)]
            + ["--learning_rate", str(s.sft_learning_rate)]
            + common
        )
        return {**training_record(control), "matched_sequences": control_steps * SFT_BATCH}

    stages["control"] = stage(control, {"steps": control_steps, "seed": seed}, train_control)
    for name, folder in zip(MODELS, (model, sft, grpo, control)):
        target = root / "eval" / name
        stages[f"eval-{name}"] = stage(
            target,
            {"model": name, "max_new_tokens": s.eval_max_new_tokens},
            lambda folder=folder, target=target: run_command(
                ["eval", "--model", str(folder), "--bench", f"pretext:{data}:test", "--out", str(target)]
                + ["--device", "cpu", "--dtype", "float32", "--batch-size", str(s.eval_batch_size)]
                + ["--max-new-tokens", str(s.eval_max_new_tokens), "--quiet"]
            ),
        )
    if transfer_data is not None:
        starts = {"scratch": model, "pretext": grpo}
        stages.update(run_transfer(root, transfer_data, starts, s.transfer, seed))
    return stages


# ---------------------------------------------------------------------------- tables from the predictions


def scored_items(out: Path, seed: int, model: str) -> list[dict]:
    """The per-item records `ssrl eval` wrote for one model (category = task, score 0/1, chance)."""
    return read_jsonl(out / f"seed-{seed}" / "eval" / model / EVAL_BENCH / "scored.jsonl")


def results(out: Path, seeds: list[int]) -> dict[str, Any]:
    """Learnability (each model vs chance) and GRPO vs control per task, for every seed."""
    per_seed = {}
    for seed in seeds:
        tables = {m: task_table(scored_items(out, seed, m)) for m in MODELS}
        rl = difference_table(tables["grpo"], tables["control"], ("grpo", "control"))
        root = out / f"seed-{seed}"
        stages = {p.parent.name: json.loads(p.read_text()) for p in root.glob("*/stage.json")}
        stages.update({p.parent.name: json.loads(p.read_text()) for p in root.glob("transfer/*/stage.json")})
        per_seed[str(seed)] = {"models": tables, "grpo_vs_control": rl, "stages": stages}
        if (root / "transfer" / "eval").is_dir():
            per_seed[str(seed)]["transfer"] = transfer_results(root)
    return {"seeds": per_seed}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def tables_markdown(res: dict[str, Any]) -> str:
    """The learnability and GRPO-vs-control tables of every seed."""
    lines = []
    for seed, r in res["seeds"].items():
        lines += [f"## Seed {seed}", "", "| task | n | chance | best constant | " + " | ".join(MODELS) + " |"]
        lines.append("|---|---:|---:|---:|" + "---:|" * len(MODELS))
        for task, first in r["models"]["base"].items():
            cells = []
            for m in MODELS:
                b = r["models"][m][task]
                star = "*" if b["above"] else ""
                cells.append(f"{_pct(b['accuracy'])} [{_pct(b['ci95'][0])}–{_pct(b['ci95'][1])}]{star}")
            head = f"| {task} | {first['n']} | {_pct(first['chance'])} | {_pct(first['best_constant'])} | "
            lines.append(head + " | ".join(cells) + " |")
        formats = " | ".join(_pct(r["models"][m]["all"]["format"]) for m in MODELS)
        lines.append(f"| format (all) | | | | {formats} |")
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
        if "transfer" in r:
            lines += transfer_markdown(r["transfer"])
    lines.append(
        "Accuracy on the held-out test split (%), [95% Wilson interval]; * = the interval lies above chance. "
        "Best constant: the share of the most frequent correct answer, what answering one thing to every "
        "question would score."
    )
    return "\n".join(lines) + "\n"


def transfer_markdown(t: dict[str, Any]) -> list[str]:
    """The transfer tables of one seed: each evaluated model per category, and pretext minus scratch."""
    names = list(t["models"])
    lines = ["Transfer (spatial QA on held-out scenes):", "", "| category | n | chance | " + " | ".join(names) + " |"]
    lines.append("|---|---:|---:|" + "---:|" * len(names))
    for cat, first in t["models"][names[0]].items():
        cells = []
        for name in names:
            b = t["models"][name][cat]
            star = "*" if b["above"] else ""
            cells.append(f"{_pct(b['accuracy'])} [{_pct(b['ci95'][0])}–{_pct(b['ci95'][1])}]{star}")
        lines.append(f"| {cat} | {first['n']} | {_pct(first['chance'])} | " + " | ".join(cells) + " |")
    lines.append("| format | | | " + " | ".join(_pct(t["format"][n]) for n in names) + " |")
    if t["pretext_minus_scratch"]:
        lines += ["", "| category | pretext | scratch | pretext − scratch [95% CI] |", "|---|---:|---:|---:|"]
        for cat, d in t["pretext_minus_scratch"].items():
            diff = f"{100 * d['difference']:+.1f} [{100 * d['ci95'][0]:+.1f}, {100 * d['ci95'][1]:+.1f}]"
            lines.append(f"| {cat} | {_pct(d['pretext'])} | {_pct(d['scratch'])} | {diff} |")
    return lines + [""]


def _bars(ax, tables: dict[str, dict[str, Any]], models: list[str], title: str) -> None:
    """Accuracy per category for each model (bars, 95% intervals as error bars), chance as a black line."""
    import numpy as np

    categories = list(tables[models[0]])
    x = np.arange(len(categories))
    width = 0.8 / len(models)
    for k, model in enumerate(models):
        acc = np.array([100 * tables[model][c]["accuracy"] for c in categories])
        lo = acc - np.array([100 * tables[model][c]["ci95"][0] for c in categories])
        hi = np.array([100 * tables[model][c]["ci95"][1] for c in categories]) - acc
        yerr = np.maximum(0.0, [lo, hi])  # an interval's end can differ from the estimate by -1e-15 at 0% or 100%
        ax.bar(x + (k - (len(models) - 1) / 2) * width, acc, width, yerr=yerr, capsize=2, label=model)
    chance = [100 * tables[models[0]][c]["chance"] for c in categories]
    ax.hlines(chance, x - 0.45, x + 0.45, colors="black", linewidths=1.5, label="chance")
    ax.set_xticks(x, categories, rotation=20)
    ax.set_ylim(0, 100)
    ax.set_ylabel("held-out accuracy (%)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)


def accuracy_plot(res: dict[str, Any], path: Path, transfer: bool = False) -> Path:
    """One panel per seed: held-out accuracy per task of every model (or, with `transfer`, per spatial-QA
    category of every transfer model), 95% intervals, the chance level as a black line across each group."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    seeds = [seed for seed in res["seeds"] if not transfer or "transfer" in res["seeds"][seed]]
    fig, axes = plt.subplots(1, len(seeds), figsize=(6.5 * len(seeds), 3.8), squeeze=False)
    for ax, seed in zip(axes[0], seeds):
        tables = res["seeds"][seed]["transfer"]["models"] if transfer else res["seeds"][seed]["models"]
        _bars(ax, tables, list(tables), f"{'transfer, ' if transfer else ''}seed {seed}")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _metric(folder: Path, key: str) -> tuple[list[int], list[float]]:
    from spatial_ssrl.train.metrics import read_metrics

    records = read_metrics(folder)
    pairs = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float)) and "train_runtime" not in r]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _smooth(values: list[float], window: int) -> list[float]:
    """Trailing mean over `window` points (GRPO's per-step reward is a mean over 8 completions: noisy)."""
    return [
        sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1])
        for i in range(len(values))
    ]


def curves_plot(out: Path, seeds: list[int], path: Path) -> Path:
    """Training curves of every seed: cold-start SFT loss, GRPO reward and accuracy reward (trailing mean of 10
    steps), and the control's loss, read from each stage's metrics.jsonl."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("sft", "loss", "cold-start SFT loss"), ("grpo", "reward", "GRPO reward (mean of 10 steps)"),
              ("grpo", "rewards/accuracy_reward/mean", "GRPO accuracy reward (mean of 10 steps)"),
              ("control", "loss", "control (continued SFT) loss")]  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2))
    for ax, (stage_name, key, title) in zip(axes, panels):
        for seed in seeds:
            steps, values = _metric(out / f"seed-{seed}" / stage_name, key)
            ax.plot(steps, _smooth(values, 10) if stage_name == "grpo" else values, label=f"seed {seed}")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_study(out: str | Path, seeds: list[int], settings: StudySettings) -> dict[str, Any]:
    """Run (or resume) every seed, then write results.json and tables.md under `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(asdict(settings), indent=2))
    transfer_data = out / "transfer-data"  # the spatial-QA sets, shared by every seed
    prepare_data(transfer_data, settings.transfer)
    for seed in seeds:
        run_seed(out, seed, settings, transfer_data)
    res = results(out, seeds)
    (out / "results.json").write_text(json.dumps(res, indent=2))
    (out / "tables.md").write_text(tables_markdown(res))
    accuracy_plot(res, out / "accuracy_vs_chance.png")
    curves_plot(out, seeds, out / "curves.png")
    if any("transfer" in r for r in res["seeds"].values()):
        accuracy_plot(res, out / "transfer.png", transfer=True)
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
