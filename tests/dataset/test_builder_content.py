"""Splits follow content, not names: the same picture under several names (a copy, a symlink, a lossless
WebP) is one source, generated from its first id only and reported as a duplicate group."""

from __future__ import annotations

import os

from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build, split_of
from spatial_ssrl.dataset.content import content_hash
from spatial_ssrl.dataset.schema import read_rows
from spatial_ssrl.sources.discover import photo_folder
from tests.fixtures.images import textured_image


def test_copies_symlinks_and_lossless_reencodes_are_one_source(tmp_path):
    root = tmp_path / "pics"
    root.mkdir()
    picture = Image.fromarray(textured_image(3, 256, 192))
    picture.save(root / "photo.png")
    (root / "copy.png").write_bytes((root / "photo.png").read_bytes())
    os.symlink(root / "photo.png", root / "link.png")
    picture.save(root / "photo.webp", lossless=True)
    Image.fromarray(textured_image(4, 256, 192)).save(root / "other.png")
    refs = photo_folder(root)
    same = ["pics/copy.png", "pics/link.png", "pics/photo.png", "pics/photo.webp"]
    config = BuildConfig(tmp_path / "out", samples_per_task=1, tasks=["flip", "crop"], workers=2, preview=False)
    stats = build(config, refs)
    assert stats["duplicates"] == {"groups": [same], "group_count": 1, "skipped_sources": 3}
    rows = list(read_rows(tmp_path / "out"))
    assert sorted({r["source_id"] for r in rows}) == ["pics/copy.png", "pics/other.png"]  # the first id only
    kept = next(r for r in refs if r.id == "pics/copy.png")
    assert {r["split"] for r in rows if r["source_id"] == kept.id} == {
        split_of(content_hash(kept.load()), config.splits)
    }
    assert sum(stats["sources_per_split"].values()) == 2 and stats["sources"] == 5
    # the hashes are cached by file fingerprint: a rerun reads no picture again
    again = build(config, refs)
    assert again["content_prepass"]["hashed"] == 0 and again["content_prepass"]["cached"] == 5
    assert again["duplicates"] == stats["duplicates"]
