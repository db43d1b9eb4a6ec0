"""``registry.yaml``: the catalogue of named experiments (name -> type, MLflow experiment, params)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from runner.errors import InputError
from runner.validation import describe_validation_error

#: Overrides where ``registry.yaml`` is looked for (default: the working directory).
REGISTRY_ENV = "RUNNER_REGISTRY"
DEFAULT_REGISTRY = "registry.yaml"


class RegistryEntry(BaseModel):
    """One named experiment."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="experiment type id, as listed by `runner plugins`")
    experiment: str | None = Field(None, description="MLflow experiment (default: the type's)")
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    sweep: dict[str, list[Any]] | None = Field(None, description="grid: param key -> values")


class Registry(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid")

    experiments: dict[str, RegistryEntry] = Field(default_factory=dict)
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The file this registry was read from (``None`` when built in code)."""
        return self._path


def registry_path(path: Path | str | None = None) -> Path:
    """The registry file to use: ``path``, else ``$RUNNER_REGISTRY``, else ``./registry.yaml``."""
    return Path(path or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY)


def load_registry(path: Path | str | None = None) -> Registry:
    """Parse and validate the registry; a missing file is an empty registry."""
    file = registry_path(path)
    if not file.exists():
        return Registry()
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InputError(f"{file}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{file}: {describe_validation_error(exc, prefix='experiments')}") from None
    registry._path = file
    return registry
