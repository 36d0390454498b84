"""Several runs side by side: benchmarks as columns, models as rows, an average, and each model's
difference from the first (the layout of Table 1 of the paper), as Markdown, JSON and a bar chart.

The average is over the benchmarks every run has, so models are compared on the same set; a benchmark
missing from a run shows as "—".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_run(run_dir: str | Path) -> dict[str, Any]:
    """The `results.json` of an `ssrl eval` output folder.

    Raises:
        FileNotFoundError: the folder has no results.json.
    """
    path = Path(run_dir) / "results.json"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir}: no results.json (run `ssrl eval ... --out {run_dir}` first)")
    return json.loads(path.read_text())


def _names(runs: list[dict], run_dirs: list[Path], names: list[str] | None) -> list[str]:
    if names:
        if len(names) != len(runs):
            raise ValueError(f"{len(names)} names for {len(runs)} runs")
        return list(names)
    guessed = [Path(str(r.get("run", {}).get("model") or d.name)).name for r, d in zip(runs, run_dirs)]
    return guessed if len(set(guessed)) == len(guessed) else [d.name for d in run_dirs]


def comparison(run_dirs: list[str | Path], names: list[str] | None = None) -> dict[str, Any]:
    """{"benchmarks": [...], "common": [...], "models": [{"name", "scores": {bench: %}, "avg", "delta": {...}}]}."""
    dirs = [Path(d) for d in run_dirs]
    runs = [load_run(d) for d in dirs]
    benchmarks: list[str] = []
    for run in runs:
        benchmarks += [b for b in run["benchmarks"] if b not in benchmarks]
    common = [b for b in benchmarks if all(b in r["benchmarks"] for r in runs)]
    models = []
    for name, run, d in zip(_names(runs, dirs, names), runs, dirs):
        scores = {b: round(100 * s["score"], 2) for b, s in run["benchmarks"].items() if s.get("score") is not None}
        avg_of = [scores[b] for b in common if b in scores]
        models.append(
            {
                "name": name,
                "run_dir": str(d),
                "mode": run.get("run", {}).get("mode"),
                "scores": scores,
                "avg": round(sum(avg_of) / len(avg_of), 2) if avg_of else None,
            }
        )
    base = models[0]
    for m in models:
        m["delta"] = {
            b: round(m["scores"][b] - base["scores"][b], 2)
            for b in benchmarks
            if b in m["scores"] and b in base["scores"]
        }
        if m["avg"] is not None and base["avg"] is not None:
            m["delta"]["avg"] = round(m["avg"] - base["avg"], 2)
    return {"benchmarks": benchmarks, "common": common, "baseline": base["name"], "models": models}


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def comparison_markdown(table: dict[str, Any]) -> str:
    """A `comparison()` table as Markdown: a row per model, then a Δ row against the first model."""
    cols = table["benchmarks"]
    lines = [
        "| model | " + " | ".join(cols) + " | avg |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    for k, m in enumerate(table["models"]):
        lines.append(
            f"| {m['name']} | " + " | ".join(_cell(m["scores"].get(b)) for b in cols) + f" | {_cell(m['avg'])} |"
        )
        if k:
            lines.append(
                f"| Δ vs {table['baseline']} | "
                + " | ".join(_signed(m["delta"].get(b)) for b in cols)
                + f" | {_signed(m['delta'].get('avg'))} |"
            )
    note = "" if table["common"] == cols else f"\navg over the benchmarks every run has: {', '.join(table['common'])}\n"
    return "\n".join(lines) + "\n" + note


def bar_chart(table: dict[str, Any], path: str | Path) -> Path:
    """Grouped bars: one group per benchmark (and avg), one bar per model."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt
    import numpy as np

    cols = table["benchmarks"] + ["avg"]
    models = table["models"]
    x = np.arange(len(cols))
    width = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(cols) + 2), 4.0))
    for k, m in enumerate(models):
        values = [m["avg"] if c == "avg" else m["scores"].get(c) for c in cols]
        heights = [np.nan if v is None else v for v in values]
        ax.bar(x + (k - (len(models) - 1) / 2) * width, heights, width, label=m["name"])
    ax.set_xticks(x, cols, rotation=30, ha="right")
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def compare(run_dirs: list[str | Path], names: list[str] | None = None, out_dir: str | Path | None = None) -> str:
    """The Markdown table; with `out_dir`, also writes compare.md, compare.json and compare.png there."""
    table = comparison(run_dirs, names)
    markdown = comparison_markdown(table)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.md").write_text(markdown)
        (out / "compare.json").write_text(json.dumps(table, indent=2))
        bar_chart(table, out / "compare.png")
    return markdown
