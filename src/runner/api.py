"""The Python API: what the ``runner`` command does, for notebooks and scripts.

::

    import runner

    result = runner.run("ml-baseline", C=0.3)
    result.run_id, result.status, result.metrics["accuracy"]
    sweep = runner.sweep("rag-config", grid={"chunk_size": [128, 256, 512]}, parallel=2)
    sweep.table                                   # pandas DataFrame, best first
    runner.compare([a.run_id, b.run_id])          # params, metrics, paired tests, as data
    runner.reproduce(result.run_id)               # drift and metric differences, as data
    runner.experiment_types(), runner.experiments(), runner.show("llm-prompt")

Each function resolves and validates exactly as the CLI does (the CLI calls these); a bad
value raises :class:`runner.InputError` with the CLI's one-line message before any run exists.
Keyword overrides are the ``--set`` keys, dotted ones passed as ``**{"dataset.path": "x.csv"}``.
``tracking_uri`` defaults to ``$MLFLOW_TRACKING_URI``, else ``./mlflow.db``; ``registry`` to
``$RUNNER_REGISTRY``, else ``./registry.yaml``. Nothing heavy is imported until a function runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import RunnerError
from runner.outcome import RunOutcome

if TYPE_CHECKING:
    from runner.comparison import Comparison
    from runner.plugins import Plugins
    from runner.reproduction import Drift, Reproduction
    from runner.stats import Summary
    from runner.sweeps import SweepPoint, SweepResult


class RunFailed(RunnerError):
    """``run(..., check=True)``: the run (or one of its repeats) did not finish."""


@dataclass(frozen=True)
class RunResult(RunOutcome):
    """What ``runner.run`` left in MLflow: the run, or with ``repeat`` the parent of its seeds.

    ``metrics`` of a repeat parent are ``<metric>_mean``, ``_std``, ``_ci_low`` and
    ``_ci_high`` of every deterministic metric; ``repeats`` are the seeds' own runs.
    """

    repeats: list[RunOutcome] = field(default_factory=list)
    summaries: dict[str, Summary] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The run finished (or was already done: skip-if-done)."""
        return self.status in ("FINISHED", "SKIPPED")

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        if self.repeats:
            data["repeats"] = [r.as_dict() for r in self.repeats]
            data["summaries"] = {k: dataclasses.asdict(s) for k, s in self.summaries.items()}
        return data


def _plugins(plugins: Plugins | None) -> Plugins:
    from runner.plugins import load_plugins

    return plugins or load_plugins()


def _tracking(tracking_uri: str | None) -> str:
    from runner.config import default_tracking_uri

    return tracking_uri or default_tracking_uri()


def run(
    name: str, /, *, tracking_uri: str | None = None, experiment_name: str | None = None,
    run_name: str | None = None, registry: str | Path | None = None, repeat: int = 1,
    use_cache: bool = True, check: bool = False, progress: bool = False,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    on_outcome: Callable[[SweepPoint, RunOutcome], None] | None = None,
    plugins: Plugins | None = None, **params: Any,
) -> RunResult:
    """Run ``name`` (a registry entry or an experiment type), like ``runner run``.

    ``params`` (or ``overrides``: a mapping, or ``"key=value"`` strings) override its params.
    ``repeat`` > 1 runs seeds ``seed .. seed+repeat-1`` under one parent that carries each
    metric's mean and 95% CI. A failed run is returned (status ``FAILED``, ``error`` set),
    or raised as :class:`RunFailed` with ``check=True``. Ctrl-C ends the run ``KILLED`` and
    re-raises ``KeyboardInterrupt``.
    """
    from runner.config import normalize_overrides, resolve
    from runner.registry import load_registry
    from runner.runs import execute

    plugins = _plugins(plugins)
    given = dict([*normalize_overrides(overrides), *params.items()])
    resolved = resolve(name, given, plugins=plugins,
                       registry=load_registry(registry), experiment_name=experiment_name)
    uri = _tracking(tracking_uri)
    if repeat == 1:
        outcome = execute(resolved, plugins, tracking_uri=uri, run_name=run_name,
                          show_progress=progress, use_cache=use_cache)
        result = RunResult(**dataclasses.asdict(outcome))
    else:
        from runner.naming import default_run_name
        from runner.repeats import repeat_points
        from runner.sweeps import SweepPoint, run_sweep

        points = repeat_points([SweepPoint({}, resolved)], repeat)
        swept = run_sweep(name, points, plugins, tracking_uri=uri, on_outcome=on_outcome,
                          parent_name=run_name or f"{default_run_name(resolved)} x{repeat}",
                          use_cache=use_cache)
        group = swept.groups[0]
        failed = [o for o in swept.outcomes if o.status not in ("FINISHED", "SKIPPED")]
        result = RunResult(
            swept.parent_run_id, resolved.experiment_name,
            "FAILED" if failed else "FINISHED", dict(resolved.logged_params),
            group.metrics, failed[0].error if failed else None,
            list(swept.outcomes), dict(group.summaries))
    if check and not result.ok:
        raise RunFailed(f"run {result.run_id} {result.status}: {result.error}")
    return result


def sweep(
    name: str, /, grid: Mapping[str, Iterable[Any]] | Iterable[str] | None = None, *,
    parallel: int | None = None, repeat: int = 1, executor: str = "local", force: bool = False,
    tracking_uri: str | None = None, experiment_name: str | None = None,
    registry: str | Path | None = None, ray_address: str | None = None,
    ray_runtime_env: dict[str, Any] | None = None, use_cache: bool = True,
    overrides: Mapping[str, Any] | Iterable[str] | None = None,
    on_outcome: Callable[[SweepPoint, RunOutcome], None] | None = None,
    plugins: Plugins | None = None, **params: Any,
) -> SweepResult:
    """Run ``name`` over ``grid`` (``{"C": [0.1, 1]}`` or ``["C=0.1,1"]``), like ``runner sweep``.

    The registry entry's ``sweep:`` block is the grid when none is given. ``params`` are fixed
    overrides. ``result.table`` is a DataFrame ranked by the primary metric (by its mean, with
    the 95% CI, under ``repeat``).
    """
    from runner.config import normalize_overrides
    from runner.registry import load_registry
    from runner.sweeps import plan, run_sweep

    plugins = _plugins(plugins)
    fixed = [*normalize_overrides(overrides), *params.items()]
    points = plan(name, grid or {}, plugins=plugins, registry=load_registry(registry),
                  overrides=fixed, experiment_name=experiment_name, repeat=repeat)
    return run_sweep(name, points, plugins, tracking_uri=_tracking(tracking_uri),
                     parallel=parallel, force=force, on_outcome=on_outcome, executor=executor,
                     ray_address=ray_address, ray_runtime_env=ray_runtime_env,
                     use_cache=use_cache)


def compare(
    run_ids: Iterable[str] = (), *, experiment: str | None = None, metric: str | None = None,
    top: int = 3, tracking_uri: str | None = None, plugins: Plugins | None = None,
) -> Comparison:
    """Runs side by side, like ``runner compare``: differing params, metrics with deltas
    against the first run, responses per item, and paired tests of per-item scores.

    ``experiment`` and ``metric`` add that experiment's ``top`` best runs.
    """
    from runner.comparison import compare as compare_runs
    from runner.comparison import top_runs
    from runner.errors import InputError

    plugins = _plugins(plugins)
    uri = _tracking(tracking_uri)
    ids = list(run_ids)
    if experiment:
        if not metric:
            raise InputError("--experiment needs --metric to rank runs by")
        ids += top_runs(uri, experiment, metric, top, plugins)
    return compare_runs(uri, ids, plugins)


def reproduce(
    run_id: str, *, tolerance: float = 0.0, tracking_uri: str | None = None,
    on_drift: Callable[[list[Drift]], None] | None = None, plugins: Plugins | None = None,
) -> Reproduction:
    """Run ``run_id`` again from its ``config.json``, like ``runner reproduce``: the drift in
    code, versions and data, and each metric's difference (``result.reproduced``)."""
    from runner.reproduction import reproduce as reproduce_run

    return reproduce_run(run_id, _plugins(plugins), tracking_uri=_tracking(tracking_uri),
                         tolerance=tolerance, on_drift=on_drift)


def experiment_types(*, builtin: bool = False, plugins: Plugins | None = None
                     ) -> list[dict[str, Any]]:
    """The installed plugins, like ``runner plugins``: distribution, version, experiment types,
    hooks and status (``ok`` or why the plugin is broken)."""
    return [info.as_dict() for info in _plugins(plugins).infos.values()
            if builtin or not info.builtin]


def experiments(*, registry: str | Path | None = None, plugins: Plugins | None = None
                ) -> list[dict[str, Any]]:
    """The registry's named experiments, like ``runner list``: name, type, MLflow experiment,
    description and status (``ok``, or that the type is not installed)."""
    from runner.registry import load_registry

    types = _plugins(plugins).types
    return [
        {"name": name, "type": e.type, "description": e.description,
         "experiment": e.experiment or (types[e.type][0].experiment_name
                                        if e.type in types else None),
         "status": "ok" if e.type in types
         else f"unknown type {e.type!r}: is its plugin installed?"}
        for name, e in load_registry(registry).experiments.items()
    ]


def show(name: str, /, *, registry: str | Path | None = None, plugins: Plugins | None = None
         ) -> dict[str, Any]:
    """An experiment type or registry entry, like ``runner show``: params (type, default,
    description, resolved value) and the metrics it logs."""
    from runner.describe import describe

    return describe(name, Path(registry) if registry else None, _plugins(plugins))
