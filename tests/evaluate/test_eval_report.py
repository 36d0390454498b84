"""`compare`: runs side by side with differences, JSON and a PNG chart."""

from __future__ import annotations

import json

import pytest

from spatial_ssrl.cli import main
from spatial_ssrl.evaluate.report import compare, comparison


def fake_run(folder, model, scores):
    folder.mkdir(parents=True)
    benchmarks = {b: {"n": 10, "score": s / 100, "accuracy": s / 100, "format_rate": 1.0} for b, s in scores.items()}
    (folder / "results.json").write_text(json.dumps({"run": {"model": model, "mode": "cot"}, "benchmarks": benchmarks}))
    return folder


def test_compare_table_with_differences(tmp_path):
    base = fake_run(tmp_path / "base", "/models/Qwen2.5-VL-3B", {"Spatial457": 33.70, "3DSRBench": 50.30})
    ssrl = fake_run(tmp_path / "ssrl", "/models/Spatial-SSRL-3B", {"Spatial457": 46.07, "3DSRBench": 51.72, "X": 1.0})
    md = compare([base, ssrl], out_dir=tmp_path / "cmp")
    lines = md.splitlines()
    assert lines[0] == "| model | Spatial457 | 3DSRBench | X | avg |"
    assert lines[2] == "| Qwen2.5-VL-3B | 33.70 | 50.30 | — | 42.00 |"
    assert lines[3] == "| Spatial-SSRL-3B | 46.07 | 51.72 | 1.00 | 48.89 |"  # avg over the shared benchmarks
    assert lines[4] == "| Δ vs Qwen2.5-VL-3B | +12.37 | +1.42 |  | +6.89 |"
    assert "avg over the benchmarks every run has: Spatial457, 3DSRBench" in md
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert table["models"][1]["delta"] == {"Spatial457": 12.37, "3DSRBench": 1.42, "avg": 6.89}
    png = (tmp_path / "cmp" / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert md in (tmp_path / "cmp" / "compare.md").read_text()
    assert "## Table 1" not in md  # results without benchmark modules fill no Table 1 column


def test_compare_names_and_cli(tmp_path, capsys):
    a = fake_run(tmp_path / "a", "same", {"B": 10.0})
    b = fake_run(tmp_path / "b", "same", {"B": 7.5})
    assert [m["name"] for m in comparison([a, b])["models"]] == ["a", "b"]  # same model names: folder names
    assert main(["compare", str(a), str(b), "--names", "base,tuned", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "| Δ vs base | -2.50 | -2.50 |" in out and (tmp_path / "o" / "compare.png").exists()
    with pytest.raises(FileNotFoundError, match="no results.json"):
        comparison([a, tmp_path / "missing"])


def table1_run(folder, model, protocol, scores):
    """A results.json whose benchmarks were scored by the named modules: {name: (rules, score %)}."""
    folder.mkdir(parents=True)
    benchmarks = {
        name: {
            "n": 10,
            "score": s / 100,
            "accuracy": s / 100,
            "format_rate": 1.0,
            "rules": rules,
            "breakdowns": {"setting": {"vanilla": {"n": 10, "score": s / 100}}},
            "by_category": {"x": {"n": 10, "score": s / 100}},
        }
        for name, (rules, s) in scores.items()
    }
    run = {"model": model, "mode": "cot", "protocol": protocol}
    (folder / "results.json").write_text(json.dumps({"run": run, "benchmarks": benchmarks}))
    return folder


ALL_SEVEN = {
    "Spatial457": ("Spatial457", 40.0),
    "3DSRBench": ("3DSRBench", 50.0),
    "SpatialEval_VQA": ("SpatialEval", 55.0),
    "QSpatial_plus": ("QSpatial", 35.0),
    "QSpatial_scannet": ("QSpatial", 99.0),  # not a Table 1 column: the paper reports QSpatial+ only
    "WhatsUp-controlled_images": ("WhatsUp", 85.0),
    "WhatsUp-controlled_clevr": ("WhatsUp", 1.0),  # subset B: not the paper's column
    "ViewSpatial": ("ViewSpatial", 36.0),
    "VSI-Bench": ("VSI-Bench", 30.0),
}


def test_compare_prints_table1_with_paper_rows_and_breakdowns(tmp_path):
    full = table1_run(tmp_path / "full", "m-full", "paper", ALL_SEVEN)
    part = table1_run(tmp_path / "part", "m-part", "official", {"3DSRBench": ("3DSRBench", 52.0)})
    md = compare([full, part], out_dir=tmp_path / "cmp")
    lines = md.splitlines()
    columns = "Spatial457 | 3DSRBench | SpatialEval | QSpatial+ | What'sUp | ViewSpatial | VSI-Bench"
    assert lines[0] == f"| model | protocol | {columns} | avg |"
    assert lines[2] == "| m-full | paper | 40.00 | 50.00 | 55.00 | 35.00 | 85.00 | 36.00 | 30.00 | 47.29 |"
    assert lines[3] == "| m-part | official | — | 52.00 | — | — | — | — | — | — |"  # no avg without all seven
    paper_row = "*53.34* | *56.53* | *64.03* | *54.46* | *90.61* | *37.81* | *39.29* | *56.58*"
    assert f"| *Spatial-SSRL-7B (paper)* | paper | {paper_row} |" in md
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text())["table1"]
    assert table["models"][0]["sources"]["QSpatial+"] == "QSpatial_plus"
    assert table["models"][0]["sources"]["What'sUp"] == "WhatsUp-controlled_images"
    breakdowns = (tmp_path / "cmp" / "breakdowns.md").read_text()
    assert "## 3DSRBench" in breakdowns and "| vanilla | 50.00 | 52.00 |" in breakdowns
