"""Resolve a name (registry entry or experiment type) to validated params, then run it.

This is the programmatic API behind ``runner run``; tests and sweeps call it directly::

    outcome = run_experiment("ml-baseline", overrides={"C": 0.5}, tracking_uri="sqlite:///m.db")
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.context import RunContext
from runner.errors import InputError, PluginError, RunSkipped
from runner.experiment_type import ExperimentType
from runner.overrides import apply_overrides, flatten, parse_override
from runner.plugins import PluginInfo, Plugins, load_plugins
from runner.registry import Registry, load_registry
from runner.validation import describe_validation_error

#: Version of the ``config.json`` layout, so later runners can read older runs.
CONFIG_FORMAT = 1


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else ``./mlflow.db`` as an absolute sqlite URI."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


@dataclass(frozen=True)
class ResolvedRun:
    """Everything needed to start a run, validated; nothing has touched MLflow yet."""

    experiment_type: ExperimentType
    plugin: PluginInfo
    params: BaseModel
    experiment_name: str
    entry_name: str | None = None

    @property
    def params_dict(self) -> dict[str, Any]:
        """The params as plain JSON-ready values, defaults filled in."""
        return self.experiment_type.adapter().dump_python(self.params, mode="json")

    @property
    def config(self) -> dict[str, Any]:
        """The complete resolved config: enough on its own to run again (``config.json``)."""
        return {
            "format": CONFIG_FORMAT,
            "experiment_type": self.experiment_type.id,
            "registry_entry": self.entry_name,
            "experiment": self.experiment_name,
            "params": self.params_dict,
        }


@dataclass(frozen=True)
class RunOutcome:
    """What a finished (or failed) run left in MLflow."""

    run_id: str
    experiment: str
    status: str
    params: dict[str, Any]
    metrics: dict[str, float]
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment": self.experiment,
            "status": self.status,
            "params": self.params,
            "metrics": self.metrics,
            **({"error": self.error} if self.error else {}),
        }


def validate_params(exp_type: ExperimentType, params: Mapping[str, Any], label: str) -> BaseModel:
    """Validate ``params`` against the type's schema; any problem is one ``InputError`` line."""
    try:
        return exp_type.adapter().validate_python(dict(params))
    except ValidationError as exc:
        raise InputError(f"invalid params for {label}: {describe_validation_error(exc)}") from None


def normalize_overrides(overrides: Iterable[str] | Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """Accept ``["k=v", ...]`` from the CLI or ``{"k": v}`` from code."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    return [parse_override(item) for item in overrides]


def resolve(
    name: str,
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
    *,
    plugins: Plugins,
    registry: Registry,
    experiment_name: str | None = None,
) -> ResolvedRun:
    """Look ``name`` up (registry entry first, then experiment type) and validate its params."""
    entry = registry.experiments.get(name)
    if entry is None and name not in plugins.types:
        known = sorted(registry.experiments) + sorted(plugins.types)
        raise InputError(f"unknown experiment {name!r} (known: {', '.join(known) or 'none'})")
    type_id = entry.type if entry else name
    exp_type, plugin = plugins.experiment_type(type_id)
    base = entry.params if entry else {}
    label = f"{name} ({registry.path})" if entry and registry.path else name
    params = validate_params(exp_type, apply_overrides(base, normalize_overrides(overrides)), label)
    chosen = experiment_name or (entry.experiment if entry else None) or exp_type.experiment_name
    return ResolvedRun(exp_type, plugin, params, chosen, name if entry else None)


def resolve_config(config: Mapping[str, Any], plugins: Plugins) -> ResolvedRun:
    """Rebuild a :class:`ResolvedRun` from a logged ``config.json``."""
    exp_type, plugin = plugins.experiment_type(str(config.get("experiment_type")))
    params = validate_params(exp_type, config.get("params", {}), f"config of {exp_type.id}")
    return ResolvedRun(exp_type, plugin, params, config["experiment"], config.get("registry_entry"))


LIFECYCLE = ("runner_prepare", "runner_execute", "runner_evaluate", "runner_log")


def execute(
    resolved: ResolvedRun,
    plugins: Plugins,
    *,
    tracking_uri: str | None = None,
    run_name: str | None = None,
    show_progress: bool = False,
    tags: Mapping[str, str] | None = None,
    skip_if_done: bool = False,
) -> RunOutcome:
    """Run the lifecycle hooks for ``resolved``; the MLflow run ends FINISHED, FAILED or KILLED.

    With ``skip_if_done``, a run whose content key already has a FINISHED run is not run again:
    the outcome is ``SKIPPED`` with that run's id and metrics. Raises ``InputError`` when the
    input was rejected before a run existed, and re-raises ``KeyboardInterrupt`` once the run is
    marked KILLED.
    """
    ctx = _new_context(resolved, tracking_uri, run_name=run_name, show_progress=show_progress,
                       tags=tags, skip_if_done=skip_if_done)
    try:
        error = _lifecycle(resolved, plugins, ctx, LIFECYCLE)
    except RunSkipped as skipped:
        return skipped_outcome(skipped.run_id, resolved, ctx.tracking_uri)
    return RunOutcome(
        run_id=str(ctx.run_id),
        experiment=resolved.experiment_name,
        status=ctx.status or "FAILED",
        params=flatten(ctx.config["params"]),
        metrics=dict(ctx.metrics),
        error=None if error is None else f"{type(error).__name__}: {error}",
    )


def prepare_only(
    resolved: ResolvedRun, plugins: Plugins, tracking_uri: str, *, skip_if_done: bool = False
) -> RunContext:
    """Only ``runner_prepare``, creating no run: the context then knows the data and content key.

    Raises :class:`RunSkipped` with ``skip_if_done`` when a FINISHED twin exists.
    """
    ctx = _new_context(resolved, tracking_uri, skip_if_done=skip_if_done, probe_only=True)
    _lifecycle(resolved, plugins, ctx, LIFECYCLE[:1])
    return ctx


def _new_context(
    resolved: ResolvedRun, tracking_uri: str | None, *, run_name: str | None = None,
    show_progress: bool = False, tags: Mapping[str, str] | None = None,
    skip_if_done: bool = False, probe_only: bool = False,
) -> RunContext:
    config = resolved.config
    seed = getattr(resolved.params, "seed", None)
    ctx = RunContext(
        experiment_type=resolved.experiment_type,
        params=resolved.params,
        config=config,
        experiment_name=resolved.experiment_name,
        tracking_uri=tracking_uri or default_tracking_uri(),
        workdir=Path(tempfile.mkdtemp(prefix="runner-")),
        run_name=run_name,
        seed=seed if isinstance(seed, int) else None,
        entry_name=resolved.entry_name,
        plugin=resolved.plugin,
        show_progress=show_progress,
        skip_if_done=skip_if_done,
        probe_only=probe_only,
    )
    ctx.pending.params.update(flatten(config["params"]))
    ctx.pending.tags.update(tags or {})
    return ctx


def _lifecycle(
    resolved: ResolvedRun, plugins: Plugins, ctx: RunContext, phases: tuple[str, ...]
) -> BaseException | None:
    """Call ``phases`` in order with the implementation registered, then ``runner_finish``.

    Returns the exception that ended an existing run early (the run is FAILED), or ``None``;
    raises it when no run exists (bad input, a probe) and always re-raises ``KeyboardInterrupt``.
    """
    manager = plugins.manager
    try:
        implementation = _register_implementation(resolved, manager)
    except PluginError:
        shutil.rmtree(ctx.workdir, ignore_errors=True)
        raise
    error: BaseException | None = None
    try:
        for phase in phases:
            getattr(manager.hook, phase)(ctx=ctx)
    except BaseException as exc:  # noqa: BLE001 - every outcome is recorded, then re-raised or reported
        error = exc
    finally:
        try:
            if not ctx.probe_only:
                manager.hook.runner_finish(ctx=ctx, error=error)
        finally:
            manager.unregister(implementation)
            shutil.rmtree(ctx.workdir, ignore_errors=True)
    if error is not None and (ctx.run_id is None or isinstance(error, KeyboardInterrupt)):
        raise error
    return error


def _register_implementation(resolved: ResolvedRun, manager: Any) -> object:
    """Load the type's implementation and register it for one run; a bad one is a PluginError."""
    exp_type = resolved.experiment_type
    name = f"{exp_type.id}:implementation"
    try:
        implementation = exp_type.load_implementation()
        manager.register(implementation, name=name)
        manager.check_pending()  # a misspelled hook name must not be silently ignored
    except Exception as exc:  # noqa: BLE001 - a plugin that cannot load its code is one line
        if manager.has_plugin(name):
            manager.unregister(name=name)
        raise PluginError(
            f"plugin {resolved.plugin.name!r}: implementation {exp_type.implementation} is broken: "
            f"{type(exc).__name__}: {exc}".splitlines()[0]
        ) from exc
    return implementation


def skipped_outcome(run_id: str, resolved: ResolvedRun, tracking_uri: str) -> RunOutcome:
    """The outcome of a skipped run: the earlier twin's id and metrics."""
    from mlflow import MlflowClient

    run = MlflowClient(tracking_uri).get_run(run_id)
    return RunOutcome(run_id, resolved.experiment_name, "SKIPPED",
                      flatten(resolved.params_dict), dict(run.data.metrics))


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
    """Resolve and run ``name`` (registry entry or experiment type) in one call."""
    plugins = plugins or load_plugins()
    resolved = resolve(
        name, overrides, plugins=plugins, registry=load_registry(registry_path),
        experiment_name=experiment_name,
    )
    return execute(
        resolved, plugins, tracking_uri=tracking_uri, run_name=run_name, show_progress=show_progress
    )
