"""The Ray engine (Ray tasks, a local Ray here; tests/dataset/test_ray_cluster.py runs a two-node cluster)
writes the same bytes as the local engine."""

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


def test_a_job_that_fails_on_ray_stops_the_build_with_one_line(tmp_path, capsys):
    """A task module that imports in the driver but raises in every Ray worker (outside the per-source guard,
    while the shard is set up) fails the job: the build stops with a ClusterError, printed as one line."""
    import os

    from spatial_ssrl.cli import main
    from tests.fixtures.tasks import forget_task_module

    module = tmp_path / "breaks_workers.py"
    module.write_text(f"import os\nif os.getpid() != {os.getpid()}:\n    raise RuntimeError('broken in a worker')\n")
    try:
        argv = ["generate", str(tmp_path / "out"), "--engine", "ray", "--workers", "1", "--tasks", "flip"]
        code = main([*argv, "--synthetic", "1", "--per-task", "1", "--import", str(module)])
    finally:
        ray.shutdown()
        forget_task_module(module)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: a job failed on the cluster"), err[-3:]


def test_a_job_over_the_shard_timeout_stops_a_ray_build(tmp_path):
    """Ray has no per-source isolation, but a stuck job cannot hang the build: past shard_timeout (allowing for
    queueing) the driver cancels the jobs and stops with a ClusterError."""
    import os
    import time

    from spatial_ssrl.dataset.builder import BuildConfig
    from spatial_ssrl.dataset.ray_engine import ClusterError
    from spatial_ssrl.sources.discover import synthetic
    from tests.fixtures.tasks import forget_task_module

    module = tmp_path / "stalls_workers.py"
    module.write_text(f"import os, time\nif os.getpid() != {os.getpid()}:\n    time.sleep(120)\n")
    config = BuildConfig(
        tmp_path / "out", engine="ray", tasks=["flip"], samples_per_task=1, shard_timeout=1, task_modules=[str(module)]
    )
    started = time.monotonic()
    try:
        with pytest.raises(ClusterError, match="ran over shard_timeout"):
            build(config, synthetic(1))
    finally:
        ray.shutdown()
        forget_task_module(module)
    assert time.monotonic() - started < 60
