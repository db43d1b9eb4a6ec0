"""Resolve a name (registry entry or experiment type) plus overrides into validated params.

Nothing here touches MLflow: a :class:`ResolvedRun` is what the lifecycle then runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from runner.errors import InputError
from runner.experiment_type import ExperimentType
from runner.overrides import apply_overrides, flatten, parse_override
from runner.plugins import PluginInfo, Plugins
from runner.registry import Registry
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
    #: The user's overrides (dotted key, value), in the order given, as resolved on top of the
    #: registry entry: what makes this run differ from the entry (its default run name).
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def params_dict(self) -> dict[str, Any]:
        """The params as plain JSON-ready values, defaults filled in."""
        return self.experiment_type.adapter().dump_python(self.params, mode="json")

    @property
    def inactive_params(self) -> set[str]:
        """Params that take no effect with these values (``params.inactive_params()``, if the
        model defines it): e.g. the LLM fields of a RAG run whose answers are extractive."""
        method = getattr(self.params, "inactive_params", None)
        return set(method()) if callable(method) else set()

    @property
    def logged_params(self) -> dict[str, Any]:
        """The params shown as MLflow params: flattened, without the inactive ones.

        ``config.json`` keeps every param, so the run can still be re-run from it alone.
        """
        inactive = self.inactive_params
        return {key: value for key, value in flatten(self.params_dict).items()
                if key not in inactive and key.split(".")[0] not in inactive}

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
        known = sorted({*registry.experiments, *plugins.types})
        raise InputError(f"unknown experiment {name!r} (known: {', '.join(known) or 'none'})")
    type_id = entry.type if entry else name
    exp_type, plugin = plugins.experiment_type(type_id)
    base = entry.params if entry else {}
    label = f"{name} ({registry.path})" if entry and registry.path else name
    given = normalize_overrides(overrides)
    params = validate_params(exp_type, apply_overrides(base, given), label)
    chosen = experiment_name or (entry.experiment if entry else None) or exp_type.experiment_name
    differing = tuple((key, value) for key, value in given if _lookup(base, key) != value)
    return ResolvedRun(exp_type, plugin, params, chosen, name if entry else None, differing)


def _lookup(params: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key of nested params, or a sentinel when it is not set there."""
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _UNSET
        node = node[part]
    return node


_UNSET = object()


def resolve_config(config: Mapping[str, Any], plugins: Plugins) -> ResolvedRun:
    """Rebuild a :class:`ResolvedRun` from a logged ``config.json``."""
    exp_type, plugin = plugins.experiment_type(str(config.get("experiment_type")))
    params = validate_params(exp_type, config.get("params", {}), f"config of {exp_type.id}")
    return ResolvedRun(exp_type, plugin, params, config["experiment"], config.get("registry_entry"))
