"""Sweeps: a grid of params run as nested child runs under one parent run.

Every grid point is validated before anything runs. Points whose content key already has a
FINISHED run are skipped (``force`` re-runs them), so re-running an interrupted sweep completes
only what is missing. Planning, validation, skip-if-done and the parent run stay in this
process (the driver); an executor (:mod:`runner.executors`) runs the remaining points: in this
process or a local pool of worker processes (``local``, the default), or on Ray actors
(``ray``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from runner.config import ResolvedRun, resolve
from runner.errors import InputError
from runner.executors.base import PointTask
from runner.experiment_type import MetricSpec
from runner.liveness import stale_reason
from runner.plugins import Plugins
from runner.provenance import config_hash
from runner.registry import Registry
from runner.runs import RunOutcome
from runner.repeats import (
    DONE,
    RepeatGroup,
    is_done,
    rank_groups,
    repeat_groups,
    repeat_points,
    repeat_tags,
    summarize_groups,
)
from runner.store import names

if TYPE_CHECKING:
    from runner.executors.base import Executor

@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its overrides and the validated run they make."""

    overrides: dict[str, Any]
    resolved: ResolvedRun
    #: With ``--repeat``: which repeat this is (0-based); ``overrides`` then hold its seed.
    repeat: int | None = None

    @property
    def label(self) -> str:
        """``C=0.1, max_iter=100``: how the point is named in messages."""
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items()) or "defaults"

    @property
    def group(self) -> str:
        """The label without the repeat's seed: the point the repeats are of."""
        if self.repeat is None:
            return self.label
        return ", ".join(f"{k}={v}" for k, v in self.overrides.items() if k != "seed") or "defaults"


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
    #: What the executor reports: its name, workers, start-up, dispatch latency, Ray nodes.
    executor: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: With ``--repeat``: one group per point, best first by the mean of the primary metric.
    groups: list[RepeatGroup] = dataclasses.field(default_factory=list)
    #: Without repeats: indices of points whose per-item scores of the primary metric are not
    #: detectably worse than the best point's (the best included).
    tied_with_best: set[int] = dataclasses.field(default_factory=set)

    @property
    def metric(self) -> str | None:
        """The primary metric the points are ranked by."""
        return self.spec.name if self.spec else None

    @property
    def table(self) -> Any:
        """A pandas DataFrame, best first: one row per point (per repeated point, with the
        primary metric's mean, 95% CI and whether it is tied with the best)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def rows(self) -> list[dict[str, Any]]:
        """The ranked table as records: what ``table``, the CLI and ``--json`` show."""
        metric = self.metric
        if self.groups:
            rows = []
            for group in self.groups:
                summary = group.summaries.get(metric) if metric else None
                first = self.points[group.indices[0]]
                rows.append({
                    **{k: v for k, v in first.overrides.items() if k != "seed"},
                    "repeats": len(group.indices),
                    **({f"{metric}_mean": summary.mean if summary else None,
                        f"{metric}_ci_low": summary.ci_low if summary else None,
                        f"{metric}_ci_high": summary.ci_high if summary else None,
                        "tied_with_best": group.tied_with_best} if metric else {}),
                    "run_id": group.run_id,
                })
            return rows
        return [{**point.overrides, "status": outcome.status,
                 **({metric: outcome.metrics.get(metric)} if metric else {}),
                 "cost_usd": outcome.metrics.get("cost_usd"),
                 "wall_time_sec": outcome.metrics.get("wall_time_sec"),
                 **({"tied_with_best": index in self.tied_with_best} if self.tied_with_best
                    else {}),
                 "run_id": outcome.run_id}
                for index, point, outcome in self.ranked_indexed()]

    def ranked(self) -> list[tuple[SweepPoint, RunOutcome]]:
        """Points with their outcomes, best first by the primary metric; unscored ones last."""
        return [(point, outcome) for _, point, outcome in self.ranked_indexed()]

    def ranked_indexed(self) -> list[tuple[int, SweepPoint, RunOutcome]]:
        """``ranked`` with each point's index in the sweep."""
        triples = [(i, p, o) for i, (p, o) in enumerate(zip(self.points, self.outcomes, strict=True))]
        if self.spec is None:
            return triples
        spec = self.spec
        return sorted(triples, key=lambda triple: spec.sort_key(triple[2].metrics.get(spec.name)))


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
    grid_items: Mapping[str, Iterable[Any]] | Iterable[str],
    *,
    plugins: Plugins,
    registry: Registry,
    overrides: Mapping[str, Any] | Iterable[str] | Iterable[tuple[str, Any]] = (),
    experiment_name: str | None = None,
    repeat: int = 1,
) -> list[SweepPoint]:
    """Expand the registry entry's ``sweep:`` block and the grid (``--grid`` strings or a
    mapping of values); validate every point.

    With ``repeat`` > 1 every grid point is run with seeds ``seed .. seed + repeat - 1``.
    """
    entry = registry.experiments.get(name)
    given = ({key: list(values) for key, values in grid_items.items()}
             if isinstance(grid_items, Mapping) else parse_grid(grid_items))
    grid = {**((entry.sweep or {}) if entry else {}), **given}
    if not grid:
        raise InputError(f"nothing to sweep for {name!r}: give --grid key=v1,v2 or a sweep: block")
    fixed = [item if isinstance(item, str) else f"{item[0]}={_yaml(item[1])}"
             for item in (overrides.items() if isinstance(overrides, Mapping) else overrides)]
    return repeat_points([_point(name, combo, fixed, plugins, registry, experiment_name)
                          for combo in expand(grid)], repeat)


def _point(
    name: str, combo: dict[str, Any], fixed: list[str], plugins: Plugins, registry: Registry,
    experiment_name: str | None,
) -> SweepPoint:
    """Resolve one combination of grid values over the fixed overrides."""
    label = f"{name} [{', '.join(f'{k}={v}' for k, v in combo.items())}]"
    try:
        resolved = resolve(name, [*fixed, *(f"{k}={_yaml(v)}" for k, v in combo.items())],
                           plugins=plugins, registry=registry, experiment_name=experiment_name)
    except InputError as exc:
        raise InputError(f"grid point {label}: {exc}") from None
    return SweepPoint(combo, resolved)


def load_runtime_env(value: str) -> dict[str, Any]:
    """``--ray-runtime-env``: JSON text, or a JSON/YAML file holding a Ray ``runtime_env``."""
    from pathlib import Path

    text = value
    if not value.lstrip().startswith("{"):
        path = Path(value)
        if not path.is_file():
            raise InputError(f"--ray-runtime-env: {value!r} is neither JSON nor a file")
        text = path.read_text()
    try:
        loaded = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise InputError(f"--ray-runtime-env: cannot parse {value!r}: {exc}".splitlines()[0]) from None
    if not isinstance(loaded, dict):
        raise InputError("--ray-runtime-env must be a mapping (pip, working_dir, env_vars, ...)")
    return loaded


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")


def run_sweep(
    name: str,
    points: list[SweepPoint],
    plugins: Plugins,
    *,
    tracking_uri: str,
    parallel: int | None = 1,
    force: bool = False,
    on_outcome: Callable[[SweepPoint, RunOutcome], None] | None = None,
    executor: str | Executor = "local",
    ray_address: str | None = None,
    ray_runtime_env: dict[str, Any] | None = None,
    parent_name: str | None = None,
    use_cache: bool = True,
) -> SweepResult:
    """Run every point as a child of a new parent run; rank by the type's primary metric.

    Repeated points (:func:`runner.repeats.repeat_points`) are children of one parent per point, which logs
    the mean, std and 95% CI of each deterministic metric over its seeds; with one point (or
    ``runner run --repeat``) that parent is the sweep's own (named ``parent_name``).
    ``use_cache=False`` reaches the workers as ``$RUNNER_NO_CACHE`` (see ``--no-cache``).

    The driver (this process) checks every point's inputs, decides which points are already
    done (skip-if-done), and creates and ends the parent run; ``executor`` (``local``: this
    machine's processes; ``ray``: a Ray cluster) runs the rest. ``parallel`` caps the workers
    (``local``: default 1; ``ray``: default the cluster's CPUs).
    """
    if not use_cache:
        with _no_cache():
            return run_sweep(name, points, plugins, tracking_uri=tracking_uri, parallel=parallel,
                             force=force, on_outcome=on_outcome, executor=executor,
                             ray_address=ray_address, ray_runtime_env=ray_runtime_env,
                             parent_name=parent_name)
    from runner.executors import make_executor
    from runner.liveness import end_stale_runs, process_tags
    from runner.store.uris import server_reachable

    first = points[0].resolved
    spec = first.experiment_type.primary
    runner_executor = executor if not isinstance(executor, str) else make_executor(
        executor, parallel=parallel, ray_address=ray_address, ray_runtime_env=ray_runtime_env)
    outcomes: list[RunOutcome | None] = [None] * len(points)

    def report(index: int, outcome: RunOutcome) -> None:
        outcomes[index] = outcome
        if on_outcome:
            on_outcome(points[index], outcome)

    server_reachable(tracking_uri)
    groups = repeat_groups(points)
    with runner_executor:
        # Workers start first: a local pool forks before this process opens the store; a Ray
        # cluster and its actors start while this process imports MLflow (~1.5 s, on the
        # core Ray's start leaves idle) and checks every point's inputs.
        runner_executor.start(points, tracking_uri)
        from runner.store import mlflow_store

        done_before = check_inputs(name, points, plugins, tracking_uri, skip_if_done=not force)
        runner_executor.ready([p for i, p in enumerate(points) if i not in done_before], tracking_uri)
        stale = [run.run_id for run in end_stale_runs(tracking_uri, first.experiment_name)]
        repeats = {names.REPEATS_TAG: str(len(next(iter(groups.values()))))} if len(groups) == 1 else {}
        parent = mlflow_store.start_parent_run(
            tracking_uri, first.experiment_name, parent_name or f"sweep {name}",
            params={k: _yaml([p.overrides[k] for p in points]) for k in points[0].overrides},
            tags={names.SWEEP_TAG: name, names.EXPERIMENT_TYPE_TAG: first.experiment_type.id,
                  names.SWEEP_POINTS_TAG: str(len(points)), **repeats, **process_tags()},
        )
        # Several repeated points: each gets its own parent (under the sweep's) for its seeds.
        group_runs = {label: parent for label in groups} if len(groups) == 1 else {
            label: mlflow_store.start_parent_run(
                tracking_uri, first.experiment_name, f"{name} [{label}] x{len(indices)}",
                params={k: _yaml(v) for k, v in points[indices[0]].overrides.items() if k != "seed"},
                tags={names.PARENT_RUN_TAG: parent, names.SWEEP_TAG: name,
                      names.EXPERIMENT_TYPE_TAG: first.experiment_type.id,
                      names.REPEATS_TAG: str(len(indices)), **process_tags()})
            for label, indices in groups.items()}
        tags = {names.PARENT_RUN_TAG: parent, names.SWEEP_TAG: name}
        status = "FAILED"
        try:
            for index, outcome in done_before.items():
                report(index, outcome)
            tasks = [PointTask(i, p.label, p.resolved.config, config_hash(p.resolved.config),
                               repeat_tags(p, group_runs))
                     for i, p in enumerate(points) if i not in done_before]
            for index, outcome in runner_executor.run(tasks, plugins, tracking_uri=tracking_uri,
                                                      tags=tags, force=force):
                report(index, outcome)
            status = "FINISHED" if all(o and o.status in DONE for o in outcomes) else "FAILED"
        except KeyboardInterrupt:
            status = "KILLED"
            runner_executor.interrupt()
            raise
        finally:
            try:
                runner_executor.close()
            finally:
                for run_id in {parent, *group_runs.values()}:
                    end_left_children(tracking_uri, first.experiment_name, run_id, status)
                summaries = summarize_groups(points, outcomes, groups, group_runs, first)
                for group in summaries:
                    if group.run_id != parent:
                        group_status = status if status == "KILLED" else (
                            "FINISHED" if all(is_done(outcomes[i]) for i in group.indices) else "FAILED")
                        mlflow_store.finish_parent_run(
                            tracking_uri, group.run_id, group_status,
                            results_table([points[i] for i in group.indices],
                                          [outcomes[i] for i in group.indices], spec),
                            None, metrics=group.metrics)
                done = [o for o in outcomes if o is not None]
                best = best_outcome(done, spec) if spec else None
                mlflow_store.finish_parent_run(
                    tracking_uri, parent, status, results_table(points, outcomes, spec),
                    (best.run_id, spec.name, best.metrics[spec.name]) if best and spec else None,
                    metrics=summaries[0].metrics if len(groups) == 1 else None,
                )
    from runner.comparison import items_tied_with_best

    ranked_groups = rank_groups(summaries, points, outcomes, spec)
    ties = set() if groups or spec is None else items_tied_with_best(
        tracking_uri, outcomes, best, spec)
    return SweepResult(parent, points, done, spec, best, stale, runner_executor.stats.as_dict(),
                       ranked_groups, ties)


@contextlib.contextmanager
def _no_cache() -> Iterator[None]:
    """``$RUNNER_NO_CACHE`` set while a sweep runs: local workers inherit it, Ray actors are
    handed it (``runner.executors.ray.FORWARDED_ENV``)."""
    from runner.lifecycle import NO_CACHE_ENV

    before = os.environ.get(NO_CACHE_ENV)
    os.environ[NO_CACHE_ENV] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ[NO_CACHE_ENV]
        else:
            os.environ[NO_CACHE_ENV] = before


def end_left_children(tracking_uri: str, experiment: str, parent: str, status: str) -> list[str]:
    """Children of ``parent`` still RUNNING once no worker runs any point of the sweep.

    After an interrupt they end KILLED; otherwise they are attempts whose worker process died
    (the point was run again), and end FAILED saying so. Returns their ids.
    """
    from runner.store import mlflow_store

    left = mlflow_store.sweep_children(tracking_uri, experiment, parent, status="RUNNING")
    for run in left:
        if status == "KILLED":
            mlflow_store.end_run(tracking_uri, run.run_id, "KILLED",
                                 "the sweep was interrupted (Ctrl-C) while this point ran")
        else:
            mlflow_store.mark_failed(tracking_uri, run.run_id,
                                     f"{stale_reason(run.tags)}; the sweep ran the point again")
    return [run.run_id for run in left]


def check_inputs(
    name: str, points: list[SweepPoint], plugins: Plugins, tracking_uri: str, *,
    skip_if_done: bool = False,
) -> dict[int, RunOutcome]:
    """Every point's ``runner_prepare`` (data files exist, parse, have the columns), before any
    point runs; no run is created. A bad point is one ``InputError`` naming it.

    With ``skip_if_done``, returns the points whose content key already has a FINISHED run, by
    index, as ``SKIPPED`` outcomes (with that run's id and metrics).
    """
    from runner.lifecycle import SKIPPED
    from runner.overrides import flatten
    from runner.runs import prepare_only

    skipped: dict[int, RunOutcome] = {}
    for index, point in enumerate(points):
        try:
            ctx = prepare_only(point.resolved, plugins, tracking_uri, skip_if_done=skip_if_done)
        except InputError as exc:
            raise InputError(f"grid point {name} [{point.label}]: {exc}") from None
        if ctx.status == SKIPPED and ctx.run_id:
            from runner.store import mlflow_store

            skipped[index] = RunOutcome(
                run_id=str(ctx.run_id), experiment=point.resolved.experiment_name, status=SKIPPED,
                params=flatten(point.resolved.config["params"]),
                metrics=mlflow_store.run_metrics(tracking_uri, str(ctx.run_id)),
            )
    return skipped


def best_outcome(outcomes: list[RunOutcome], spec: MetricSpec) -> RunOutcome | None:
    """The done outcome with the best value of ``spec``, if any has it."""
    scored = [o for o in outcomes if spec.name in o.metrics and o.status in DONE]
    return min(scored, key=lambda o: spec.sort_key(o.metrics[spec.name]), default=None)


def results_table(
    points: list[SweepPoint], outcomes: list[RunOutcome | None], spec: MetricSpec | None,
) -> dict[str, list[Any]]:
    """The parent run's table: one row per point run, its status, primary metric and cost."""
    done = [(p, o) for p, o in zip(points, outcomes, strict=True) if o is not None]
    return {
        "run_id": [o.run_id for _, o in done],
        "status": [o.status for _, o in done],
        **({spec.name: [o.metrics.get(spec.name) for _, o in done]} if spec else {}),
        "cost_usd": [o.metrics.get("cost_usd") for _, o in done],
        "wall_time_sec": [o.metrics.get("wall_time_sec") for _, o in done],
        **({"repeat": [p.repeat for p, _ in done]} if any(p.repeat is not None for p in points)
           else {}),
        "params": [json.dumps(o.params, sort_keys=True) for _, o in done],
    }
