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
    assert (tmp_path / "cmp" / "compare.md").read_text() == md


def test_compare_names_and_cli(tmp_path, capsys):
    a = fake_run(tmp_path / "a", "same", {"B": 10.0})
    b = fake_run(tmp_path / "b", "same", {"B": 7.5})
    assert [m["name"] for m in comparison([a, b])["models"]] == ["a", "b"]  # same model names: folder names
    assert main(["compare", str(a), str(b), "--names", "base,tuned", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "| Δ vs base | -2.50 | -2.50 |" in out and (tmp_path / "o" / "compare.png").exists()
    with pytest.raises(FileNotFoundError, match="no results.json"):
        comparison([a, tmp_path / "missing"])
