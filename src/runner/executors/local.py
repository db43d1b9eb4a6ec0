"""The default executor: points run in this process (``--parallel 1``) or in a local pool of
worker processes forked from it (``--parallel N``).

Writes to a sqlite store from several workers are retried when SQLite reports the database
locked (see :data:`runner.store.mlflow_store.retry_locked`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from runner.executors.base import (
    Executor,
    PointTask,
    import_worker_modules,
    run_point,
    worker_modules,
)
from runner.plugins import Plugins, load_plugins

if TYPE_CHECKING:
    from runner.runs import RunOutcome
    from runner.sweeps import SweepPoint

#: How long an interrupted pool's workers get to end their runs KILLED before they are killed.
INTERRUPT_GRACE_SEC = 15.0


class LocalExecutor(Executor):
    """``parallel`` worker processes on this machine; in-process when ``parallel`` is 1."""

    name = "local"

    def __init__(self, parallel: int | None = 1) -> None:
        super().__init__()
        self.parallel = parallel or 1
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[dict[str, Any]], int] = {}

    def start(self, points: list[SweepPoint], tracking_uri: str) -> None:
        """Fork the workers now, before this process opens the tracking store.

        The heavy modules (MLflow, the experiment type's implementation) are imported once, here,
        and the workers are forked right away: they share those imports, then import what only
        they need (the implementations' ``WORKER_IMPORTS``) while this process checks the
        points' inputs on the spare core. Since this process has not opened the tracking store
        yet, no worker inherits a database connection. A
        process that already runs other threads (a notebook, a test session) may hold locks a
        fork would copy half-taken, and one that opened a store already holds its database
        connections: there, workers start from a forkserver that imports the same modules.
        """
        started = time.perf_counter()
        if self.parallel <= 1 or len(points) <= 1:
            self.stats.workers = 1
            self.stats.startup_sec = 0.0
            return
        modules = worker_modules(points, tracking_uri)
        store = sys.modules.get("runner.store.mlflow_store")
        opened = bool(getattr(store, "_opened", None))  # a fork would share its connections
        if threading.active_count() == 1 and not opened:
            for module in modules:
                importlib.import_module(module)
            context = multiprocessing.get_context("fork")
        else:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(modules)
        workers = min(self.parallel, len(points))
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                         initializer=_init_worker,
                                         initargs=(modules, tracking_uri))
        for _ in range(workers):  # fork them all before the store opens
            self._pool.submit(int)
        self.stats.workers = workers
        self.stats.startup_sec = time.perf_counter() - started

    def run(
        self, tasks: list[PointTask], plugins: Plugins, *, tracking_uri: str,
        tags: Mapping[str, str], force: bool,
    ) -> Iterator[tuple[int, RunOutcome]]:
        from runner.runs import RunOutcome

        if self._pool is None:
            for task in tasks:
                point_tags = {**tags, **task.tags}
                yield task.index, run_point(plugins, task.config, tracking_uri, point_tags, force)
            return
        self._futures = {
            self._pool.submit(_worker, task.config, tracking_uri, {**tags, **task.tags},
                              force): task.index
            for task in tasks
        }
        for future in as_completed(self._futures):
            yield self._futures[future], RunOutcome(**future.result())

    def interrupt(self) -> None:
        """Drop the queued points; SIGINT the workers so running points end KILLED."""
        pool = self._pool
        if pool is None:
            return
        for future in self._futures:
            future.cancel()
        processes = list(getattr(pool, "_processes", {}).values())
        for process in processes:
            if process.is_alive() and process.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGINT)
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + INTERRUPT_GRACE_SEC
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        for future in self._futures:
            with contextlib.suppress(BaseException):
                future.exception(timeout=0)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


_worker_plugins: Plugins | None = None


def _init_worker(modules: list[str], tracking_uri: str) -> None:
    """Discover plugins once per worker process, and import what only workers need (the
    implementations' ``WORKER_IMPORTS``) while the driver checks the points. The driver reached
    the tracking store: a worker's first call waits out a server restart."""
    global _worker_plugins
    import_worker_modules(modules)
    from runner.store import mlflow_store

    mlflow_store.reached_by_driver(tracking_uri)
    _worker_plugins = load_plugins()


def _worker(config: dict[str, Any], tracking_uri: str, tags: dict[str, str], force: bool) -> dict[str, Any]:
    """Run one point in a worker process."""
    assert _worker_plugins is not None
    return dataclasses.asdict(run_point(_worker_plugins, config, tracking_uri, tags, force))

