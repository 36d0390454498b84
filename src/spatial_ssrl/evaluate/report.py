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


# Table 1 of the paper: its seven spatial benchmarks, in its column order, and its reported rows
# (accuracy %, ../shared/SPEC.md section 4), shown as reference lines under a comparison.
TABLE1_COLUMNS = ("Spatial457", "3DSRBench", "SpatialEval", "QSpatial+", "What'sUp", "ViewSpatial", "VSI-Bench")
PAPER_TABLE1 = {
    "Qwen2.5-VL-3B": (33.70, 50.30, 54.65, 33.66, 85.85, 35.38, 27.84, 45.91),
    "Spatial-SSRL-3B": (46.07, 51.72, 59.59, 39.60, 86.71, 36.62, 33.49, 50.54),
    "Qwen2.5-VL-7B": (44.67, 53.39, 62.37, 46.53, 86.95, 36.83, 38.08, 52.69),
    "Spatial-SSRL-7B": (53.34, 56.53, 64.03, 54.46, 90.61, 37.81, 39.29, 56.58),
}


def table1_column(name: str, summary: dict[str, Any]) -> str | None:
    """The Table 1 column a benchmark result fills, from the module that scored it (`rules`) and its name:
    QSpatial+ is the `QSpatial_plus` file only, What'sUp the Controlled_Images_A subset the paper reports."""
    rules, lowered = str(summary.get("rules", "")), name.casefold()
    if rules == "QSpatial":
        return "QSpatial+" if "plus" in lowered else None
    if rules == "WhatsUp":
        return "What'sUp" if "controlled_images" in lowered or lowered.endswith("_a") else None
    return rules if rules in TABLE1_COLUMNS else None


def table1(run_dirs: list[str | Path], names: list[str] | None = None) -> dict[str, Any]:
    """Each run's scores in Table 1's columns: {"columns", "models": [{"name", "protocol", "scores", "avg",
    "sources"}], "paper": PAPER_TABLE1}. `avg` is over the seven columns, only when a run has all seven."""
    dirs = [Path(d) for d in run_dirs]
    runs = [load_run(d) for d in dirs]
    models = []
    for name, run in zip(_names(runs, dirs, names), runs):
        scores: dict[str, float] = {}
        sources: dict[str, str] = {}
        for bench, summary in run["benchmarks"].items():
            column = table1_column(bench, summary)
            if column and column not in scores and summary.get("score") is not None:
                scores[column], sources[column] = round(100 * summary["score"], 2), bench
        complete = all(c in scores for c in TABLE1_COLUMNS)
        models.append(
            {
                "name": name,
                "protocol": run.get("run", {}).get("protocol", "official"),
                "prompt_template": run.get("run", {}).get("prompt_template", "project"),
                "scores": scores,
                "sources": sources,
                "avg": round(sum(scores[c] for c in TABLE1_COLUMNS) / len(TABLE1_COLUMNS), 2) if complete else None,
            }
        )
    return {"columns": list(TABLE1_COLUMNS), "models": models, "paper": PAPER_TABLE1}


def table1_markdown(table: dict[str, Any]) -> str:
    """Table 1 as Markdown: one row per run (with its protocol), then the paper's rows for reference."""
    cols = table["columns"]
    lines = [
        "| model | protocol | " + " | ".join(cols) + " | avg |",
        "|---|---|" + "---:|" * (len(cols) + 1),
    ]
    for m in table["models"]:
        cells = " | ".join(_cell(m["scores"].get(c)) for c in cols)
        lines.append(f"| {m['name']} | {m['protocol']} | {cells} | {_cell(m['avg'])} |")
    for name, row in table["paper"].items():
        lines.append(f"| *{name} (paper)* | paper | " + " | ".join(f"*{v:.2f}*" for v in row) + " |")
    return "\n".join(lines) + "\n\navg: over the seven columns, shown only for a run that has all seven.\n"


def _tables(summary: dict[str, Any] | None) -> dict[str, dict]:
    """A summary's breakdown tables by title: the module's own, then the per-category one."""
    summary = summary or {}
    tables = dict(summary.get("breakdowns") or {})
    tables.setdefault("category", summary.get("by_category") or {})
    return tables


def breakdowns_markdown(run_dirs: list[str | Path], names: list[str] | None = None) -> str:
    """Every benchmark's official breakdowns (the module's tables, then categories), runs side by side."""
    dirs = [Path(d) for d in run_dirs]
    runs = [load_run(d) for d in dirs]
    labels = _names(runs, dirs, names)
    benches: list[str] = []
    for run in runs:
        benches += [b for b in run["benchmarks"] if b not in benches]
    lines = ["# Breakdowns", ""]
    for bench in benches:
        summaries = [run["benchmarks"].get(bench) for run in runs]
        first = next(s for s in summaries if s)
        headline = first.get("headline") or "accuracy"
        lines += [f"## {bench}", "", f"rules: {first.get('rules', '?')} · score: {headline}", ""]
        per_run = [_tables(s) for s in summaries]
        titles: list[str] = []
        for tables in per_run:
            titles += [t for t, rows in tables.items() if rows and t not in titles]
        for title in titles:
            rows: list[str] = []
            for tables in per_run:
                rows += [r for r in tables.get(title, {}) if r not in rows]
            lines += [f"| {title} | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
            for row in rows:
                values = [tables.get(title, {}).get(row, {}).get("score") for tables in per_run]
                cells = " | ".join(_cell(None if v is None else 100 * v) for v in values)
                lines.append(f"| {row or '(none)'} | {cells} |")
            lines.append("")
    return "\n".join(lines)


def compare(run_dirs: list[str | Path], names: list[str] | None = None, out_dir: str | Path | None = None) -> str:
    """Table 1 when the runs hold any of its benchmarks, else the plain table; with `out_dir`, also writes
    compare.md (both tables), compare.json, compare.png and breakdowns.md there."""
    table = comparison(run_dirs, names)
    markdown = comparison_markdown(table)
    paper = table1(run_dirs, names)
    has_table1 = any(m["scores"] for m in paper["models"])
    shown = table1_markdown(paper) if has_table1 else markdown
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        both = (f"## Table 1\n\n{table1_markdown(paper)}\n" if has_table1 else "") + f"## All benchmarks\n\n{markdown}"
        (out / "compare.md").write_text(both)
        (out / "compare.json").write_text(json.dumps({**table, "table1": paper}, indent=2))
        (out / "breakdowns.md").write_text(breakdowns_markdown(run_dirs, names))
        bar_chart(table, out / "compare.png")
    return shown
