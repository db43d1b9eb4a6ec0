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
    params = validate_params(exp_type, apply_overrides(base, normalize_overrides(overrides)), name)
    chosen = experiment_name or (entry.experiment if entry else None) or exp_type.experiment_name
    return ResolvedRun(exp_type, plugin, params, chosen, name if entry else None)


def resolve_config(config: Mapping[str, Any], plugins: Plugins) -> ResolvedRun:
    """Rebuild a :class:`ResolvedRun` from a logged ``config.json``."""
    exp_type, plugin = plugins.experiment_type(str(config.get("experiment_type")))
    params = validate_params(exp_type, config.get("params", {}), f"config of {exp_type.id}")
    return ResolvedRun(exp_type, plugin, params, config["experiment"], config.get("registry_entry"))


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
    outcome = _lifecycle(resolved, plugins, tracking_uri, run_name, show_progress, tags,
                         skip_if_done, probe_only=False)
    assert outcome is not None
    return outcome


def find_done(resolved: ResolvedRun, plugins: Plugins, tracking_uri: str) -> RunOutcome | None:
    """The SKIPPED outcome if a FINISHED run has ``resolved``'s content key, else ``None``.

    Runs only ``runner_prepare`` (the content key needs the data's digest) and creates no run.
    """
    return _lifecycle(resolved, plugins, tracking_uri, None, False, None, True, probe_only=True)


def _lifecycle(
    resolved: ResolvedRun, plugins: Plugins, tracking_uri: str | None, run_name: str | None,
    show_progress: bool, tags: Mapping[str, str] | None, skip_if_done: bool, *, probe_only: bool,
) -> RunOutcome | None:
    # torch's OpenMP threads otherwise spin between ops: 6x slower small-model inference on a
    # 2-core machine. Only effective before the implementation imports torch.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        implementation = resolved.experiment_type.load_implementation()
    except Exception as exc:  # noqa: BLE001 - a plugin that cannot load its code is one line
        raise PluginError(
            f"plugin {resolved.plugin.name!r} cannot load {resolved.experiment_type.implementation}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    manager = plugins.manager
    workdir = Path(tempfile.mkdtemp(prefix="runner-"))
    config = resolved.config
    seed = getattr(resolved.params, "seed", None)
    ctx = RunContext(
        experiment_type=resolved.experiment_type,
        params=resolved.params,
        config=config,
        experiment_name=resolved.experiment_name,
        tracking_uri=tracking_uri or default_tracking_uri(),
        workdir=workdir,
        run_name=run_name,
        seed=seed if isinstance(seed, int) else None,
        entry_name=resolved.entry_name,
        plugin=resolved.plugin,
        show_progress=show_progress,
        skip_if_done=skip_if_done or probe_only,
        probe_only=probe_only,
    )
    ctx.pending.params.update(flatten(config["params"]))
    ctx.pending.tags.update(tags or {})
    manager.register(implementation, name=f"{resolved.experiment_type.id}:implementation")
    error: BaseException | None = None
    try:
        manager.hook.runner_prepare(ctx=ctx)
        if probe_only:
            return None
        manager.hook.runner_execute(ctx=ctx)
        manager.hook.runner_evaluate(ctx=ctx)
        manager.hook.runner_log(ctx=ctx)
    except BaseException as exc:  # noqa: BLE001 - every outcome is recorded, then re-raised or reported
        error = exc
    finally:
        try:
            if not probe_only or error is not None:  # a probe that found nothing is no run
                manager.hook.runner_finish(ctx=ctx, error=error)
        finally:
            manager.unregister(implementation)
            shutil.rmtree(workdir, ignore_errors=True)
    if isinstance(error, RunSkipped):
        return skipped_outcome(error.run_id, resolved, ctx.tracking_uri)
    if ctx.run_id is None and error is not None:
        raise error
    if isinstance(error, KeyboardInterrupt):
        raise error
    return RunOutcome(
        run_id=str(ctx.run_id),
        experiment=resolved.experiment_name,
        status=ctx.status or "FAILED",
        params=flatten(config["params"]),
        metrics=dict(ctx.metrics),
        error=None if error is None else f"{type(error).__name__}: {error}",
    )


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
