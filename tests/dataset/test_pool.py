"""The worker pool notices a dead or stuck worker, says which item was in flight, and leaves no process behind."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from spatial_ssrl.dataset.pool import Death, RemoteTraceback, WorkerPool, WorkerPoolError

# Jobs are (items, item that misbehaves, how); module-level so spawned workers can import them.


def job(payload, report):
    items, bad, how = payload
    for position, item in enumerate(items):
        report(position, "handling this item")
        if item == bad and how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if item == bad and how == "hang":
            threading.Event().wait()  # blocks for ever: only the pool's timeout ends it
        if item == bad and how == "raise":
            raise LookupError(f"no such item {item}")
    return sum(items)


def test_a_killed_worker_is_reported_with_the_item_in_flight():
    deaths: list[Death] = []

    def on_death(key, payload, death):
        deaths.append(death)
        items, _, _ = payload
        return items, None, None  # run it again without the bad behaviour

    with WorkerPool(job, workers=2) as pool:
        jobs = [("a", ([1, 2, 3], 2, "kill")), ("b", ([10, 20], None, None)), ("c", ([5], None, None))]
        results = dict(pool.run(jobs, on_death))
        processes = [w.process for w in pool._live]
    assert results == {"a": 6, "b": 30, "c": 5}
    assert len(deaths) == 1
    (death,) = deaths
    assert death.position == 1 and death.phase == "handling this item" and not death.timed_out
    assert death.exitcode == -signal.SIGKILL and death.describe() == "worker died (signal 9)"
    assert processes and not any(p.is_alive() for p in processes)


def test_a_stuck_worker_is_killed_at_the_timeout():
    deaths: list[Death] = []

    def on_death(key, payload, death):
        deaths.append(death)
        return [7], None, None

    with WorkerPool(job, workers=1, timeout=3.0) as pool:
        results = list(pool.run([("stuck", ([1, 2], 2, "hang"))], on_death))
    assert results == [("stuck", 7)]
    (death,) = deaths
    assert death.timed_out and death.position == 1 and death.seconds >= 3.0
    assert death.describe().startswith("worker timed out after 3 s")


def test_an_exception_in_a_job_is_raised_with_the_worker_traceback():
    with WorkerPool(job, workers=2) as pool, pytest.raises(LookupError, match="no such item 3") as info:
        list(pool.run([("x", ([1, 3], 3, "raise"))], lambda *a: pytest.fail("no death expected")))
    assert isinstance(info.value.__cause__, RemoteTraceback) and "LookupError" in str(info.value.__cause__)


def test_the_death_callback_can_stop_the_pool_and_workers_are_killed():
    pool = WorkerPool(job, workers=2)
    others = []

    def give_up(key, payload, death):
        others.extend(w.process for w in pool._live)  # the worker stuck on "h"
        raise WorkerPoolError(f"{key}: {death.describe()}")

    with pytest.raises(WorkerPoolError, match="worker died"), pool:
        list(pool.run([("k", ([1], 1, "kill")), ("h", ([1], 1, "hang"))], give_up))
    assert others and not any(p.is_alive() for p in others) and not pool._live
