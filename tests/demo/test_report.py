"""The demo report's rendering, fast: a fake demo folder (a small generated dataset, made-up evaluation
results and curves, no training) read by `collect` and written as HTML and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.demo.config import EVAL_BENCH, MODELS, STATE_FILE
from spatial_ssrl.demo.report import (
    collect,
    comparison_markdown,
    dataset_markdown,
    main,
    report_tables,
    to_html,
    to_markdown,
)
from spatial_ssrl.sources.discover import synthetic
from tests.fixtures.html import Page


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (200, 30, 30)).save(path)


@pytest.fixture
def demo(tmp_path) -> Path:
    """A demo folder as the stages leave it, with text that needs escaping in a stage title and the answers."""
    out = tmp_path / "demo"
    splits = {"train": 0.5, "validation": 0.0, "test": 0.5}
    build(BuildConfig(out / "dataset", samples_per_task=1, preview=False, splits=splits), synthetic(4, (192, 144)))
    rows = list(read_rows(out / "dataset", "test"))
    assert rows, "the fake demo needs test rows"
    for key in MODELS:
        folder = out / "eval" / key / EVAL_BENCH
        folder.mkdir(parents=True)
        scored = [
            {"id": r["id"], "category": r["task"], "pred": None if key == "base" else "A<b>", "score": k % 2}
            for k, r in enumerate(rows)
        ]
        (folder / "scored.jsonl").write_text("".join(json.dumps(s) + "\n" for s in scored))
        responses = [{"id": r["id"], "response": "<think>x</think> \\boxed{A}"} for r in rows]
        (folder / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in responses))
        by_task = {r["task"]: {"n": 1, "accuracy": 0.5, "format_rate": None} for r in rows}
        bench = {"n": len(rows), "accuracy": 0.25, "format_rate": 1.0, "by_category": by_task}
        (out / "eval" / key / "results.json").write_text(json.dumps({"benchmarks": {EVAL_BENCH: bench}}))
    _png(out / "sft" / "plots" / "loss.png")
    _png(out / "grpo" / "plots" / "reward.png")
    stages = {
        "model": {"title": "Tiny model", "seconds": 1.25, "summary": {"parameters": 1234567}},
        "sft": {"title": "SFT", "seconds": 2.0, "summary": {"steps": 4, "first_loss": 2.5, "last_loss": 1.0}},
        "grpo": {"title": "GRPO <fast>", "seconds": 3.0, "summary": {"steps": 2, "first_reward": 0.1}},
    }
    state = {"config": {"seed": 7, "gallery_per_task": 1, "num_generations": 4}, "stages": stages}
    (out / STATE_FILE).write_text(json.dumps(state))
    return out


def test_html_and_markdown_show_the_same_tables(demo):
    report = collect(demo)
    tables = report_tables(report)
    page = Page()
    page.feed(to_html(report, demo))
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    assert set(page.tables) == {"comparison", "dataset", "stages", "outputs"}
    for name, table in tables.items():
        assert page.tables[name] == [table["head"], *[[str(c) for c in row] for row in table["rows"]]], name
    assert page.tables["comparison"][-1][:2] == ["all", str(len(list(read_rows(demo / "dataset", "test"))))]
    assert page.tables["stages"][-2:] == [["GRPO <fast>", "3.0"], ["total", "6.2"]]

    md = to_markdown(report)
    assert comparison_markdown(report) in md and dataset_markdown(report) in md
    assert comparison_markdown(report).splitlines()[-1].startswith("| **all** | ")
    assert "| GRPO <fast> | 3.0 |\n| **total** | 6.2 |" in md  # Markdown is not HTML-escaped
    assert "&lt;" not in md and "&amp;" not in md
    assert md.endswith("report's numbers as Markdown and JSON\n")


def test_html_escapes_and_is_self_contained(demo):
    report = collect(demo)
    html = to_html(report, demo)
    page = Page()
    page.feed(html)
    assert "GRPO &lt;fast&gt;" in html and "GRPO <fast>" not in html
    assert "<code>A&lt;b&gt;</code>" in html and "<code>(no answer)</code>" in html
    assert "<pre>&lt;think&gt;x&lt;/think&gt; \\boxed{A}</pre>" in html
    assert "(1,234,567 parameters)" in html and "seed 7" in html
    assert html.count("class='card'") == sum(len(rows) for rows in report["gallery"].values()) > 0
    assert not page.tags & {"script", "link", "iframe"}
    assert page.images and all(src.startswith("data:image/") for src in page.images)
    assert "sft/plots/loss.png</figcaption>" in html and "grpo/plots/reward.png</figcaption>" in html


def test_module_entry_point_writes_the_three_files(demo, capsys):
    pytest.importorskip("matplotlib")  # the per-task chart
    assert main([str(demo)]) == 0
    assert capsys.readouterr().out.split() == [str(demo / f"report.{ext}") for ext in ("html", "md", "json")]
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert "<figure class='wide'>" in html  # the chart write_report draws
    assert json.loads((demo / "report.json").read_text())["comparison"] == collect(demo)["comparison"]
    assert main([]) == 2


def test_comparison_has_chance_and_intervals(demo):
    """Each task row shows its chance level, and each accuracy its 95% interval, starred only when the
    whole interval lies above chance."""
    for key in MODELS:
        path = demo / "eval" / key / "results.json"
        results = json.loads(path.read_text())
        bench = results["benchmarks"][EVAL_BENCH]
        for block in bench["by_category"].values():
            block["chance"] = 0.125
            block["ci95"] = [0.2, 0.8] if key == "grpo" else [0.1, 0.9]
        path.write_text(json.dumps(results))
    table = report_tables(collect(demo))["comparison"]
    assert table["head"][:3] == ["task", "n", "chance"]
    row = table["rows"][0]
    assert row[2] == "12.5"
    cells = dict(zip(table["head"], row))
    assert cells["accuracy: GRPO"] == "50.0 [20.0–80.0]*"  # 20.0 > 12.5: above chance
    assert not cells[table["head"][3]].endswith("*")  # [10.0–90.0] touches chance
