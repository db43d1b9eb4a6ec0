"""``--set key=value`` overrides: dotted keys for nested params, values parsed as YAML scalars."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import yaml

from runner.errors import InputError


def parse_value(text: str) -> Any:
    """``0.3`` -> float, ``[32, 16]`` -> list, ``true`` -> bool, anything else stays a string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_override(item: str) -> tuple[str, Any]:
    """Split ``key=value``; the key may be dotted (``dataset.path``)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set expects key=value, got {item!r}")
    return key.strip(), parse_value(value)


def apply_overrides(params: dict[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A copy of ``params`` with each dotted key set to its value."""
    result = copy.deepcopy(params)
    for key, value in overrides:
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"--set {key}: {part!r} is not a group of params")
            node = child
        node[leaf] = value
    return result


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested params as ``{"dataset.path": ...}``: the keys MLflow shows."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
