"""The Ray engine (Ray Data map_batches over shards, local mode here) writes the same bytes as the
local engine."""

from __future__ import annotations

import pytest

from spatial_ssrl.dataset.builder import build
from spatial_ssrl.dataset.schema import shard_paths
from tests.fixtures.builds import build_config, build_sources

ray = pytest.importorskip("ray")


def test_ray_engine_equals_local_engine(tmp_path):
    build(build_config(tmp_path / "local"), build_sources())
    try:
        build(build_config(tmp_path / "ray", engine="ray", workers=2), build_sources())
    finally:
        ray.shutdown()
    local = {p.name: p.read_bytes() for p in shard_paths(tmp_path / "local")}
    distributed = {p.name: p.read_bytes() for p in shard_paths(tmp_path / "ray")}
    assert local and distributed == local
