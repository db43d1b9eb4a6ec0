"""What ``runner show`` tells about an experiment type or registry entry."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from runner.builtin.ledger import LEDGER_METRICS
from runner.overrides import flatten
from runner.plugins import Plugins
from runner.schema import param_rows


def describe(name: str, registry_path: Path | None = None, plugins: Plugins | None = None
             ) -> dict[str, Any]:
    """Params with types, defaults, descriptions (and resolved values), plus the metrics contract."""
    from runner.config import resolve
    from runner.plugins import load_plugins
    from runner.registry import load_registry

    plugins = plugins or load_plugins()
    registry = load_registry(registry_path)
    resolved = resolve(name, plugins=plugins, registry=registry)
    exp_type = resolved.experiment_type
    values = flatten(resolved.params_dict)
    entry = registry.experiments.get(name)
    params = []
    schema = type(resolved.params) if entry is not None else exp_type.params
    for row in param_rows(schema):
        item: dict[str, Any] = {"name": row.name, "type": row.type, "default": row.default,
                                "description": row.description}
        if row.variant:
            item["variant"] = row.variant
        if entry is not None and row.name in values:
            item["value"] = values[row.name]
        params.append(item)
    return {
        "name": name,
        "experiment_type": exp_type.id,
        "plugin": resolved.plugin.name,
        "description": entry.description if entry and entry.description else exp_type.description,
        "experiment": resolved.experiment_name,
        "params": params,
        "resolved": values,
        "metrics": [
            {"name": m.name, "direction": m.direction, "per_step": m.per_step,
             "description": m.description, "primary": m is exp_type.primary,
             "deterministic": m.deterministic, "condition": m.condition,
             "bounds": _bounds(m.bounds)}
            for m in exp_type.metrics
        ],
        # the cost ledger the core logs on every run of every type
        "core_metrics": [
            {"name": m.name, "direction": m.direction, "description": m.description}
            for m in LEDGER_METRICS
        ],
    }


def _bounds(bounds: tuple[float, float] | None) -> list[float | None] | None:
    """A metric's declared range for JSON: ``[low, high]``, an infinite end as ``null``."""
    if bounds is None:
        return None
    return [None if math.isinf(end) else end for end in bounds]


def _range_text(bounds: list[float | None] | None) -> str:
    """``[0, 1]``, ``>= 0`` or nothing: the range column of ``runner show``."""
    if bounds is None:
        return ""
    low, high = bounds
    if high is None:
        return "" if low is None else f">= {low:g}"
    return f"<= {high:g}" if low is None else f"[{low:g}, {high:g}]"


def print_description(description: dict[str, Any]) -> None:
    """The description as rich tables."""
    from runner.views import console, print_table

    console().print(
        f"[bold]{description['name']}[/bold] ({description['experiment_type']}, plugin "
        f"{description['plugin']}) -> MLflow experiment {description['experiment']!r}\n"
        f"{description['description']}"
    )
    has_variants = any("variant" in p for p in description["params"])
    columns = ["param", "type", "default", "description"]
    if has_variants:
        columns.insert(1, "for")
    rows = []
    for p in description["params"]:
        row = [p["name"], p["type"], p["default"], p["description"]]
        if has_variants:
            row.insert(1, p.get("variant", ""))
        rows.append(row)
    print_table("Params", columns, rows)
    print_table("Resolved values", ["param", "value"], description["resolved"].items())
    print_table(
        "Metrics",
        ["metric", "direction", "curve", "range", "description"],
        [(m["name"] + (" (primary)" if m["primary"] else ""), m["direction"],
          "per step" if m["per_step"] else "", _range_text(m["bounds"]), m["description"])
         for m in description["metrics"]],
    )
    print_table(
        "Cost ledger (every run, logged by the core)",
        ["metric", "direction", "description"],
        [(m["name"], m["direction"], m["description"]) for m in description["core_metrics"]],
    )
