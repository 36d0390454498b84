"""Engines: where jobs (shards, and batches of the content pre-pass) run. Every engine calls
`shards.run_work`, so they all write the same bytes.

    with ENGINES[config.engine](config) as engine:
        for result in engine.run(jobs):   # results in completion order
            ...

The Ray engine (`ray_engine.RayEngine`) runs them as Ray tasks on a running cluster or a local Ray.
The local engine runs jobs in this process (`workers=1`) or in a `pool.WorkerPool` of spawned
processes kept for the whole build. A worker that dies (OOM killer, `kill -9`, a crash in native
code) or runs over `config.shard_timeout` is noticed at once. The job it was on runs again; when the
same source is in flight at MAX_DEATHS_PER_SOURCE deaths (or at a timeout, at once), that source is
recorded as unreadable (`source_errors`, with the reason) and the job runs without it, so one bad
input cannot stop or hang a build. In this process (`workers=1`) there is nobody to notice: a
source that kills the process kills the build.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import replace

from tqdm import tqdm

from spatial_ssrl.dataset.config import BuildConfig
from spatial_ssrl.dataset.content import HashJob
from spatial_ssrl.dataset.pool import Death, WorkerPool, WorkerPoolError
from spatial_ssrl.dataset.shards import ShardJob, run_work

MAX_DEATHS_PER_SOURCE = 2  # a source in flight at this many worker deaths is recorded as unreadable
MAX_DEATHS_OUTSIDE_SOURCES = 2  # deaths of one job between sources (e.g. writing files) before the build stops

Job = ShardJob | HashJob


def _say(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


class _DeathPolicy:
    """What to run after a worker died on a job: the same job, or the job without the source in flight."""

    def __init__(self) -> None:
        self.deaths: Counter = Counter()

    def __call__(self, key: Hashable, payload: tuple[Job, BuildConfig], death: Death) -> tuple[Job, BuildConfig]:
        job, config = payload
        if death.position is None:
            self.deaths[key, None] += 1
            n = self.deaths[key, None]
            if n >= MAX_DEATHS_OUTSIDE_SOURCES:
                raise WorkerPoolError(f"{job.label}: {death.describe()} while {death.phase} ({n} times); giving up")
            _say(f"{job.label}: {death.describe()} while {death.phase}; running it again")
            return payload
        ref = job.refs[death.position]
        self.deaths[key, ref.id] += 1
        reason = f"{death.describe()} while {death.phase}"
        if death.timed_out or self.deaths[key, ref.id] >= MAX_DEATHS_PER_SOURCE:
            _say(f"{job.label}: {reason} ({ref.id}); recording it as unreadable")
            return replace(job, excluded={**job.excluded, ref.id: reason}), config
        _say(f"{job.label}: {reason} ({ref.id}); running the job again")
        return payload


class LocalEngine:
    """Jobs in this process (`workers=1`) or in a pool of `workers` spawned processes."""

    def __init__(self, config: BuildConfig):
        self.config = config
        self._pool: WorkerPool | None = None
        self._policy = _DeathPolicy()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._pool is not None:
            self._pool.close(kill=exc_type is not None)

    def run(self, jobs: list[Job]) -> Iterator[dict]:
        """Each job's result, in completion order."""
        if self.config.workers <= 1:
            for job in jobs:
                yield run_work((job, self.config))
            return
        if self._pool is None:
            self._pool = WorkerPool(run_work, self.config.workers, self.config.shard_timeout)
        for _, result in self._pool.run([(job.label, (job, self.config)) for job in jobs], self._policy):
            yield result


def _ray_engine(config: BuildConfig):
    from spatial_ssrl.dataset.ray_engine import RayEngine  # Ray is an optional dependency

    return RayEngine(config)


ENGINES = {"local": LocalEngine, "ray": _ray_engine}
"""Engine name -> a context manager factory `(config) -> engine` with `engine.run(jobs)`."""
