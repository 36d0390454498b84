"""`ssrl demo` at reduced size (`--quick`): every stage's outputs, the report's tables against the files they
summarise (read independently here), the HTML page's self-containment, and resuming / refusing reruns."""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.demo import DemoConfig, DemoError, run_demo
from spatial_ssrl.demo import pipeline as demo_pipeline
from spatial_ssrl.demo.report import comparison_markdown
from spatial_ssrl.evaluate.summary import wilson_interval
from tests.fixtures.html import parse_page

pytestmark = pytest.mark.slow  # trains models: `pytest -m "not slow"` skips it

STAGES = ["model", "dataset", "sft", "grpo", "evaluate", "report"]
MODELS = ["base", "cold_start", "grpo"]


def read_test_rows(out: Path) -> list[dict]:
    rows = []
    for shard in sorted((out / "dataset" / "data").glob("test-*.parquet")):
        rows += pq.read_table(shard, columns=["id", "task", "answer"]).to_pylist()
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    assert ssrl(["demo", str(out), "--quick"]) == 0
    return out


def test_every_stage_finished_and_recorded(demo):
    state = json.loads((demo / "demo.json").read_text())
    assert list(state["stages"]) == STAGES
    assert all(s["seconds"] >= 0 for s in state["stages"].values())
    assert state["config"] == DemoConfig.quick(str(demo)).settings()


def test_stage_outputs(demo):
    assert json.loads((demo / "model" / "config.json").read_text())["model_type"] == "qwen2_5_vl"
    stats = json.loads((demo / "dataset" / "stats.json").read_text())
    asked = DemoConfig.quick(str(demo)).task_samples
    assert set(stats["per_task"]) == set(asked) == {
        "shuffle", "flip", "crop", "depth_order", "position", "clip_order", "ego_motion"
    }  # fmt: skip
    assert all(0 < stats["per_task"][t] <= n for t, n in asked.items())  # the counts asked for (less any shortfall)
    coldstart = pq.read_table(demo / "sft" / "data" / "sft" / "spatial_ssrl_coldstart.parquet").to_pylist()
    assert coldstart and all(  # the demo's cold start answers with one sentence (coldstart_reasoning="brief")
        r["messages"][-1]["content"][0]["text"].startswith("<think>\nThe answer is ") for r in coldstart
    )
    for split in ("train", "validation", "test"):
        assert stats["per_split"][split] > 0 and list((demo / "dataset" / "data").glob(f"{split}-*.parquet"))
    assert (demo / "dataset" / "preview.html").stat().st_size > 0
    for run, key in (("sft", "loss"), ("grpo", "reward")):
        assert (demo / run / "model.safetensors").exists(), run
        records = [json.loads(line) for line in (demo / run / "metrics.jsonl").read_text().splitlines()]
        assert any(key in r for r in records), (run, key)
        assert not list((demo / run).glob("checkpoint-*")), "finished stages keep the final model only"
    assert (demo / "sft" / "plots" / "loss.png").exists() and (demo / "grpo" / "plots" / "reward.png").exists()
    n_test = len(read_test_rows(demo))
    for model in MODELS:
        run = demo / "eval" / model
        predictions = (run / "pretext-test" / "predictions.jsonl").read_text().splitlines()
        assert len(predictions) == n_test, model
        results = json.loads((run / "results.json").read_text())
        assert results["benchmarks"]["pretext-test"]["n"] == n_test
    assert len(json.loads((demo / "eval" / "compare" / "compare.json").read_text())["models"]) == 3


def test_report_numbers_match_the_evaluation_runs(demo):
    report = json.loads((demo / "report.json").read_text())
    per_task = Counter(r["task"] for r in read_test_rows(demo))
    rows = {r["task"]: r for r in report["comparison"]["rows"]}
    assert set(rows) == set(per_task) | {"all"}
    assert rows["all"]["n"] == sum(per_task.values())
    for model in MODELS:
        scored = [
            json.loads(line)
            for line in (demo / "eval" / model / "pretext-test" / "scored.jsonl").read_text().splitlines()
        ]
        for task, n in per_task.items():
            mine = [r for r in scored if r["category"] == task]
            assert rows[task]["n"] == n == len(mine)
            assert rows[task]["accuracy"][model] == round(100 * sum(r["score"] for r in mine) / n, 1)
            assert rows[task]["format"][model] == round(100 * sum(r["format"] for r in mine) / n, 1)
    assert report["dataset"]["per_task_split"]["flip"]["test"] == per_task["flip"]


def test_report_html_tables_equal_the_json(demo):
    report = json.loads((demo / "report.json").read_text())
    page = parse_page(demo / "report.html", strip=True)
    assert not page.errors and not page.stack, (page.errors, page.stack)

    table = page.tables["comparison"]
    assert table[0][:3] == ["task", "n", "chance"] and len(table[0]) == 3 + 2 * len(MODELS)
    chance_of = {"shuffle": None, "flip": 12.5, "crop": 25.0, "position": 25.0, "depth_order": 16.7}
    for html_row, row in zip(table[1:], report["comparison"]["rows"], strict=True):
        if chance_of.get(row["task"]) is not None:
            assert row["chance"] == chance_of[row["task"]]
        accuracy = []
        for m in MODELS:  # accuracy [95% Wilson interval], * when the interval lies above chance
            lo, hi = wilson_interval(round(row["accuracy"][m] * row["n"] / 100), row["n"])
            star = "*" if 100 * lo > round(row["chance"], 1) else ""
            accuracy.append(f"{row['accuracy'][m]:.1f} [{100 * lo:.1f}–{100 * hi:.1f}]{star}")
        cells = [f"{row['chance']:.1f}", *accuracy, *[f"{row['format'][m]:.1f}" for m in MODELS]]
        assert html_row == [row["task"], str(row["n"]), *cells]

    dataset = page.tables["dataset"]
    counted = Counter(r["task"] for r in read_test_rows(demo))
    test_col = dataset[0].index("test")
    assert {r[0]: int(r[test_col]) for r in dataset[1:-1]} == dict(counted)
    assert dataset[-1][0] == "all" and int(dataset[-1][-1]) == report["dataset"]["samples"]
    assert [r[0] for r in page.tables["stages"][1:-1]] == [s["title"] for s in report["stages"]]
    assert [r[0] for r in page.tables["outputs"][1:]] == [o["path"] for o in report["outputs"]]

    md = (demo / "report.md").read_text()
    assert comparison_markdown(report) in md


def test_report_html_is_self_contained(demo):
    page = parse_page(demo / "report.html", strip=True)
    assert len(page.images) >= 5  # bar chart, curves, gallery samples
    for src in page.images:
        assert src.startswith("data:image/"), src[:60]
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    for tag, attr, value in page.attrs_seen:
        assert tag not in ("script", "link", "iframe"), tag
        if attr in ("src", "href"):
            assert value.startswith(("data:", "#")), (tag, attr, value[:80])
    report = json.loads((demo / "report.json").read_text())
    assert set(report["gallery"]) == {r["task"] for r in report["comparison"]["rows"]} - {"all"}
    # A video task's clips are strips of frames, captioned by clip.
    html = (demo / "report.html").read_text()
    if "clip_order" in report["gallery"]:
        assert "clip 1 (2 frames)" in html


def test_rerun_skips_finished_stages(demo):
    before = (demo / "sft" / "model.safetensors").stat().st_mtime_ns
    log = io.StringIO()
    report = run_demo(DemoConfig.quick(str(demo)), stream=log)
    assert log.getvalue().count("done in an earlier run") == len(STAGES)
    assert (demo / "sft" / "model.safetensors").stat().st_mtime_ns == before
    assert report["comparison"] == json.loads((demo / "report.json").read_text())["comparison"]


def test_other_settings_are_refused(demo, tmp_path):
    with pytest.raises(DemoError, match="seed"):
        run_demo(DemoConfig.quick(str(demo), seed=1), stream=io.StringIO())
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not a demo folder"):
        run_demo(DemoConfig.quick(str(tmp_path)), stream=io.StringIO())
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert ssrl(["demo", str(tmp_path), "--quick"]) == 2


def test_interrupted_run_resumes_at_the_stage_it_stopped_in(tmp_path, monkeypatch):
    out = tmp_path / "run"
    config = DemoConfig.quick(str(out))
    grpo = next(s for s in demo_pipeline.STAGES if s.name == "grpo")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(grpo, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_demo(config, stream=io.StringIO())
    state = json.loads((out / "demo.json").read_text())
    assert list(state["stages"]) == ["model", "dataset", "sft"]
    sft_model = (out / "sft" / "model.safetensors").stat().st_mtime_ns

    monkeypatch.undo()
    log = io.StringIO()
    report = run_demo(config, stream=log)
    assert log.getvalue().count("done in an earlier run") == 3
    assert (out / "sft" / "model.safetensors").stat().st_mtime_ns == sft_model
    assert [s["name"] for s in report["stages"]] == STAGES[:-1]  # the report stage records itself after writing
