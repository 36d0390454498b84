"""A resume checks what it keeps: each recorded shard's files (present, same size, same blake2b) and
its sources (same size and mtime). Whatever was deleted, damaged or edited is redone and reported,
and the result equals a clean build of the final inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build
from spatial_ssrl.dataset.schema import shard_paths
from spatial_ssrl.sources.discover import photo_folder
from tests.fixtures.images import textured_image


def _photos(folder: Path, n: int = 6) -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(textured_image(i, 256, 192)).save(folder / f"p{i}.png")
    return folder


def _build(out: Path, photos: Path) -> dict:
    config = BuildConfig(out, samples_per_task=1, tasks=["flip", "crop"], samples_per_shard=4, preview=False)
    return build(config, photo_folder(photos))


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in shard_paths(out)}


def _same_counts(a: dict, b: dict) -> bool:
    keys = ("samples", "per_task", "per_variant", "per_split", "answers", "rejections", "source_errors", "shortfall")
    return all(a[k] == b[k] for k in keys)


def test_a_deleted_shard_is_rebuilt(tmp_path):
    photos = _photos(tmp_path / "photos")
    clean = _build(tmp_path / "clean", photos)
    _build(tmp_path / "out", photos)
    victim = sorted(shard_paths(tmp_path / "out"))[1]
    victim.unlink()
    stats = _build(tmp_path / "out", photos)
    assert victim.exists() and _snapshot(tmp_path / "out") == _snapshot(tmp_path / "clean")
    assert stats["redone_shard_count"] == 1
    assert stats["redone_shards"][0]["reason"] == f"data/{victim.name} is missing"
    assert _same_counts(stats, clean)
    on_disk = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert on_disk["samples"] == clean["samples"] and on_disk["redone_shard_count"] == 1


def test_damaged_shards_are_rebuilt(tmp_path, capsys):
    photos = _photos(tmp_path / "photos")
    _build(tmp_path / "clean", photos)
    _build(tmp_path / "out", photos)
    flipped, truncated = sorted(shard_paths(tmp_path / "out"))[:2]
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    flipped.write_bytes(bytes(data))
    size = truncated.stat().st_size
    truncated.write_bytes(truncated.read_bytes()[:-100])
    capsys.readouterr()
    stats = _build(tmp_path / "out", photos)
    assert _snapshot(tmp_path / "out") == _snapshot(tmp_path / "clean")
    reasons = sorted(r["reason"] for r in stats["redone_shards"])
    assert reasons[0] == f"data/{flipped.name} does not match the checksum recorded when it was written"
    assert reasons[1] == f"data/{truncated.name} has {size - 100} bytes, {size} were written"
    assert "resume: redoing 2 recorded shard(s)" in capsys.readouterr().err


def test_a_changed_source_redoes_its_shards(tmp_path):
    photos = _photos(tmp_path / "photos")
    _build(tmp_path / "out", photos)
    edited = photos / "p2.png"
    Image.fromarray(textured_image(99, 256, 192)).save(edited)  # the same name, another picture
    stats = _build(tmp_path / "out", photos)
    _build(tmp_path / "clean", photos)  # a clean build of the final inputs
    assert _snapshot(tmp_path / "out") == _snapshot(tmp_path / "clean")
    assert stats["content_prepass"]["hashed"] == 1  # only the edited photo is hashed again
    assert any(r["reason"] == "source photos/p2.png changed" for r in stats["redone_shards"])


def test_a_touched_source_with_the_same_pixels_keeps_the_output(tmp_path):
    photos = _photos(tmp_path / "photos")
    _build(tmp_path / "out", photos)
    before = _snapshot(tmp_path / "out")
    st = os.stat(photos / "p0.png")
    os.utime(photos / "p0.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    stats = _build(tmp_path / "out", photos)
    assert stats["redone_shard_count"] >= 1 and _snapshot(tmp_path / "out") == before


def test_a_hostile_record_cannot_delete_files(tmp_path):
    photos = _photos(tmp_path / "photos")
    _build(tmp_path / "out", photos)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    record = tmp_path / "out" / "_progress" / "r0-shard-00000.json"
    content = json.loads(record.read_text())
    content["files"]["../../victim.txt"] = {"samples": 0, "bytes": 4, "blake2b": ""}
    record.write_text(json.dumps(content))
    (tmp_path / "out" / "_progress" / "r0-shard-00001.json").write_text("{not json")
    stats = _build(tmp_path / "out", photos)
    assert victim.read_text() == "keep"
    assert sorted(r["reason"] for r in stats["redone_shards"]) == [
        "its progress record is unreadable",
        "its progress record names files a build does not write",
    ]
    _build(tmp_path / "clean", photos)
    assert _snapshot(tmp_path / "out") == _snapshot(tmp_path / "clean")


def test_stale_shard_files_are_removed_and_other_files_kept(tmp_path):
    photos = _photos(tmp_path / "photos")
    _build(tmp_path / "out", photos)
    data = tmp_path / "out" / "data"
    (data / "train-00099.parquet").write_bytes(b"left by an older plan")
    (data / "notes.txt").write_text("mine")
    stats = _build(tmp_path / "out", photos)
    assert stats["stale_files_removed"] == 1 and not (data / "train-00099.parquet").exists()
    assert (data / "notes.txt").read_text() == "mine"
