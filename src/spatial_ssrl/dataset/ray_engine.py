"""The Ray engine: jobs as Ray tasks on a running cluster (or a local one), with the checks a cluster needs.

    ssrl generate /shared/out --engine ray --ray-address 10.0.0.1:6379 ...   # or RAY_ADDRESS=...

- Joining: with an address (`config.ray_address`, else `$RAY_ADDRESS`) `ray.init(address=...)` joins the
  running cluster and passes no resources (a running cluster has its own); without one it starts a local
  Ray with `config.workers` CPUs. Work is sized from the cluster's resources: one CPU per task, and at most
  TASKS_PER_CPU x the cluster's CPUs tasks in flight, so a long job list is not submitted at once.
- Shared storage: before any job runs, a probe task pinned to every alive node writes a file into
  `out_dir/_progress/` and reads one the driver wrote; the driver reads every node's file back. A node
  that cannot see the same folder stops the build with a one-line `StorageNotShared` naming the node.
- Fault tolerance: a task whose worker process or node dies is retried by Ray (MAX_TASK_RETRIES, system
  failures only; an exception inside a task is not retried, it is a bug). Each job writes its files
  atomically and the driver records it only when it returns, so a retried job rewrites identical bytes
  and the output equals an uninterrupted build. A driver that dies is resumed by rerunning the same
  command (the builder's shard records). Per-source isolation (the local pool's) is not done here: a job
  that still fails after its retries stops the build with a one-line `ClusterError`, and so does a job over
  `shard_timeout` (counted from submission, times TASKS_PER_CPU + 1 for the jobs it may queue behind).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.shards import run_work

MAX_TASK_RETRIES = 4  # retries of a job whose worker or node died (Ray's `max_retries`)
TASKS_PER_CPU = 2  # jobs in flight per cluster CPU: enough to keep every CPU busy while results return
PROBE_TIMEOUT_S = 120.0  # seconds for the storage probe on every node (includes starting a worker there)
PROBE_PREFIX = ".storage-probe-"
WAIT_POLL_S = 5.0  # how often the driver looks for jobs over their time while waiting for results


class ClusterError(RuntimeError):
    """The Ray cluster cannot be joined or used (the message says what to check)."""


class StorageNotShared(ClusterError):
    """A node of the cluster does not see the output folder as the driver does."""


def _probe_node(folder: str, token: str, node_tag: str) -> dict[str, Any]:
    """Runs on one node: write this node's probe file and read the driver's."""
    import socket

    out: dict[str, Any] = {"host": socket.gethostname(), "wrote": False, "saw_driver": False, "error": ""}
    try:
        Path(folder, f"{PROBE_PREFIX}{node_tag}-{token}").write_text(token)
        out["wrote"] = True
        out["saw_driver"] = Path(folder, f"{PROBE_PREFIX}driver-{token}").read_text() == token
    except OSError as err:
        out["error"] = f"{type(err).__name__}: {err.strerror or err}"
    return out


def check_storage_visible(out_dir: Path, timeout: float = PROBE_TIMEOUT_S) -> int:
    """Check that every alive node with CPUs sees `out_dir` as the driver does; returns the node count.

    Raises:
        StorageNotShared: naming the first node that cannot see it, and what to do.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    folder = Path(out_dir) / "_progress"
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    driver_file = folder / f"{PROBE_PREFIX}driver-{token}"
    driver_file.write_text(token)
    nodes = [n for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
    probe = ray.remote(num_cpus=0, max_retries=0)(_probe_node)
    try:
        refs = {
            n["NodeID"]: probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=n["NodeID"], soft=False)
            ).remote(str(folder.resolve()), token, n["NodeID"][:16])
            for n in nodes
        }
        checked = 0
        for node in nodes:
            node_id, address = node["NodeID"], node.get("NodeManagerAddress", "?")
            try:
                seen = ray.get(refs[node_id], timeout=timeout)
            except ray.exceptions.TaskUnschedulableError:
                continue  # the node died since it was listed: it gets no work either
            except Exception as err:  # the probe could not run there (a timeout, a crash)
                raise StorageNotShared(
                    f"node {address} ({node_id[:8]}): the storage probe did not run ({type(err).__name__})"
                ) from err
            mine = folder / f"{PROBE_PREFIX}{node_id[:16]}-{token}"
            if not (seen["wrote"] and seen["saw_driver"] and mine.is_file() and mine.read_text() == token):
                detail = seen["error"] or (
                    "it wrote a file the driver cannot see" if seen["wrote"] else "it cannot write there"
                )
                raise StorageNotShared(
                    f"node {address} ({node_id[:8]}, host {seen['host']}) does not see the output folder "
                    f"{Path(out_dir).resolve()} as the driver does ({detail}): put OUT on storage every node "
                    "mounts at the same path (NFS, a mounted bucket) and pass that path"
                )
            checked += 1
    finally:
        for path in folder.glob(f"{PROBE_PREFIX}*-{token}"):
            path.unlink(missing_ok=True)
    return checked


class RayEngine:
    """Jobs as Ray tasks (see the module docstring): joins a running cluster or starts a local Ray."""

    def __init__(self, config: BuildConfig):
        self.config = config
        self._started = False
        self.nodes = 0

    def __enter__(self) -> RayEngine:
        import ray

        if not ray.is_initialized():
            address = self.config.ray_address or os.environ.get("RAY_ADDRESS")
            try:
                if address:
                    # A running cluster has its own resources: ray.init refuses num_cpus / num_gpus here.
                    ray.init(address=address, log_to_driver=False)
                else:
                    ray.init(num_cpus=max(1, self.config.workers), include_dashboard=False, log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise ClusterError(f"cannot join the Ray cluster at {address or 'a new local Ray'}: {err}") from err
            self._started = True
        self.nodes = check_storage_visible(Path(self.config.out_dir))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._started:
            import ray

            ray.shutdown()

    def run(self, jobs: list) -> Iterator[dict]:
        """Each job's result, in completion order; a job whose worker or node dies is retried by Ray."""
        if not jobs:
            return
        import ray

        task = ray.remote(num_cpus=1, max_retries=MAX_TASK_RETRIES, retry_exceptions=False)(run_work)
        limit = max(1, TASKS_PER_CPU * int(ray.cluster_resources().get("CPU", 1)))
        # A job may wait behind TASKS_PER_CPU others for its CPU, so its clock allows for them too.
        timeout = self.config.shard_timeout
        allowed = None if timeout is None else timeout * (TASKS_PER_CPU + 1)
        queue = list(reversed(jobs))
        in_flight: list = []
        submitted: dict = {}
        while queue or in_flight:
            while queue and len(in_flight) < limit:
                job = queue.pop()
                ref = task.remote((job, self.config))
                in_flight.append(ref)
                submitted[ref] = (time.monotonic(), getattr(job, "label", "a job"))
            done, in_flight = ray.wait(in_flight, num_returns=1, timeout=WAIT_POLL_S)
            if not done:
                late = [r for r in in_flight if allowed is not None and time.monotonic() - submitted[r][0] > allowed]
                if late:
                    for ref in in_flight:
                        ray.cancel(ref, force=True)
                    raise ClusterError(
                        f"{submitted[late[0]][1]} ran over shard_timeout ({timeout} s, x{TASKS_PER_CPU + 1} for "
                        "queueing) on the cluster; the build stopped (rerun to resume)"
                    )
                continue
            submitted.pop(done[0], None)
            try:
                result = ray.get(done[0])
            except ray.exceptions.RayError as err:  # retries used up, or a job raised: stop with one line
                first = (str(err).strip().splitlines() or [""])[-1][:300]
                raise ClusterError(
                    f"a job failed on the cluster ({type(err).__name__}, after up to {MAX_TASK_RETRIES} retries "
                    f"of lost workers): {first}"
                ) from err
            yield result


def wait_for_nodes(count: int, timeout: float, exact: bool = False) -> list[dict]:
    """The alive nodes once there are `count` of them (exactly `count` with `exact`, e.g. to see a lost node
    marked dead), or whatever is alive at the timeout. For scripts and tests that start a cluster."""
    import ray

    deadline = time.monotonic() + timeout
    while True:
        alive = [n for n in ray.nodes() if n.get("Alive")]
        if (len(alive) == count if exact else len(alive) >= count) or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)
