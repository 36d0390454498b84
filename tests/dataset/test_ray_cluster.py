"""`ssrl generate --engine ray` on a real two-node Ray cluster on this machine (tests/fixtures/ray_cluster.py).

Everything runs in a network namespace the test creates (only `lo` up: every node, the driver and their
traffic are on 127.0.0.1) and a PID namespace (the cluster dies with it, whatever happens). Checks: the node
table holds 127.0.0.1 only; the cluster's output is byte-identical to the local engine's; killing the worker
node mid-build still ends with identical output; a node that cannot see the output folder stops the build
with a one-line error naming it, before any data is written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spatial_ssrl.cli import main as ssrl
from spatial_ssrl.dataset.schema import shard_paths

pytestmark = pytest.mark.slow  # starts Ray nodes: about a minute

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["--synthetic", "16", "--per-task", "2", "--shard-size", "6", "--max-side", "192"]


def _namespaces_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--net", "--pid", "--mount-proc", "--fork", "true"], capture_output=True)
    return probe.returncode == 0


def _data(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in shard_paths(folder)}


@pytest.mark.skipif(not _namespaces_available(), reason="needs root and unshare (network + PID namespaces)")
def test_two_node_cluster_builds_identically_survives_a_lost_node_and_checks_storage(tmp_path):
    pytest.importorskip("ray")
    assert ssrl(["generate", str(tmp_path / "local"), *ARGS]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = ["unshare", "--net", "--pid", "--mount-proc", "--fork"]
    cmd += [sys.executable, "-m", "tests.fixtures.ray_cluster", str(tmp_path), json.dumps(ARGS)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert [n["address"] for n in result["nodes"]] == ["127.0.0.1", "127.0.0.1"], result["nodes"]
    local = _data(tmp_path / "local")
    assert local

    assert result["cluster"]["rc"] == 0, result["cluster"]["stderr"]
    assert _data(tmp_path / "cluster") == local

    lost = result["node_lost"]
    assert lost["rc"] == 0, lost["stderr"]
    assert lost["killed_mid_build"], lost
    assert _data(tmp_path / "node_lost") == local
    stats = json.loads((tmp_path / "node_lost" / "stats.json").read_text())
    assert stats["samples"] == json.loads((tmp_path / "local" / "stats.json").read_text())["samples"]

    storage = result["storage"]
    assert storage["rc"] == 2, storage
    error = storage["stderr"].strip().splitlines()[-1]
    assert error.startswith("error: node 127.0.0.1") and "does not see the output folder" in error, error
    assert not shard_paths(tmp_path / "hidden" / "out")  # refused before any data was written
    print(json.dumps({k: {m: v for m, v in r.items() if m != "stderr"} for k, r in result.items() if "rc" in r}))
