"""What every executor does: run a sweep's planned points somewhere and report their outcomes.

The driver (:func:`runner.sweeps.run_sweep`) plans and validates every point, decides which are
already done (skip-if-done), creates the parent run and ends it; an executor only runs the
points it is handed, each as a child run of that parent, and yields each outcome as it
completes. The code a worker runs for one point is :func:`run_point`, the same everywhere: a
point is a ``config.json``-style dict, resolved again against the worker's own plugins.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.plugins import Plugins
    from runner.runs import RunOutcome
    from runner.sweeps import SweepPoint


@dataclass(frozen=True)
class PointTask:
    """One point handed to an executor: where it sits in the sweep, and its resolved config."""

    index: int
    label: str
    config: dict[str, Any]
    #: ``runner.config_hash`` of the child run it makes: finds a retried point's earlier attempt.
    config_hash: str
    #: Tags of this point's run over the sweep's (a repeat's index and its own parent run).
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExecutorStats:
    """What an executor reports about a sweep: printed by ``runner sweep --json``, used by bench/."""

    executor: str
    workers: int = 0
    #: Seconds from the executor's start to its first worker ready to take a point.
    startup_sec: float | None = None
    #: Per point: seconds from the point handed to a worker to the worker starting it.
    dispatch_sec: list[float] = field(default_factory=list)
    #: Ray node id -> number of points run there.
    nodes: dict[str, int] = field(default_factory=dict)
    #: Worker processes that died mid-point (restarted by Ray, the point run again).
    restarts: int = 0

    def as_dict(self) -> dict[str, Any]:
        dispatch = sorted(self.dispatch_sec)
        return {
            "executor": self.executor,
            "workers": self.workers,
            "startup_sec": None if self.startup_sec is None else round(self.startup_sec, 3),
            "dispatch_sec_median": round(dispatch[len(dispatch) // 2], 4) if dispatch else None,
            "nodes": dict(self.nodes),
            "restarts": self.restarts,
        }


class Executor(abc.ABC):
    """Runs sweep points. ``start`` comes before the driver opens the tracking store (a local
    pool forks there); ``close`` always runs, after the points or an interrupt."""

    name: str = "?"
    def __init__(self) -> None:
        self.stats = ExecutorStats(self.name)

    @abc.abstractmethod
    def start(self, points: list[SweepPoint], tracking_uri: str) -> None:
        """Get workers going, before the driver opens the store and checks inputs (they may
        still be starting when this returns)."""

    def ready(self, points: list[SweepPoint], tracking_uri: str) -> None:  # noqa: B027
        """After the driver's checks, before the parent run: ``points`` are left to run. Raises
        what stops the sweep before any run exists (no cluster, a store workers cannot use)."""

    @abc.abstractmethod
    def run(
        self, tasks: list[PointTask], plugins: Plugins, *, tracking_uri: str,
        tags: Mapping[str, str], force: bool,
    ) -> Iterator[tuple[int, RunOutcome]]:
        """Run every task as a child run tagged ``tags``; yield ``(index, outcome)`` as each ends."""

    def interrupt(self) -> None:  # noqa: B027 - executors without workers have nothing to stop
        """Ctrl-C on the driver: stop running points (their runs end KILLED), drop the rest."""

    def close(self) -> None:  # noqa: B027 - idem
        """Release the workers (and a cluster started for this sweep)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_point(
    plugins: Plugins, config: Mapping[str, Any], tracking_uri: str, tags: Mapping[str, str],
    force: bool,
) -> RunOutcome:
    """Run one point in this process. The worker checks skip-if-done too (unless ``force``): a
    twin another sweep finished meanwhile is not run twice."""
    from runner.config import resolve_config
    from runner.runs import execute

    resolved = resolve_config(config, plugins)
    return execute(resolved, plugins, tracking_uri=tracking_uri, tags=tags, skip_if_done=not force)


def module_of(implementation: str | type) -> str:
    """The module an implementation (``"pkg.mod:Class"`` or the class) lives in."""
    if isinstance(implementation, str):
        return implementation.partition(":")[0]
    return implementation.__module__


def worker_modules(points: list[SweepPoint], tracking_uri: str) -> list[str]:
    """What a worker imports once before its first point: the store, the SQL store for a
    database URI, and each point's implementation module."""
    modules = sorted({"runner.store.writer",
                      *(module_of(p.resolved.experiment_type.implementation) for p in points)})
    if not tracking_uri.startswith(("http://", "https://", "databricks", "file:")) and "://" in tracking_uri:
        modules.append(SQL_STORE_MODULE)  # the store's own imports (SQLAlchemy, alembic): ~1 s
    return modules


SQL_STORE_MODULE = "mlflow.store.tracking.sqlalchemy_store"
#: A module attribute naming what an implementation's runs need but the driver's input checks do
#: not (a model serializer, plotting): workers import it before their first point, the driver never.
WORKER_IMPORTS_ATTR = "WORKER_IMPORTS"


def import_worker_modules(modules: list[str]) -> None:
    """Import ``modules`` (from :func:`worker_modules`) and what each names in its
    ``WORKER_IMPORTS``: a worker's warm-up, run while the driver still checks the points."""
    for name in modules:
        module = importlib.import_module(name)
        for extra in getattr(module, WORKER_IMPORTS_ATTR, ()):
            importlib.import_module(extra)
