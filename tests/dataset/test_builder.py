"""The small dataset build: parquet readable by `datasets`, stable output, bad sources skipped."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatial_ssrl import Rejection, Source, run_task
from spatial_ssrl.cli import main
from spatial_ssrl.dataset.builder import BuildConfig, build
from spatial_ssrl.dataset.schema import read_rows, shard_paths
from spatial_ssrl.engine.registry import unregister_task
from spatial_ssrl.sources.discover import bundled_photos, photo_files, synthetic
from tests.fixtures.images import textured_image

ROOT = Path(__file__).resolve().parents[2]


def _small_sources():
    return bundled_photos()[:2] + synthetic(2, size=(320, 240))


def test_build_writes_loadable_dataset(tmp_path):
    stats = build(BuildConfig(tmp_path, seed=0, samples_per_task=1), _small_sources())
    assert stats["samples"] == sum(stats["per_task"].values()) > 0
    assert set(stats["per_task"]) == {"shuffle", "flip", "crop", "depth_order", "position"}
    rows = list(read_rows(tmp_path))
    assert len(rows) == stats["samples"]
    for row in rows:
        assert row["problem"].count("<image>") == len(row["images"])
        for im in row["images"]:
            Image.open(io.BytesIO(im["bytes"])).verify()
        meta = json.loads(row["meta"])
        assert "margins" in meta
    assert (tmp_path / "preview.html").read_text().count("class='card'") >= 5
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("parquet", data_files=[str(p) for p in shard_paths(tmp_path)], split="train")
    first = ds[0]["images"][0]
    assert hasattr(first, "size") and first.size[0] > 0


def test_output_does_not_depend_on_source_order(tmp_path):
    sources = _small_sources()
    build(BuildConfig(tmp_path / "a", seed=3, samples_per_task=1), sources)
    build(BuildConfig(tmp_path / "b", seed=3, samples_per_task=1), sources[::-1])
    a = [p.read_bytes() for p in shard_paths(tmp_path / "a")]
    b = [p.read_bytes() for p in shard_paths(tmp_path / "b")]
    assert a == b and a


def test_unreadable_sources_are_recorded_not_fatal(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(textured_image(0)).save(folder / "good.png")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    Image.fromarray(textured_image(1)).save(folder / "truncated.png")
    data = (folder / "truncated.png").read_bytes()
    (folder / "truncated.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(folder / "tiny.png")
    stats = build(BuildConfig(tmp_path / "out", samples_per_task=1), photo_files([folder]))
    assert set(stats["source_errors"]) == {str(folder / "corrupt.jpg"), str(folder / "truncated.png")}
    assert stats["rejections"]["shuffle.too_small"] >= 1
    assert stats["per_task"]["shuffle"] == 1  # the good image still yields its samples


def test_cli_generate_and_tasks(tmp_path, capsys):
    assert main(["generate", str(tmp_path), "--synthetic", "1", "--per-task", "1", "--tasks", "flip,depth_order"]) == 0
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert set(stats["per_task"]) == {"flip", "depth_order"}
    assert main(["tasks"]) == 0
    assert "position" in capsys.readouterr().out


def test_a_user_task_registers_and_builds(tmp_path):
    spec = importlib.util.spec_from_file_location("rotation_task", ROOT / "examples" / "rotation_task.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    try:
        rgb = textured_image(4, 320, 240)
        sample = run_task("rotation", Source("img", rgb), seed=0)
        # Verify by reconstruction: turning back by the answered angle restores the centre crop.
        angle = int(sample.options[sample.answer].split()[0])
        back = np.rot90(sample.images[0], k=angle // 90)
        x0, y0, x1, y1 = sample.meta["crop_box"]
        np.testing.assert_array_equal(back, rgb[y0:y1, x0:x1])
        flat = run_task("rotation", Source("flat", np.full((64, 64, 3), 9, np.uint8)), seed=0)
        assert isinstance(flat, Rejection) and flat.reason == "rotation.invisible"
        stats = build(BuildConfig(tmp_path, samples_per_task=2, tasks=["rotation", "flip"]), synthetic(2))
        assert stats["per_task"] == {"flip": 4, "rotation": 4}
    finally:
        unregister_task("rotation")
        sys.modules.pop(spec.name, None)


def test_a_task_that_raises_is_counted_not_fatal(tmp_path):
    from dataclasses import dataclass

    from spatial_ssrl import register_task

    @dataclass
    class NoParams:
        pass

    @register_task("explodes", params=NoParams, variants={"v": 1}, answer_type="choice")
    def explodes(source, rng, params, variant):
        raise RuntimeError("boom")

    try:
        stats = build(BuildConfig(tmp_path, samples_per_task=1, tasks=["explodes", "flip"]), synthetic(1))
        assert stats["rejections"]["error.RuntimeError"] >= 1
        assert stats["per_task"] == {"flip": 1}
    finally:
        unregister_task("explodes")


def test_cli_export_and_coldstart(tmp_path, capsys):
    data = tmp_path / "d"
    assert main(["generate", str(data), "--synthetic", "2", "--per-task", "2", "--tasks", "flip,position"]) == 0
    assert main(["export", str(data), "easyr1", str(tmp_path / "e")]) == 0
    assert (tmp_path / "e" / "train.parquet").exists()
    capsys.readouterr()
    assert main(["coldstart", str(data), str(tmp_path / "c")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["written"] >= 1 and (tmp_path / "c" / "dataset_info.json").exists()
    records = json.loads((tmp_path / "c" / "spatial_ssrl_coldstart.json").read_text())
    assert all(r["output"].rstrip().endswith("}") and "<think>" in r["output"] for r in records)
    assert main(["coldstart", str(data), str(tmp_path / "b"), "--reasoning", "brief"]) == 0
    capsys.readouterr()
    brief = json.loads((tmp_path / "b" / "spatial_ssrl_coldstart.json").read_text())
    assert len(brief) == len(records) and all(r["output"].startswith("<think>\nThe answer is ") for r in brief)
