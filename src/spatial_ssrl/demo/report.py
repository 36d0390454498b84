"""The demo report: one self-contained HTML page, and the same numbers as Markdown and JSON.

    python -m spatial_ssrl.demo.report OUT      # (re)write OUT/report.{html,md,json} from a demo folder

Everything is read back from the files the stages wrote (demo.json, dataset/stats.json and shards, the training
runs' metrics.jsonl and plots, the eval runs' results.json and scored.jsonl), so the report shows what is on disk.
Images are embedded as data URIs: the page opens anywhere, with no network and no other file. The pages are
the templates report.html.j2 and report.md.j2 (spatial_ssrl/templates); both draw their tables from
`report_tables`, with the one `table` macro of macros.j2.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from spatial_ssrl.dataset.preview import sample_view
from spatial_ssrl.dataset.schema import SPLITS, read_rows
from spatial_ssrl.dataset.templating import macro, render
from spatial_ssrl.demo.config import EVAL_BENCH, MODEL_NAMES, MODELS, STATE_FILE

CHART = "eval/compare/per_task.png"  # accuracy and format per task, drawn by write_report
SFT_CURVES = ["loss", "token_accuracy"]
GRPO_CURVES = ["reward", "format", "accuracy", "completion_length"]
OUTPUTS = [
    ("model/", "the tiny base model (random weights, Qwen2.5-VL architecture)"),
    ("dataset/data/*.parquet", "the generated dataset (Hugging Face Image layout), train/validation/test"),
    ("dataset/stats.json", "counts per task, variant and split, rejections by reason"),
    ("dataset/preview.html", "a gallery of generated samples"),
    ("sft/", "the cold-start model; metrics.jsonl, plots/, data/ (the cold-start set it trained on)"),
    ("grpo/", "the GRPO model; metrics.jsonl, plots/, data/ (the TRL export it trained on)"),
    ("eval/<model>/", "predictions.jsonl, scored.jsonl and results.json of each model on the test split"),
    ("eval/compare/", "the three models side by side: compare.md/json/png (`ssrl compare`), per_task.png"),
    ("report.md, report.json", "this report's numbers as Markdown and JSON"),
]


def to_percent(value: float | None) -> float | None:
    """A fraction as a percentage rounded to 0.1 (None stays None)."""
    return None if value is None else round(100 * value, 1)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _task_split_counts(dataset: Path) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {}
    for split in SPLITS:
        for row in read_rows(dataset, split, columns=["task"]):
            counts.setdefault(row["task"], Counter())[split] += 1
    return {task: {s: counts[task][s] for s in SPLITS} for task in sorted(counts)}


def _comparison(out: Path) -> dict[str, Any]:
    """Accuracy and format (%) per task and overall for each model, from the eval runs' results.json."""
    results = {}
    for key in MODELS:
        path = out / "eval" / key / "results.json"
        results[key] = json.loads(path.read_text())["benchmarks"][EVAL_BENCH]
    tasks = sorted({t for r in results.values() for t in r["by_category"]})
    rows = []
    for task in tasks + ["all"]:
        blocks = {k: (r if task == "all" else r["by_category"].get(task, {})) for k, r in results.items()}
        rows.append(
            {
                "task": task,
                "n": next(b.get("n") for b in blocks.values()),
                "chance": to_percent(next((b["chance"] for b in blocks.values() if b.get("chance") is not None), None)),
                "accuracy": {k: to_percent(b.get("accuracy")) for k, b in blocks.items()},
                "ci95": {k: [to_percent(v) for v in b["ci95"]] if b.get("ci95") else None for k, b in blocks.items()},
                "format": {k: to_percent(b.get("format_rate")) for k, b in blocks.items()},
            }
        )
    return {"benchmark": EVAL_BENCH, "split": "test", "rows": rows}


def _training(out: Path, state: dict) -> dict[str, Any]:
    training = {}
    for run, curves in (("sft", SFT_CURVES), ("grpo", GRPO_CURVES)):
        summary = dict(state["stages"].get(run, {}).get("summary", {}))
        summary["curves"] = [f"{run}/plots/{c}.png" for c in curves if (out / run / "plots" / f"{c}.png").exists()]
        training[run] = summary
    return training


def _gallery(out: Path, per_task: int) -> dict[str, list[dict]]:
    """Test samples per task, from different sources where possible, with each model's response, extracted
    answer and score."""
    scored, responses = {}, {}
    for key in MODELS:
        folder = out / "eval" / key / EVAL_BENCH
        scored[key] = {r["id"]: r for r in _read_jsonl(folder / "scored.jsonl")}
        responses[key] = {r["id"]: r["response"] for r in _read_jsonl(folder / "predictions.jsonl")}
    evaluated = set.intersection(*(set(s) for s in scored.values()))
    candidates: dict[str, list[dict]] = {}
    for row in read_rows(out / "dataset", "test"):
        if row["id"] in evaluated:
            candidates.setdefault(row["task"], []).append(row)
    gallery: dict[str, list[dict]] = {}
    for task, rows in sorted(candidates.items()):
        # one row per source first, then the rest, in file order
        seen: set[str] = set()
        firsts = [r for r in rows if not (r["source_id"] in seen or seen.add(r["source_id"]))]
        ordered = firsts + [r for r in rows if r not in firsts]
        gallery[task] = [
            {
                "id": row["id"],
                "answer": row["answer"],
                "predictions": {
                    k: {
                        "pred": s[row["id"]]["pred"],
                        "score": s[row["id"]]["score"],
                        "response": responses[k].get(row["id"]),
                    }
                    for k, s in scored.items()
                },
                "_row": row,
            }
            for row in ordered[:per_task]
        ]
    return gallery


def collect(out: str | Path) -> dict[str, Any]:
    """The report's data from a demo folder (JSON-ready except the gallery's `_row` entries)."""
    out = Path(out)
    state = json.loads((out / STATE_FILE).read_text())
    stats = json.loads((out / "dataset" / "stats.json").read_text())
    stages = [{"name": n, "title": s["title"], "seconds": s["seconds"]} for n, s in state["stages"].items()]
    return {
        "title": "spatial-ssrl demo",
        "created": time.strftime("%Y-%m-%d %H:%M"),
        "settings": state["config"],
        "stages": stages,
        "total_seconds": round(sum(s["seconds"] for s in stages), 1),
        "dataset": {
            "samples": stats["samples"],
            "sources": stats["sources"],
            "sources_per_split": stats["sources_per_split"],
            "per_split": stats["per_split"],
            "per_task": stats["per_task"],
            "per_task_split": _task_split_counts(out / "dataset"),
            "per_variant": stats["per_variant"],
            "rejections": stats["rejections"],
        },
        "model": state["stages"].get("model", {}).get("summary", {}),
        "models": [{"key": k, "name": MODEL_NAMES[k], "path": f"{folder}/"} for k, folder in MODELS.items()],
        "training": _training(out, state),
        "comparison": _comparison(out),
        "gallery": _gallery(out, int(state["config"].get("gallery_per_task", 2))),
        "outputs": [{"path": p, "what": w} for p, w in OUTPUTS],
    }


def to_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report as written to report.json (JSON-serialisable, no paths of this machine)."""
    clean = dict(report)
    clean["gallery"] = {
        t: [{k: v for k, v in r.items() if k != "_row"} for r in rows] for t, rows in report["gallery"].items()
    }
    return clean


# ---------------------------------------------------------------- tables and pages


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _accuracy_cell(row: dict[str, Any], key: str) -> str:
    """Accuracy with its 95% interval, e.g. `38.9 [24.8–55.1]`, starred when the interval lies above chance."""
    value, ci, chance = row["accuracy"][key], (row.get("ci95") or {}).get(key), row.get("chance")
    if value is None or not ci:
        return _cell(value)
    above = chance is not None and ci[0] > chance
    return f"{value:.1f} [{ci[0]:.1f}–{ci[1]:.1f}]" + ("*" if above else "")


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _thousands(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _reasons(rejections: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(rejections.items())) or "none"


def _short(text: str | None, limit: int) -> str:
    if text is None:
        return "(no answer)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


EXPECTATION = (
    "A tiny random model (Qwen2.5-VL architecture, 0.6M parameters) trained for minutes on a CPU. Expect the cold "
    "start to teach the answer format (think, then a boxed answer) and to bring flip above chance on the held-out "
    "test split: a model trained from scratch needs about 10,000 distinct examples of one task before it reads "
    "the picture (docs/evidence.md), so the demo spends its budget on flip (12,000 samples, two epochs) and gives "
    "every other task 60 samples or fewer, where accuracy stays near chance. Thirty GRPO steps at the paper's "
    "learning rate barely move the model. The paper's gains need the 3B/7B models and GPUs (docs/paper_scale.md)."
)


CHANCE_NOTE = (
    "chance: the accuracy of a uniform guess over each task's answer space (1/8 for flip, 1/6 for three-region "
    "depth ordering, 1/23 for a 2x2 shuffle, 1/4 for the lettered tasks; the all row averages it over the items). "
    "Brackets: 95% Wilson interval of the accuracy; * = the whole interval lies above chance."
)


def report_tables(report: dict[str, Any]) -> dict[str, dict[str, list]]:
    """The report's tables, each a `head` and `rows` of cells printed as they are (numbers already formatted):
    comparison, dataset (per task and split) and stages, each ending with its total row, and outputs. The HTML
    and the Markdown page both print these, so the two cannot disagree."""
    keys = [m["key"] for m in report["models"]]
    names = [m["name"] for m in report["models"]]
    ds = report["dataset"]
    return {
        "comparison": {
            "head": ["task", "n", "chance", *[f"accuracy: {n}" for n in names], *[f"format: {n}" for n in names]],
            "rows": [
                [
                    r["task"],
                    r["n"],
                    _cell(r.get("chance")),
                    *[_accuracy_cell(r, k) for k in keys],
                    *[_cell(r["format"][k]) for k in keys],
                ]
                for r in report["comparison"]["rows"]
            ],
        },
        "dataset": {
            "head": ["task", *SPLITS, "total"],
            "rows": [[t, *[c[s] for s in SPLITS], ds["per_task"][t]] for t, c in ds["per_task_split"].items()]
            + [["all", *[ds["per_split"].get(s, 0) for s in SPLITS], ds["samples"]]],
        },
        "stages": {
            "head": ["stage", "seconds"],
            "rows": [[s["title"], f"{s['seconds']:.1f}"] for s in report["stages"]]
            + [["total", f"{report['total_seconds']:.1f}"]],
        },
        "outputs": {"head": ["path", "what"], "rows": [[o["path"], o["what"]] for o in report["outputs"]]},
    }


def _markdown_table(table: dict[str, list]) -> str:
    # the options report.md.j2 passes for these tables: the strings appear verbatim in report.md
    return macro("macros.j2", "table")(table["head"], table["rows"], "md", total_last=True, numeric=True)


def comparison_markdown(report: dict[str, Any]) -> str:
    """Accuracy and format (%) per task and overall of each model, as a Markdown table (as in report.md)."""
    return _markdown_table(report_tables(report)["comparison"])


def dataset_markdown(report: dict[str, Any]) -> str:
    """Samples per task and split, with totals, as a Markdown table (as in report.md)."""
    return _markdown_table(report_tables(report)["dataset"])


def _context(report: dict[str, Any]) -> dict[str, Any]:
    """What both report templates print: the report, its tables and the formatting helpers."""
    return {
        "report": report,
        "tables": report_tables(report),
        "expectation": EXPECTATION,
        "chance_note": CHANCE_NOTE,
        "rejections": _reasons(report["dataset"]["rejections"]),
        "num": _num,
    }


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: comparison, training summary, dataset, stages and outputs (no images)."""
    return render("report.md.j2", **_context(report))


def results_chart(report: dict[str, Any], path: Path) -> Path:
    """Accuracy and format per task (and all tasks), one bar per model; accuracy bars carry their 95% interval
    (a task with a handful of test items would otherwise look as certain as one with a thousand)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt
    import numpy as np

    rows = report["comparison"]["rows"]
    models = report["models"]
    x = np.arange(len(rows))
    width = 0.8 / len(models)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for ax, metric in zip(axes, ("accuracy", "format")):
        for k, model in enumerate(models):
            heights = [np.nan if r[metric][model["key"]] is None else r[metric][model["key"]] for r in rows]
            errors = None
            if metric == "accuracy":
                intervals = [(r.get("ci95") or {}).get(model["key"]) for r in rows]
                spans = [
                    [h - ci[0], ci[1] - h] if ci and not np.isnan(h) else [np.nan, np.nan]
                    for h, ci in zip(heights, intervals)
                ]
                errors = np.array(spans).T
            ax.bar(x + (k - (len(models) - 1) / 2) * width, heights, width, label=model["name"], yerr=errors,
                   error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "0.3"})  # fmt: skip
        if metric == "accuracy":  # chance level of each task: a short black line across its group of bars
            chance = [np.nan if r.get("chance") is None else r["chance"] for r in rows]
            ax.hlines(chance, x - 0.45, x + 0.45, colors="black", linewidths=1.5, label="chance")
        ax.set_xticks(x, [r["task"] for r in rows], rotation=20)
        ax.set_title(f"{metric} on the test split (%)")
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _figures(out: Path, files: list[str]) -> list[dict[str, str]]:
    """PNG files of the demo folder as figures: path, alt text and the image as a data URI."""
    return [{"path": f, "alt": Path(f).stem, "src": _png_uri(out / f)} for f in files]


def _gallery_view(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per task, each gallery sample's card content and the models' (shortened) answers and responses."""
    names = {m["key"]: m["name"] for m in report["models"]}
    return {
        task: [
            {
                "sample": sample_view(entry["_row"], max_side=256),
                "predictions": [
                    {
                        "model": names[key],
                        "pred": _short(p["pred"], 40),
                        "right": p["score"] == 1,
                        "response": _short(p.get("response"), 2000),
                    }
                    for key, p in entry["predictions"].items()
                ],
            }
            for entry in rows
        ]
        for task, rows in report["gallery"].items()
    }


def to_html(report: dict[str, Any], out: Path) -> str:
    """The report as one self-contained HTML page; `out` is the demo folder holding the charts and curves."""
    out = Path(out)
    ds = report["dataset"]
    return render(
        "report.html.j2",
        **_context(report),
        parameters=_thousands(report.get("model", {}).get("parameters")),
        sources_per_split=", ".join(f"{s} {n}" for s, n in ds["sources_per_split"].items()),
        chart=_figures(out, [CHART]) if (out / CHART).exists() else [],
        curves={run: _figures(out, report["training"][run]["curves"]) for run in ("sft", "grpo")},
        gallery=_gallery_view(report),
    )


def write_report(out: str | Path) -> list[Path]:
    """Write report.html, report.md and report.json into the demo folder `out`; returns the three paths."""
    out = Path(out)
    report = collect(out)
    results_chart(report, out / CHART)
    paths = [out / "report.html", out / "report.md", out / "report.json"]
    paths[0].write_text(to_html(report, out), encoding="utf-8")
    paths[1].write_text(to_markdown(report), encoding="utf-8")
    paths[2].write_text(json.dumps(to_json(report), indent=2, ensure_ascii=False), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    """`python -m spatial_ssrl.demo.report DEMO_DIR`: rewrite the report files of a demo folder."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m spatial_ssrl.demo.report DEMO_DIR", file=sys.stderr)
        return 2
    for path in write_report(argv[0]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
