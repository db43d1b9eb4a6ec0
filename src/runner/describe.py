"""What ``runner show`` tells about an experiment type or registry entry."""

from __future__ import annotations

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
             "deterministic": m.deterministic, "condition": m.condition}
            for m in exp_type.metrics
        ],
        # the cost ledger the core logs on every run of every type
        "core_metrics": [
            {"name": m.name, "direction": m.direction, "description": m.description}
            for m in LEDGER_METRICS
        ],
    }


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
        ["metric", "direction", "curve", "description"],
        [(m["name"] + (" (primary)" if m["primary"] else ""), m["direction"],
          "per step" if m["per_step"] else "", m["description"]) for m in description["metrics"]],
    )
    print_table(
        "Cost ledger (every run, logged by the core)",
        ["metric", "direction", "description"],
        [(m["name"], m["direction"], m["description"]) for m in description["core_metrics"]],
    )
