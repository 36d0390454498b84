"""A process pool that notices a dead worker and knows what it was doing.

`multiprocessing.Pool` waits forever when one of its workers is killed (OOM killer, `kill -9`), and
`concurrent.futures` only says that some process died. Here every worker has its own pipe and tells
the pool which item of its job it is on (`report(position, phase)`) before each one. When a worker
process dies (a signal, an exit) or overruns the per-job timeout (the pool kills it), the pool knows
the job, the item in flight and the signal, and asks the caller (`on_death`) what to run instead:
the same job again, the job without that item, or nothing (the callback raises).

Workers are spawned (they start clean: no copied locks or threads from pyarrow), ignore SIGINT (the
parent owns Ctrl-C and kills them), and exit as soon as the parent's end of their pipe closes, so a
parent that dies leaves no worker behind for longer than its current job.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

WORKER_EXIT_TIMEOUT = 10.0  # seconds a worker gets to exit once the pool closes, before it is killed
WORKER_START_TIMEOUT = 300.0  # seconds a new worker may take to import the package before it is killed
PR_SET_PDEATHSIG = 1  # linux/prctl.h
MAX_IDLE_DEATHS = 3  # workers dying with no job in flight (at start-up) before the pool gives up

# report(position, phase): the worker is now on item `position` of its job (None: between items),
# doing `phase` (a few words, e.g. "reading this source").
Report = Callable[[int | None, str], None]
JobFn = Callable[[Any, Report], Any]


def no_report(position: int | None, phase: str) -> None:
    """The `report` of a job run in this process: nobody is watching."""


class WorkerPoolError(RuntimeError):
    """Worker processes cannot run the jobs: they die at start-up, or a job keeps killing them."""


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a worker (set as its `__cause__`)."""

    def __str__(self) -> str:
        return str(self.args[0])


class RemoteError(RuntimeError):
    """An exception raised in a worker whose type the parent may not know; the message names it."""


@dataclass(frozen=True)
class Death:
    """How a worker died while running a job: the item in flight (`position`, None when between
    items), what it was doing, its exit code (negative: the signal) and whether the pool killed it
    for running over the timeout."""

    position: int | None
    phase: str | None
    exitcode: int | None
    timed_out: bool
    seconds: float

    def describe(self) -> str:
        """`worker died (signal 9)`, `worker exited with code 1`, `worker timed out after 60 s (killed)`."""
        if self.timed_out:
            return f"worker timed out after {self.seconds:.0f} s (killed)"
        if self.exitcode is not None and self.exitcode < 0:
            return f"worker died (signal {-self.exitcode})"
        return f"worker exited with code {self.exitcode}"


OnDeath = Callable[[Hashable, Any, Death], Any]


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when the parent can surely unpickle it (a builtin or package type that
    survives a pickle round trip), else a RemoteError naming it: a user module's exception type may
    not be importable in the parent."""
    module = type(exc).__module__
    if module == "builtins" or module.startswith("spatial_ssrl."):
        try:
            pickle.loads(pickle.dumps(exc))
            return exc
        except Exception:
            pass
    return RemoteError(f"{module}.{type(exc).__qualname__}: {exc}")


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when its parent dies, so a worker stuck in a job
    never outlives a build that was killed (elsewhere it exits at its next message)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the parent died before prctl took effect
        os._exit(1)


def _worker_main(conn: Any, fn: JobFn) -> None:
    """A worker's loop: receive (key, payload), run `fn(payload, report)`, send the result back."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn.send(("ready", None))  # imports are done: the job clock starts when a job is sent
    except (OSError, ValueError):
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        key, payload = message

        def report(position: int | None, phase: str, key: Hashable = key) -> None:
            conn.send(("at", key, position, phase))

        try:
            reply = ("done", key, fn(payload, report))
        except Exception as exc:  # sent to the parent, which raises it
            reply = ("error", key, (_portable(exc), traceback.format_exc()))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
        except Exception as exc:  # the result or the exception cannot be pickled
            conn.send(("error", key, (RemoteError(f"cannot send the result back: {exc}"), "")))


@dataclass
class _Worker:
    process: Any
    conn: Any
    spawned: float
    ready: bool = False
    job: tuple[Hashable, Any] | None = None
    started: float = 0.0
    position: int | None = None
    phase: str | None = None


class WorkerPool:
    """Up to `workers` spawned processes running `fn(payload, report)`; reusable across `run` calls.

    `timeout` (seconds, None = none) bounds one job: a worker still on it after that long is killed
    and reported to `on_death` like any other death. Use as a context manager: leaving it stops
    every worker (killing those that do not exit within WORKER_EXIT_TIMEOUT).
    """

    def __init__(self, fn: JobFn, workers: int, timeout: float | None = None):
        self.fn = fn
        self.workers = workers
        self.timeout = timeout
        self._ctx = mp.get_context("spawn")
        self._live: list[_Worker] = []
        self._idle_deaths = 0

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(kill=exc_type is not None)

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=_worker_main, args=(child, self.fn), daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent, time.monotonic())
        self._live.append(worker)
        return worker

    def run(self, jobs: list[tuple[Hashable, Any]], on_death: OnDeath) -> Iterator[tuple[Hashable, Any]]:
        """Run the (key, payload) jobs; yield (key, result) in completion order.

        When a worker dies, `on_death(key, payload, death)` returns the payload to run again (it
        goes to the front of the queue) or raises to stop. An exception raised by `fn` is raised
        here, with the worker's traceback as its cause."""
        pending = deque(jobs)
        wanted = min(self.workers, len(pending))
        while pending or any(w.job is not None for w in self._live):
            while pending and len(self._live) < wanted:
                self._spawn()
            for worker in self._live:
                if worker.ready and worker.job is None and pending:
                    self._assign(worker, pending.popleft())
            deadlines = [w.spawned + WORKER_START_TIMEOUT for w in self._live if not w.ready]
            if self.timeout is not None:
                deadlines += [w.started + self.timeout for w in self._live if w.job is not None]
            wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            wait([w.conn for w in self._live] + [w.process.sentinel for w in self._live], timeout=wait_for)
            for worker in list(self._live):
                yield from self._drain(worker, pending, on_death)
            now = time.monotonic()
            for worker in list(self._live):
                late_start = not worker.ready and now - worker.spawned > WORKER_START_TIMEOUT
                overrun = self.timeout is not None and worker.job is not None and now - worker.started > self.timeout
                if late_start or overrun:
                    worker.process.kill()
                    worker.process.join(WORKER_EXIT_TIMEOUT)
                    self._bury(worker, pending, on_death, timed_out=True)

    def _assign(self, worker: _Worker, job: tuple[Hashable, Any]) -> None:
        worker.job, worker.started, worker.position, worker.phase = job, time.monotonic(), None, "starting"
        with contextlib.suppress(OSError, ValueError):  # already dead: the next drain buries it
            worker.conn.send(job)

    def _drain(self, worker: _Worker, pending: deque, on_death: OnDeath) -> Iterator[tuple[Hashable, Any]]:
        """Handle every message the worker has sent; bury it if its process has ended."""
        while True:
            try:
                if not worker.conn.poll():
                    break
                kind, key, *rest = worker.conn.recv()
            except (EOFError, OSError):
                break
            if kind == "ready":
                worker.ready = True
            elif kind == "at":
                worker.position, worker.phase = rest
            elif kind == "done":
                worker.job = None
                self._idle_deaths = 0
                yield key, rest[0]
            else:
                exc, remote = rest[0]
                exc.__cause__ = RemoteTraceback(remote) if remote else None
                raise exc
        if not worker.process.is_alive():
            worker.process.join(WORKER_EXIT_TIMEOUT)
            self._bury(worker, pending, on_death, timed_out=False)

    def _bury(self, worker: _Worker, pending: deque, on_death: OnDeath, timed_out: bool) -> None:
        self._live.remove(worker)
        worker.conn.close()
        if worker.job is None:
            self._idle_deaths += 1
            if self._idle_deaths >= MAX_IDLE_DEATHS:
                code = worker.process.exitcode
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                raise WorkerPoolError(
                    f"{self._idle_deaths} worker processes ended before running a job (last: {how}; a worker "
                    f"gets {WORKER_START_TIMEOUT:.0f} s to start); see the messages above"
                )
            return
        key, payload = worker.job
        death = Death(
            worker.position,
            worker.phase,
            worker.process.exitcode,
            timed_out,
            time.monotonic() - worker.started,
        )
        pending.appendleft((key, on_death(key, payload, death)))

    def close(self, kill: bool = False) -> None:
        """Stop every worker: ask them to exit (or kill them at once), kill those still running after
        WORKER_EXIT_TIMEOUT, and wait for all."""
        for worker in self._live:
            if kill:
                worker.process.kill()
            else:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
        deadline = time.monotonic() + WORKER_EXIT_TIMEOUT
        for worker in self._live:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(WORKER_EXIT_TIMEOUT)
            worker.conn.close()
        self._live.clear()
