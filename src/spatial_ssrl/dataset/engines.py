"""Engines: where shards run. Every engine calls `shards.run_shard`, so they all write the same bytes.

ENGINES[config.engine](jobs, config) -> iterator of shard results, in completion order
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.shards import ShardJob, run_shard, run_shard_star


def run_local(jobs: list[ShardJob], config: BuildConfig) -> Iterator[dict]:
    """Run the shards in this process, or in `config.workers` spawned processes; results in completion order."""
    if config.workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_shard(job, config)
        return
    import multiprocessing as mp

    # spawn: workers start clean (no copied locks or threads from pyarrow in the parent)
    with mp.get_context("spawn").Pool(min(config.workers, len(jobs))) as pool:
        yield from pool.imap_unordered(run_shard_star, [(job, config) for job in jobs])


def run_ray(jobs: list[ShardJob], config: BuildConfig) -> Iterator[dict]:
    """Shards as Ray Data rows, mapped by the same shard function. On a cluster, `out_dir` must be
    on storage every node can write (NFS, a mounted bucket); `ray.init()` joins the running
    cluster when RAY_ADDRESS is set, and starts a local one otherwise."""
    import pickle

    import ray

    if not ray.is_initialized():
        ray.init(num_cpus=max(1, config.workers), include_dashboard=False, log_to_driver=False)
    items = [{"job": pickle.dumps((job, config))} for job in jobs]

    def generate(batch: dict) -> dict:
        results = [json.dumps(run_shard_star(pickle.loads(b))) for b in batch["job"]]
        return {"result": results}

    ds = ray.data.from_items(items, override_num_blocks=max(1, len(items)))
    ds = ds.map_batches(generate, batch_size=1, num_cpus=1, zero_copy_batch=False)
    for row in ds.iter_rows():
        yield json.loads(row["result"])


Engine = Callable[[list[ShardJob], BuildConfig], Iterator[dict]]
ENGINES: dict[str, Engine] = {"local": run_local, "ray": run_ray}
