"""The Ray engine (Ray Data map_batches over shards, local mode here) writes the same bytes as the
local engine."""

from __future__ import annotations

import pytest

from spatial_ssrl.builder import build
from spatial_ssrl.schema import shard_paths
from tests.test_builder_resume import _config, _sources

ray = pytest.importorskip("ray")


def test_ray_engine_equals_local_engine(tmp_path):
    build(_config(tmp_path / "local"), _sources())
    try:
        build(_config(tmp_path / "ray", engine="ray", workers=2), _sources())
    finally:
        ray.shutdown()
    local = {p.name: p.read_bytes() for p in shard_paths(tmp_path / "local")}
    distributed = {p.name: p.read_bytes() for p in shard_paths(tmp_path / "ray")}
    assert local and distributed == local
