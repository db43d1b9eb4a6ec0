"""Run a resolved experiment and report what it left in the store: the one code path of
:func:`runner.run`, sweeps (each point) and reproduce."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runner.config import ResolvedRun, default_tracking_uri
from runner.context import RunContext
from runner.lifecycle import PHASES, SKIPPED, new_context, run_phases
from runner.overrides import flatten
from runner.outcome import RunOutcome
from runner.plugins import Plugins
from runner.secrets import redact


def execute(
    resolved: ResolvedRun,
    plugins: Plugins,
    *,
    tracking_uri: str | None = None,
    run_name: str | None = None,
    show_progress: bool = False,
    tags: Mapping[str, str] | None = None,
    skip_if_done: bool = False,
    use_cache: bool | None = None,
) -> RunOutcome:
    """Run the lifecycle hooks for ``resolved``; the MLflow run ends FINISHED, FAILED or KILLED.

    With ``skip_if_done``, a run whose content key already has a FINISHED run is not run again:
    the outcome is ``SKIPPED`` with that run's id and metrics. Raises ``InputError`` when the
    input was rejected before a run existed, and re-raises ``KeyboardInterrupt`` once the run is
    marked KILLED.
    """
    ctx = new_context(resolved, tracking_uri or default_tracking_uri(), run_name=run_name,
                      show_progress=show_progress, tags=tags, skip_if_done=skip_if_done,
                      use_cache=use_cache)
    error = run_phases(resolved, plugins.run_manager(), ctx)
    metrics = dict(ctx.metrics)
    if ctx.status == SKIPPED:
        from runner.store import mlflow_store

        metrics = mlflow_store.run_metrics(ctx.tracking_uri, str(ctx.run_id))
    return RunOutcome(
        run_id=str(ctx.run_id),
        experiment=resolved.experiment_name,
        status=str(ctx.status),
        params=flatten(ctx.config["params"]),
        metrics=metrics,
        error=None if error is None else redact(f"{type(error).__name__}: {error}"),
    )


def prepare_only(
    resolved: ResolvedRun, plugins: Plugins, tracking_uri: str, *, skip_if_done: bool = False
) -> RunContext:
    """Only ``runner_prepare``, creating no run: the context then knows the data and content key.

    ``ctx.status`` is ``SKIPPED`` with ``skip_if_done`` when a FINISHED twin exists.
    """
    ctx = new_context(resolved, tracking_uri, skip_if_done=skip_if_done, probe_only=True)
    run_phases(resolved, plugins.run_manager(), ctx, PHASES[:1])
    return ctx


def run_experiment(
    name: str,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    tracking_uri: str | None = None,
    experiment_name: str | None = None,
    run_name: str | None = None,
    registry_path: Path | str | None = None,
    show_progress: bool = False,
    plugins: Plugins | None = None,
) -> RunOutcome:
    """:func:`runner.run` with positional overrides (the kit's and plugins' tests call this)."""
    from runner.api import run

    return run(name, overrides=overrides, tracking_uri=tracking_uri,
               experiment_name=experiment_name, run_name=run_name, registry=registry_path,
               progress=show_progress, plugins=plugins)
