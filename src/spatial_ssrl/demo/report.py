"""The demo report: one self-contained HTML page, and the same numbers as Markdown and JSON.

    python -m spatial_ssrl.demo.report OUT      # (re)write OUT/report.{html,md,json} from a demo folder

Everything is read back from the files the stages wrote (demo.json, dataset/stats.json and shards, the training
runs' metrics.jsonl and plots, the eval runs' results.json and scored.jsonl), so the report shows what is on disk.
Images are embedded as data URIs: the page opens anywhere, with no network and no other file.
"""

from __future__ import annotations

import base64
import html
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from spatial_ssrl.dataset.preview import CSS as PREVIEW_CSS
from spatial_ssrl.dataset.preview import sample_card
from spatial_ssrl.dataset.schema import SPLITS, read_rows
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
                "accuracy": {k: to_percent(b.get("accuracy")) for k, b in blocks.items()},
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
    clean = dict(report)
    clean["gallery"] = {
        t: [{k: v for k, v in r.items() if k != "_row"} for r in rows] for t, rows in report["gallery"].items()
    }
    return clean


# ---------------------------------------------------------------- Markdown


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def comparison_markdown(report: dict[str, Any]) -> str:
    keys = [m["key"] for m in report["models"]]
    names = [m["name"] for m in report["models"]]
    head = "| task | n | " + " | ".join(f"accuracy: {n}" for n in names) + " | "
    head += " | ".join(f"format: {n}" for n in names) + " |"
    lines = [head, "|---|---:|" + "---:|" * (2 * len(keys))]
    for row in report["comparison"]["rows"]:
        cells = [_cell(row["accuracy"][k]) for k in keys] + [_cell(row["format"][k]) for k in keys]
        task = "**all**" if row["task"] == "all" else row["task"]
        lines.append(f"| {task} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def dataset_markdown(report: dict[str, Any]) -> str:
    ds = report["dataset"]
    lines = ["| task | " + " | ".join(SPLITS) + " | total |", "|---|" + "---:|" * (len(SPLITS) + 1)]
    for task, counts in ds["per_task_split"].items():
        lines.append(f"| {task} | " + " | ".join(str(counts[s]) for s in SPLITS) + f" | {ds['per_task'][task]} |")
    lines.append("| **all** | " + " | ".join(str(ds["per_split"].get(s, 0)) for s in SPLITS) + f" | {ds['samples']} |")
    return "\n".join(lines)


def to_markdown(report: dict[str, Any]) -> str:
    sft, grpo = report["training"]["sft"], report["training"]["grpo"]
    lines = [
        f"# {report['title']} ({report['created']})",
        "",
        EXPECTATION,
        "",
        f"## Models on the held-out test split ({report['comparison']['benchmark']}, %)",
        "",
        comparison_markdown(report),
        "",
        "## Training",
        "",
        f"- cold-start SFT: {sft.get('steps')} steps, loss {_num(sft.get('first_loss'))} -> "
        f"{_num(sft.get('last_loss'))}, last validation loss {_num(sft.get('last_eval_loss'))}; curves: "
        + ", ".join(sft["curves"]),
        f"- GRPO: {grpo.get('steps')} steps, reward {_num(grpo.get('first_reward'))} -> "
        f"{_num(grpo.get('last_reward'))}; curves: " + ", ".join(grpo["curves"]),
        "",
        f"## Dataset ({report['dataset']['samples']} samples from {report['dataset']['sources']} sources)",
        "",
        dataset_markdown(report),
        "",
        f"Rejected candidates by reason: {_reasons(report['dataset']['rejections'])}",
        "",
        "## Stages",
        "",
        "| stage | seconds |",
        "|---|---:|",
        *[f"| {s['title']} | {s['seconds']:.1f} |" for s in report["stages"]],
        f"| **total** | {report['total_seconds']:.1f} |",
        "",
        "## Outputs",
        "",
        *[f"- `{o['path']}`: {o['what']}" for o in report["outputs"]],
        "",
    ]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _reasons(rejections: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(rejections.items())) or "none"


EXPECTATION = (
    "A tiny random model (Qwen2.5-VL architecture) trained for minutes on a CPU: expect the cold start to teach "
    "the answer format (think, then a boxed answer) and accuracy to stay near chance; a few dozen GRPO steps move "
    "a few answers either way. The demo runs every stage of the method on real code paths; the paper's gains need "
    "the 3B/7B models and GPUs (docs/paper_scale.md)."
)


# ---------------------------------------------------------------- HTML

CSS = (
    PREVIEW_CSS
    + """
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#f0f0f0}
tr.total td{font-weight:bold;border-top:2px solid #888}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.6em 1em}
.curves{display:flex;flex-wrap:wrap;gap:1em}.curves img{width:100%;border:1px solid #eee}
.pred{font-size:.9em}.ok{color:#0a6b2c}.bad{color:#b00020}
.pred code,pre{overflow-wrap:anywhere}
.curves figure{margin:0;flex:0 1 560px}.curves figure.wide{flex-basis:1100px}
nav a{margin-right:1em}
code{background:#f3f3f3;padding:0 .2em}
"""
)


def _thousands(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _table(head: list[str], rows: list[list[Any]], table_id: str, total_last: bool = False) -> str:
    parts = [f"<table id='{table_id}'><thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr></thead>"]
    parts.append("<tbody>")
    for k, row in enumerate(rows):
        css = " class='total'" if total_last and k == len(rows) - 1 else ""
        parts.append(f"<tr{css}>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _comparison_html(report: dict[str, Any]) -> str:
    keys = [m["key"] for m in report["models"]]
    names = [m["name"] for m in report["models"]]
    head = ["task", "n"] + [f"accuracy: {n}" for n in names] + [f"format: {n}" for n in names]
    rows = [
        [r["task"], r["n"], *[_cell(r["accuracy"][k]) for k in keys], *[_cell(r["format"][k]) for k in keys]]
        for r in report["comparison"]["rows"]
    ]
    return _table(head, rows, "comparison", total_last=True)


def _dataset_html(report: dict[str, Any]) -> str:
    ds = report["dataset"]
    rows = [[t, *[c[s] for s in SPLITS], ds["per_task"][t]] for t, c in ds["per_task_split"].items()]
    rows.append(["all", *[ds["per_split"].get(s, 0) for s in SPLITS], ds["samples"]])
    table = _table(["task", *SPLITS, "total"], rows, "dataset", total_last=True)
    sources = ", ".join(f"{s} {n}" for s, n in ds["sources_per_split"].items())
    return (
        f"<p>{ds['samples']} samples from {ds['sources']} sources (per split: {_esc(sources)}): the bundled photos "
        "(RGB tasks) and synthetic RGB-D scenes with exact depth (all five tasks). Splits are by source, so no "
        "test photo or scene is seen in training.</p>"
        + table
        + f"<p>Candidates rejected by the verifiability checks: {_esc(_reasons(ds['rejections']))}.</p>"
    )


def results_chart(report: dict[str, Any], path: Path) -> Path:
    """Accuracy and format per task (and all tasks), one bar per model."""
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
            ax.bar(x + (k - (len(models) - 1) / 2) * width, heights, width, label=model["name"])
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


def _curves_html(out: Path, files: list[str], wide: bool = False) -> str:
    css = " class='wide'" if wide else ""
    images = "".join(
        f"<figure{css}><img alt='{_esc(Path(f).stem)}' src='{_png_uri(out / f)}'><figcaption>{_esc(f)}</figcaption>"
        "</figure>"
        for f in files
    )
    return f"<div class='curves'>{images}</div>"


def _short(text: str | None, limit: int) -> str:
    if text is None:
        return "(no answer)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _gallery_html(report: dict[str, Any]) -> str:
    parts = []
    names = {m["key"]: m["name"] for m in report["models"]}
    for task, rows in report["gallery"].items():
        parts.append(f"<h3 id='gallery-{_esc(task)}'>{_esc(task)}</h3>")
        for entry in rows:
            items, details = [], []
            for key, p in entry["predictions"].items():
                verdict = "<span class='ok'>right</span>" if p["score"] == 1 else "<span class='bad'>wrong</span>"
                items.append(f"<li>{_esc(names[key])}: <code>{_esc(_short(p['pred'], 40))}</code> {verdict}</li>")
                details.append(f"<b>{_esc(names[key])}</b><pre>{_esc(_short(p.get('response'), 2000))}</pre>")
            extra = (
                f"<ul class='pred'>{''.join(items)}</ul>"
                f"<details><summary>the models' full responses</summary>{''.join(details)}</details>"
            )
            parts.append(sample_card(entry["_row"], max_side=256, extra_html=extra))
    return "".join(parts)


def to_html(report: dict[str, Any], out: Path) -> str:
    sft, grpo = report["training"]["sft"], report["training"]["grpo"]
    stage_rows = [[s["title"], f"{s['seconds']:.1f}"] for s in report["stages"]]
    stage_rows.append(["total", f"{report['total_seconds']:.1f}"])
    model = report.get("model", {})
    chart = out / CHART
    sections = [
        f"<h1>{_esc(report['title'])}</h1>",
        f"<p class='meta'>{_esc(report['created'])} &middot; {report['total_seconds']:.0f} s &middot; "
        f"seed {_esc(report['settings'].get('seed'))}</p>",
        "<nav><a href='#results'>results</a><a href='#training'>training</a><a href='#dataset'>dataset</a>"
        "<a href='#gallery'>samples</a><a href='#stages'>stages</a><a href='#outputs'>outputs</a></nav>",
        f"<p class='note'>{_esc(EXPECTATION)}</p>",
        "<h2 id='results'>Models on the held-out test split</h2>",
        f"<p>Greedy answers of the base model ({_esc(_thousands(model.get('parameters')))} parameters), the cold-start "
        "model and the GRPO model to the test split's questions, scored with the training rewards: accuracy = "
        "the boxed answer is right, format = think then one boxed answer (%).</p>",
        _comparison_html(report),
        _curves_html(out, [CHART], wide=True) if chart.exists() else "",
        "<h2 id='training'>Training</h2>",
        f"<h3>Cold-start SFT</h3><p>{sft.get('steps')} steps on every train row with a response written from the "
        f"construction; loss {_num(sft.get('first_loss'))} &rarr; {_num(sft.get('last_loss'))}, last validation "
        f"loss {_num(sft.get('last_eval_loss'))}.</p>",
        _curves_html(out, sft["curves"]),
        f"<h3>GRPO</h3><p>{grpo.get('steps')} steps, reward 0.9 &times; accuracy + 0.1 &times; format, "
        f"{_esc(report['settings'].get('num_generations'))} rollouts per prompt; reward "
        f"{_num(grpo.get('first_reward'))} &rarr; {_num(grpo.get('last_reward'))} (single steps are noisy); "
        "dashed lines: validation at temperature 0.6.</p>",
        _curves_html(out, grpo["curves"]),
        "<h2 id='dataset'>Dataset</h2>",
        _dataset_html(report),
        "<h2 id='gallery'>Test samples and the models' answers</h2>",
        _gallery_html(report),
        "<h2 id='stages'>Stages</h2>",
        _table(["stage", "seconds"], stage_rows, "stages", total_last=True),
        "<h2 id='outputs'>Outputs</h2>",
        "<p>Paths relative to the demo folder.</p>",
        _table(["path", "what"], [[o["path"], o["what"]] for o in report["outputs"]], "outputs"),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(report['title'])}</title><style>{CSS}</style></head><body>\n"
        + "\n".join(s for s in sections if s)
        + "\n</body></html>\n"
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
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m spatial_ssrl.demo.report DEMO_DIR", file=sys.stderr)
        return 2
    for path in write_report(argv[0]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
