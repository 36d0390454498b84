"""Paper-scale builder behaviour: exact totals, splits without leakage, identical output for any
worker count, and resume after a crash at any point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import spatial_ssrl.dataset.builder as builder
from spatial_ssrl.dataset.builder import BuildMismatch, build, split_of
from spatial_ssrl.dataset.content import content_hash
from spatial_ssrl.dataset.schema import read_rows, shard_paths
from spatial_ssrl.sources.discover import SourceRef, bundled_photos
from tests.fixtures.builds import build_config, build_sources


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in shard_paths(out)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    stats = build(build_config(out), build_sources())
    return out, stats


def test_total_is_exact_and_follows_the_mix(reference):
    out, stats = reference
    rows = list(read_rows(out))
    assert len(rows) == stats["samples"] == 60 and stats["shortfall"] == {}
    assert len({r["id"] for r in rows}) == 60  # no duplicates
    # The released Spatial-SSRL-81k counts (the paper), written here independently of the task files.
    released = {"shuffle": 16028, "flip": 4005, "crop": 20200, "depth_order": 20620, "position": 20200}
    want = builder.largest_remainder(60, released)
    assert stats["per_task"] == {t: n for t, n in sorted(want.items())}


def test_splits_are_disjoint_by_source(reference):
    out, _ = reference
    content = {ref.id: content_hash(ref.load()) for ref in build_sources()}
    seen: dict[str, set[str]] = {}
    for row in read_rows(out):
        seen.setdefault(row["split"], set()).add(row["source_id"])
        assert row["split"] == split_of(content[row["source_id"]], {"train": 0.6, "validation": 0.2, "test": 0.2})
    splits = list(seen.values())
    assert len(splits) >= 2
    for i, a in enumerate(splits):
        for b in splits[i + 1 :]:
            assert a.isdisjoint(b)


def test_split_assignment_is_stable_and_proportional():
    ids = [f"img/{i}.jpg" for i in range(20000)]
    fr = {"train": 0.9, "validation": 0.05, "test": 0.05}
    counts = {s: 0 for s in fr}
    for i in ids:
        counts[split_of(i, fr)] += 1
    assert abs(counts["train"] / 20000 - 0.9) < 0.01 and abs(counts["test"] / 20000 - 0.05) < 0.006
    assert [split_of(i, fr) for i in ids[:50]] == [split_of(i, fr) for i in ids[:50]]


def test_two_workers_give_identical_bytes(reference, tmp_path):
    out, _ = reference
    build(build_config(tmp_path, workers=2), build_sources())
    assert _snapshot(tmp_path) == _snapshot(out)


def test_crash_between_shard_and_record_then_resume(reference, tmp_path, monkeypatch):
    out, _ = reference
    real = builder._atomic_write_text
    calls = {"n": 0}

    def crash_on_third(path, text):
        if path.name.startswith("r0-shard-"):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt("injected crash after a shard's parquet, before its record")
        real(path, text)

    monkeypatch.setattr(builder, "_atomic_write_text", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        build(build_config(tmp_path), build_sources())
    monkeypatch.setattr(builder, "_atomic_write_text", real)
    assert len(list((tmp_path / "_progress").glob("r0-shard-*.json"))) == 2
    build(build_config(tmp_path), build_sources())
    assert _snapshot(tmp_path) == _snapshot(out)


@pytest.mark.parametrize("after_records", [0, 1, 3])
def test_kill_9_mid_build_then_resume(reference, tmp_path, after_records):
    """SIGKILL the build once `after_records` shards are recorded (so mid-shard, at a point that varies
    from run to run), rerun the same build, and compare with the uninterrupted one."""
    out, _ = reference
    root = str(Path(__file__).resolve().parents[2])
    script = (
        f"import sys; from pathlib import Path; sys.path.insert(0, {root!r})\n"
        "from tests.fixtures.builds import build_config, build_sources\n"
        "from spatial_ssrl.dataset.builder import build\n"
        f"build(build_config(Path({str(tmp_path)!r})), build_sources())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list((tmp_path / "_progress").glob("r0-shard-*.json"))) >= after_records:
            time.sleep(0.05 * (after_records + 1))
            break
        time.sleep(0.01)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert killed, "the build finished before it could be interrupted; make it larger"
    build(build_config(tmp_path), build_sources())
    assert _snapshot(tmp_path) == _snapshot(out)
    assert not list((tmp_path / "data").glob(".*tmp*"))


def test_other_settings_in_the_same_folder_are_refused(reference, tmp_path):
    build(build_config(tmp_path, total=20), build_sources())
    with pytest.raises(BuildMismatch):
        build(build_config(tmp_path, total=30), build_sources())


def test_unreadable_and_rejecting_sources_are_topped_up(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    flat = tmp_path / "flat.png"
    from PIL import Image

    Image.new("RGB", (320, 240), (90, 90, 90)).save(flat)  # every RGB task rejects a flat image
    refs = bundled_photos()[:2] + [SourceRef(id="bad", rgb=str(bad)), SourceRef(id="flat", rgb=str(flat))]
    stats = build(build_config(tmp_path / "o", total=24, tasks=["flip", "crop"]), refs)
    assert stats["samples"] == 24 and stats["shortfall"] == {}
    assert stats["rounds"] >= 2 and "bad" in stats["source_errors"]
    card = (tmp_path / "o" / "README.md").read_text()
    assert "flip" in card and "24 samples" in card
    assert json.loads((tmp_path / "o" / "stats.json").read_text())["samples"] == 24


def test_impossible_total_reports_the_shortfall(tmp_path):
    flat = tmp_path / "flat.png"
    from PIL import Image

    Image.new("RGB", (320, 240), (90, 90, 90)).save(flat)
    stats = build(build_config(tmp_path / "o", total=5, tasks=["flip"]), [SourceRef(id="flat", rgb=str(flat))])
    assert stats["samples"] == 0 and stats["shortfall"] == {"flip": 5}


def test_depth_tasks_need_rgbd_sources(tmp_path):
    with pytest.raises(ValueError, match="depth"):
        build(build_config(tmp_path, tasks=["depth_order"]), bundled_photos())
