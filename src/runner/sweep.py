"""Sweeps: a grid of params run as nested child runs under one parent run.

Every grid point is validated before anything runs. Points whose content key already has a
FINISHED run are skipped (``force`` re-runs them), so re-running an interrupted sweep completes
only what is missing. With ``parallel > 1`` points run in worker processes; writes to the sqlite
store are retried when SQLite reports the database locked (see
:data:`runner.store.mlflow_store.retry_locked`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import itertools
import json
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import yaml

from runner.config import ResolvedRun, resolve, resolve_config
from runner.errors import InputError
from runner.experiment_type import MetricSpec
from runner.plugins import Plugins, load_plugins
from runner.registry import Registry
from runner.runs import RunOutcome, execute
from runner.store import names

#: Outcomes that count as done: ran to the end now, or earlier (skip-if-done).
DONE = ("FINISHED", "SKIPPED")
SQL_STORE_MODULE = "mlflow.store.tracking.sqlalchemy_store"


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its overrides and the validated run they make."""

    overrides: dict[str, Any]
    resolved: ResolvedRun

    @property
    def label(self) -> str:
        """``C=0.1, max_iter=100``: how the point is named in messages."""
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items())


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its parent run, one outcome per point, and the best point."""

    parent_run_id: str
    points: list[SweepPoint]
    outcomes: list[RunOutcome]
    spec: MetricSpec | None
    best: RunOutcome | None
    #: Runs of an earlier sweep left RUNNING by a killed process, marked FAILED at the start.
    ended_stale: list[str] = dataclasses.field(default_factory=list)

    @property
    def metric(self) -> str | None:
        """The primary metric the points are ranked by."""
        return self.spec.name if self.spec else None

    def ranked(self) -> list[tuple[SweepPoint, RunOutcome]]:
        """Points with their outcomes, best first by the primary metric; unscored ones last."""
        pairs = list(zip(self.points, self.outcomes, strict=True))
        if self.spec is None:
            return pairs
        spec = self.spec
        return sorted(pairs, key=lambda pair: spec.sort_key(pair[1].metrics.get(spec.name)))


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["C=0.1,1", "hidden_units=[32],[64,32]"]`` -> ``{"C": [0.1, 1], "hidden_units": [...]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise InputError(f"--grid expects key=v1,v2,..., got {item!r}")
        try:
            parsed = yaml.safe_load(f"[{values}]")
        except yaml.YAMLError:
            raise InputError(f"--grid {key}: cannot parse values {values!r}") from None
        grid[key.strip()] = parsed
    return grid


def expand(grid: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the order the keys were given."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def plan(
    name: str,
    grid_items: Iterable[str],
    *,
    plugins: Plugins,
    registry: Registry,
    overrides: Iterable[str] = (),
    experiment_name: str | None = None,
) -> list[SweepPoint]:
    """Expand the registry entry's ``sweep:`` block and ``--grid`` values; validate every point."""
    entry = registry.experiments.get(name)
    grid = {**((entry.sweep or {}) if entry else {}), **parse_grid(grid_items)}
    if not grid:
        raise InputError(f"nothing to sweep for {name!r}: give --grid key=v1,v2 or a sweep: block")
    fixed = list(overrides)
    points = []
    for combo in expand(grid):
        label = f"{name} [{', '.join(f'{k}={v}' for k, v in combo.items())}]"
        try:
            resolved = resolve(name, [*fixed, *(f"{k}={_yaml(v)}" for k, v in combo.items())],
                               plugins=plugins, registry=registry, experiment_name=experiment_name)
        except InputError as exc:
            raise InputError(f"grid point {label}: {exc}") from None
        points.append(SweepPoint(combo, resolved))
    return points


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")


def run_sweep(
    name: str,
    points: list[SweepPoint],
    plugins: Plugins,
    *,
    tracking_uri: str,
    parallel: int = 1,
    force: bool = False,
    on_outcome: Callable[[SweepPoint, RunOutcome], None] | None = None,
) -> SweepResult:
    """Run every point as a child of a new parent run; rank by the type's primary metric."""
    from runner.liveness import end_stale_runs, process_tags
    from runner.store import mlflow_store

    first = points[0].resolved
    spec = first.experiment_type.primary
    # Workers fork first: the store is opened only after, so none inherits its connection.
    with _worker_pool(points, parallel, tracking_uri) as pool:
        check_inputs(name, points, plugins, tracking_uri)
        stale = [run.run_id for run in end_stale_runs(tracking_uri, first.experiment_name)]
        parent = mlflow_store.start_parent_run(
            tracking_uri, first.experiment_name, f"sweep {name}",
            params={k: _yaml([p.overrides[k] for p in points]) for k in points[0].overrides},
            tags={names.SWEEP_TAG: name, names.EXPERIMENT_TYPE_TAG: first.experiment_type.id,
                  names.SWEEP_POINTS_TAG: str(len(points)), **process_tags()},
        )
        tags = {names.PARENT_RUN_TAG: parent, names.SWEEP_TAG: name}
        outcomes: list[RunOutcome | None] = [None] * len(points)
        status = "FAILED"
        try:
            for index, outcome in _run_points(points, plugins, tracking_uri, tags, pool, force):
                outcomes[index] = outcome
                if on_outcome:
                    on_outcome(points[index], outcome)
            status = "FINISHED" if all(o and o.status in DONE for o in outcomes) else "FAILED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            done = [o for o in outcomes if o is not None]
            best = best_outcome(done, spec) if spec else None
            mlflow_store.finish_parent_run(
                tracking_uri, parent, status, results_table(done, spec),
                (best.run_id, spec.name, best.metrics[spec.name]) if best and spec else None,
            )
    return SweepResult(parent, points, done, spec, best, stale)


def check_inputs(name: str, points: list[SweepPoint], plugins: Plugins, tracking_uri: str) -> None:
    """Every point's ``runner_prepare`` (data files exist, parse, have the columns), before any
    point runs; no run is created. A bad point is one ``InputError`` naming it."""
    from runner.runs import prepare_only

    for point in points:
        try:
            prepare_only(point.resolved, plugins, tracking_uri)
        except InputError as exc:
            raise InputError(f"grid point {name} [{point.label}]: {exc}") from None


def best_outcome(outcomes: list[RunOutcome], spec: MetricSpec) -> RunOutcome | None:
    """The done outcome with the best value of ``spec``, if any has it."""
    scored = [o for o in outcomes if spec.name in o.metrics and o.status in DONE]
    return min(scored, key=lambda o: spec.sort_key(o.metrics[spec.name]), default=None)


def results_table(outcomes: list[RunOutcome], spec: MetricSpec | None) -> dict[str, list[Any]]:
    """The parent run's table: one row per point with its status and primary metric."""
    return {
        "run_id": [o.run_id for o in outcomes],
        "status": [o.status for o in outcomes],
        **({spec.name: [o.metrics.get(spec.name) for o in outcomes]} if spec else {}),
        "params": [json.dumps(o.params, sort_keys=True) for o in outcomes],
    }


@contextlib.contextmanager
def _worker_pool(
    points: list[SweepPoint], parallel: int, tracking_uri: str
) -> Iterator[ProcessPoolExecutor | None]:
    """``parallel`` worker processes forked now; ``None`` for a sequential sweep.

    The heavy modules (MLflow, the experiment type's implementation) are imported once, here,
    and the workers are forked right away: they share those imports, and since this process
    has not opened the tracking store yet, no worker inherits a database connection. A process
    that already runs other threads (a notebook, a test session) may hold locks a fork would
    copy half-taken: there, workers start from a forkserver that imports the same modules.
    """
    if parallel <= 1 or len(points) <= 1:
        yield None
        return
    modules = sorted({"runner.store.mlflow_store", *(_module_of(p.resolved.experiment_type.implementation)
                                           for p in points)})
    if tracking_uri.startswith("sqlite:"):  # the store's own imports (SQLAlchemy, alembic): ~1 s
        modules.append(SQL_STORE_MODULE)
    if threading.active_count() == 1:
        for module in modules:
            importlib.import_module(module)
        context = multiprocessing.get_context("fork")
    else:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(modules)
    with ProcessPoolExecutor(max_workers=min(parallel, len(points)), mp_context=context,
                             initializer=_init_worker) as pool:
        for _ in range(pool._max_workers):  # noqa: SLF001 - fork them all before the store opens
            pool.submit(int)
        yield pool


def _module_of(implementation: str | type) -> str:
    if isinstance(implementation, str):
        return implementation.partition(":")[0]
    return implementation.__module__


def _run_points(
    points: list[SweepPoint], plugins: Plugins, tracking_uri: str, tags: dict[str, str],
    pool: ProcessPoolExecutor | None, force: bool,
) -> Iterable[tuple[int, RunOutcome]]:
    """Each point's outcome as it completes; a point already done is SKIPPED unless ``force``."""
    if pool is None:
        for index, point in enumerate(points):
            yield index, execute(point.resolved, plugins, tracking_uri=tracking_uri, tags=tags,
                                 skip_if_done=not force)
        return
    futures = {  # each worker checks skip-if-done itself
        pool.submit(_worker, point.resolved.config, tracking_uri, tags, force): index
        for index, point in enumerate(points)
    }
    for future in as_completed(futures):
        yield futures[future], RunOutcome(**future.result())


_worker_plugins: Plugins | None = None


def _init_worker() -> None:
    """Discover plugins once per worker process."""
    global _worker_plugins
    _worker_plugins = load_plugins()


def _worker(config: dict[str, Any], tracking_uri: str, tags: dict[str, str], force: bool) -> dict[str, Any]:
    """Run one point in a worker process."""
    assert _worker_plugins is not None
    resolved = resolve_config(config, _worker_plugins)
    outcome = execute(resolved, _worker_plugins, tracking_uri=tracking_uri, tags=tags,
                      skip_if_done=not force)
    return dataclasses.asdict(outcome)
