"""Metrics on disk: every log record appended to `<output_dir>/metrics.jsonl`, PNG curves at the end of training.

`MetricsCallback` is a transformers `TrainerCallback`; it works beside `report_to` (TensorBoard, W&B), which
receive the same records. Only the main process writes. On resume, records past the checkpoint's step (logged
by the interrupted run after its last save) are dropped, so the file reads as one run. Each (re)start of
training is also recorded in `<output_dir>/run_info.json` (start step, number of processes, device).

`plot_metrics(jsonl, out_dir)` draws (matplotlib, Agg backend), training solid and validation dashed:
loss, reward, accuracy and format (overall, and one line per task when logged), KL, completion length,
learning rate. A figure without data is skipped. `python -m spatial_ssrl.train.metrics RUN_DIR` redraws them.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

# File names under the run's output_dir.
METRICS_FILE = "metrics.jsonl"
RUN_INFO_FILE = "run_info.json"
PLOTS_DIR = "plots"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


class MetricsCallback(TrainerCallback):
    """Append each log dict (with step and epoch) to metrics.jsonl; draw PNG curves when training ends."""

    def __init__(self, output_dir: str | Path, plots: bool = True) -> None:
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / METRICS_FILE
        self.plots = plots

    def on_train_begin(self, args, state, control, **kwargs):
        """On the main process: drop records past a resumed checkpoint's step and record this start."""
        if not state.is_world_process_zero:
            return
        if self.path.exists() and state.global_step > 0:
            kept = [line for line in self.path.read_text().splitlines() if _step(line) <= state.global_step]
            self.path.write_text("".join(line + "\n" for line in kept))
        self._record_start(args, state)

    def _record_start(self, args, state) -> None:
        """`run_info.json`: one entry per (re)start of training: step, processes, device."""
        info_path = self.output_dir / RUN_INFO_FILE
        try:
            info = json.loads(info_path.read_text()) if info_path.exists() else {"starts": []}
        except ValueError:
            info = {"starts": []}
        info["starts"].append(
            {
                "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "start_step": state.global_step,
                "max_steps": state.max_steps,
                "world_size": args.world_size,
                "device": str(args.device),
            }
        )
        self.output_dir.mkdir(parents=True, exist_ok=True)
        info_path.write_text(json.dumps(info, indent=1))

    def on_log(self, args, state, control, logs=None, **kwargs):
        """On the main process: append the numeric values of `logs`, with step and epoch (NaN/inf -> null)."""
        if not state.is_world_process_zero or not logs:
            return
        record = {"step": state.global_step, "epoch": _clean(state.epoch)}
        record.update({k: _clean(v) for k, v in logs.items() if isinstance(v, (int, float)) or hasattr(v, "item")})
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def on_train_end(self, args, state, control, **kwargs):
        """On the main process: draw the PNG curves into `<output_dir>/plots` (unless plots are off)."""
        if state.is_world_process_zero and self.plots and self.path.exists():
            plot_metrics(self.path, self.output_dir / PLOTS_DIR)


def _step(line: str) -> int:
    try:
        return int(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return 0


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a metrics.jsonl file, or of the one in a run folder."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _series(records: list[dict], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in records:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            xs.append(r["step"])
            ys.append(v)
    return xs, ys


# figure name -> (title, keys of the overall series, regex of per-task keys with the task as group 1)
FIGURES = {
    "loss": ("loss", ["loss"], None),
    "reward": ("reward (weighted total)", ["reward"], re.compile(r"^reward/([^/]+)$")),
    "accuracy": (
        "accuracy reward",
        ["rewards/accuracy_reward/mean", "rewards/partial_accuracy_reward/mean"],
        re.compile(r"^rewards/(?:partial_)?accuracy_reward/([^/]+)$"),
    ),
    "format": ("format reward", ["rewards/format_reward/mean"], re.compile(r"^rewards/format_reward/([^/]+)$")),
    "kl": ("KL to the reference model", ["kl"], None),
    "completion_length": ("completion length (tokens)", ["completions/mean_length"], None),
    "token_accuracy": ("next-token accuracy", ["mean_token_accuracy"], None),
    "learning_rate": ("learning rate", ["learning_rate"], None),
}
_NOT_TASKS = {"mean", "std"}


def plot_metrics(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one PNG per figure of FIGURES that has data; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(path)
    keys = {k for r in records for k in r}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (title, overall, task_re) in FIGURES.items():
        lines = [("all", key) for key in overall if key in keys]  # (label, key without eval_ prefix)
        if task_re is not None:
            base_keys = sorted({k.removeprefix("eval_") for k in keys})
            by_task = {}
            for k in base_keys:
                m = task_re.match(k)
                if m and m.group(1) not in _NOT_TASKS:
                    by_task.setdefault(m.group(1), k)
            lines += [(task, key) for task, key in sorted(by_task.items())]
        if not lines and not any(f"eval_{k}" in keys for k in overall):
            continue
        fig, ax = plt.subplots(figsize=(7, 4))
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        drawn = 0
        plotted = {key for _, key in lines}
        for k, (label, key) in enumerate(lines):
            color = colors[k % len(colors)]
            width = 2.2 if label == "all" else 1.2
            xs, ys = _series(records, key)
            if xs:
                marker = "." if len(xs) <= 50 else None  # a task seen at a single step is still visible
                ax.plot(xs, ys, color=color, lw=width, marker=marker, label=f"train {label}")
                drawn += 1
            xs, ys = _series(records, f"eval_{key}")
            if xs:
                ax.plot(xs, ys, color=color, lw=width, ls="--", marker="o", ms=3, label=f"validation {label}")
                drawn += 1
        for key in overall:  # validation-only series (e.g. eval_loss when training logs no loss yet)
            if key not in plotted:
                xs, ys = _series(records, f"eval_{key}")
                if xs:
                    ax.plot(xs, ys, ls="--", marker="o", ms=3, label="validation all")
                    drawn += 1
        if not drawn:
            plt.close(fig)
            continue
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        target = out / f"{name}.png"
        fig.savefig(target, dpi=100)
        plt.close(fig)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """`python -m spatial_ssrl.train.metrics RUN_DIR`: redraw the run's plots; returns 0, or 2 on bad usage."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m spatial_ssrl.train.metrics RUN_DIR", file=sys.stderr)
        return 2
    for p in plot_metrics(Path(argv[0]) / METRICS_FILE, Path(argv[0]) / PLOTS_DIR):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
