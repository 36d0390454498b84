"""Video sources through the builder: both video tasks, splits by video, identical bytes for any worker count,
resume after a crash, and a changed video file redone."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

import spatial_ssrl.dataset.builder as builder
from spatial_ssrl.dataset.builder import BuildConfig, BuildInputError, build
from spatial_ssrl.dataset.schema import read_rows, shard_paths
from spatial_ssrl.sources.discover import bundled_photos, discover, synthetic_paths
from tests.fixtures.videos import pan_frames, write_video

pytest.importorskip("av")


def _sources(root: Path) -> list:
    videos = root / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    for seed in range(2):
        write_video(videos / f"pan{seed}.mkv", pan_frames(40, seed=seed), codec="ffv1", pix_fmt="bgr0")
    frames = root / "frames" / "walk"
    frames.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(pan_frames(30, seed=5)):
        Image.fromarray(f).save(frames / f"{i:04d}.png")
    return synthetic_paths(4, (96, 72), 40) + discover(f"video:{videos}") + discover(f"frames:{root / 'frames'}")


def _config(out: Path, **kw) -> BuildConfig:
    base = dict(out_dir=out, seed=3, samples_per_task=2, samples_per_shard=6, preview=False,
                splits={"train": 0.5, "validation": 0.25, "test": 0.25})  # fmt: skip
    return BuildConfig(**{**base, **kw})


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in shard_paths(out)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    sources = _sources(root)
    out = tmp_path_factory.mktemp("ref")
    return out, build(_config(out), sources), sources


def test_video_tasks_are_made_and_split_by_video(reference):
    out, stats, sources = reference
    rows = list(read_rows(out))
    assert set(stats["per_task"]) == {"clip_order", "ego_motion"}  # the default: what the inputs can serve
    by_source = defaultdict(set)
    for row in rows:
        by_source[row["source_id"]].add(row["split"])
    assert all(len(splits) == 1 for splits in by_source.values())
    ego_sources = {r["source_id"] for r in rows if r["task"] == "ego_motion"}
    assert ego_sources and all(s.startswith("synthetic/path-") for s in ego_sources)  # needs poses and depth
    assert {r["source_id"] for r in rows if r["task"] == "clip_order"} >= {"videos/pan0.mkv", "frames/walk"}


def test_two_workers_give_identical_bytes(reference, tmp_path):
    out, _, sources = reference
    build(_config(tmp_path, workers=2), sources)
    assert _snapshot(tmp_path) == _snapshot(out)


def test_crash_then_resume_gives_the_same_bytes(reference, tmp_path, monkeypatch):
    out, _, sources = reference
    real = builder._atomic_write_text
    calls = {"n": 0}

    def crash_on_second(path, text):
        if path.name.startswith("r0-shard-"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt("injected crash")
        real(path, text)

    monkeypatch.setattr(builder, "_atomic_write_text", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        build(_config(tmp_path), sources)
    monkeypatch.setattr(builder, "_atomic_write_text", real)
    build(_config(tmp_path), sources)
    assert _snapshot(tmp_path) == _snapshot(out)


def test_a_video_task_without_video_inputs_is_refused(tmp_path):
    with pytest.raises(BuildInputError, match="video tasks videos"):
        build(_config(tmp_path, tasks=["clip_order"], total=4), bundled_photos())


def test_a_corrupt_video_is_one_unreadable_source(reference, tmp_path):
    _, _, sources = reference
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.mp4").write_bytes(b"\x00" * 1000)
    stats = build(_config(tmp_path / "out"), [*sources, *discover(f"video:{bad}")])
    assert (
        "bad/broken.mp4" in stats["source_errors"]
        and "cannot be read as a video" in stats["source_errors"]["bad/broken.mp4"]
    )
    assert stats["samples"] > 0
