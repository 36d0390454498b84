"""Parquet files and row groups stay within their byte bounds, so every reader can load them.

The inputs are large photos whose PNG encoding does not compress (texture plus per-pixel noise), with
small bounds so a few samples already spill over several files and row groups.
"""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from spatial_ssrl.dataset.builder import BuildConfig, build, make_shards
from spatial_ssrl.dataset.schema import read_rows, shard_paths
from spatial_ssrl.sources.discover import photo_folder, synthetic
from tests.fixtures.images import textured_image

MAX_SHARD = 12 << 20
MAX_GROUP = 8 << 20


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("noisy")
    rng = np.random.default_rng(0)
    for i in range(2):
        base = textured_image(i, 1600, 1064).astype(np.int16)  # texture, so the tasks accept the photo
        noisy = np.clip(base + rng.integers(-16, 17, base.shape), 0, 255).astype(
            np.uint8
        )  # noise, so PNG cannot shrink it
        Image.fromarray(noisy).save(folder / f"noisy{i}.png", compress_level=1)
    return folder


def _build(out, photos, workers=1):
    config = BuildConfig(
        out,
        samples_per_task=2,
        tasks=["flip", "shuffle"],
        image_format="png",
        samples_per_shard=4,
        max_shard_bytes=MAX_SHARD,
        max_row_group_bytes=MAX_GROUP,
        splits={"train": 1.0},
        workers=workers,
        preview=False,
    )
    return build(config, photo_folder(photos))


def test_files_and_row_groups_stay_within_bounds_and_read_back(tmp_path, photos):
    stats = _build(tmp_path / "one", photos)
    paths = shard_paths(tmp_path / "one")
    assert stats["samples"] == 8 and any("-part0001" in p.name for p in paths)  # a source spilled into files
    rows = 0
    grouped = False
    for path in paths:
        assert path.stat().st_size <= MAX_SHARD
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            assert group.total_byte_size <= MAX_GROUP or group.num_rows == 1  # one oversized row stands alone
            grouped |= group.num_rows > 1
        rows += pq.read_table(path).num_rows
    assert grouped and rows == stats["samples"] == len(list(read_rows(tmp_path / "one", columns=["id"])))
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(
        "parquet", data_files=[str(p) for p in paths], split="train", cache_dir=str(tmp_path / "hf")
    )
    assert len(ds) == stats["samples"] and ds[0]["images"][0].size[0] > 0
    # where rows are cut into files depends on the rows only, not on the number of workers
    _build(tmp_path / "two", photos, workers=2)
    assert {p.name: p.read_bytes() for p in shard_paths(tmp_path / "two")} == {p.name: p.read_bytes() for p in paths}


def test_read_rows_streams_by_row_group(tmp_path, photos, monkeypatch):
    stats = _build(tmp_path / "d", photos)

    def whole_file(*args, **kwargs):
        raise AssertionError("read_rows must not load a whole shard")

    monkeypatch.setattr(pq, "read_table", whole_file)
    ids = [row["id"] for row in read_rows(tmp_path / "d", columns=["id"])]
    assert len(ids) == len(set(ids)) == stats["samples"]


def test_a_source_with_more_samples_than_a_shard_is_spread_over_shards(tmp_path):
    shards = make_shards([{"flip": 3, "crop": 7}, {"flip": 1}], per_shard=4, max_attempts=6)
    assert shards == [
        [(0, {"flip": 3, "crop": 1}, {"flip": 0, "crop": 0})],
        [(0, {"crop": 4}, {"crop": 6})],
        [(0, {"crop": 2}, {"crop": 30})],
        [(1, {"flip": 1}, {})],
    ]
    config = BuildConfig(tmp_path, total=9, tasks=["flip"], samples_per_shard=2, splits={"train": 1.0}, preview=False)
    stats = build(config, synthetic(1, (160, 120)))
    ids = [r["id"] for r in read_rows(tmp_path)]
    assert stats["shards"] == 5 and stats["samples"] == 9 and len(set(ids)) == 9
