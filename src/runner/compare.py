"""``runner compare``: runs side by side — differing params, metrics with deltas, responses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Run
from mlflow.exceptions import MlflowException

from runner.errors import InputError
from runner.plugins import Plugins
from runner.tracking import configure

#: The per-item table plugins log (``ctx.log_items``) and the columns compare lines up.
ITEMS_ARTIFACT = "items.json"
ITEMS_KEY_TAG = "runner.items.key"
ITEMS_OUTPUT_TAG = "runner.items.output"


@dataclass
class Comparison:
    """Everything ``runner compare`` prints, ready for a table, JSON or Markdown."""

    runs: list[dict[str, str]]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]
    deltas: dict[str, list[float | None]]
    items: dict[str, list[str | None]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "params": self.params, "metrics": self.metrics,
                "deltas": self.deltas, "items": self.items}


def get_run(client: MlflowClient, run_id: str) -> Run:
    """The run, or one clear ``InputError`` when there is no such run."""
    try:
        return client.get_run(run_id)
    except MlflowException:
        raise InputError(f"no run with id {run_id!r} in this tracking store") from None


def top_runs(client: MlflowClient, experiment: str, metric: str, k: int, maximize: bool) -> list[str]:
    """Ids of the ``k`` best FINISHED runs of ``experiment`` by ``metric``."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        raise InputError(f"no experiment named {experiment!r}")
    runs = client.search_runs(
        [found.experiment_id], filter_string="attributes.status = 'FINISHED'",
        order_by=[f"metrics.`{metric}` {'DESC' if maximize else 'ASC'}"], max_results=k,
    )
    runs = [r for r in runs if metric in r.data.metrics]
    if not runs:
        raise InputError(f"no finished run in {experiment!r} has metric {metric!r}")
    return [r.info.run_id for r in runs]


def metric_maximized(metric: str, experiment: str, plugins: Plugins) -> bool:
    """A metric's direction from the types that declare it, preferring the experiment's own type.

    A metric no type declares is taken as higher-is-better.
    """
    declared = [(exp_type.experiment_name == experiment, spec.direction == "maximize")
                for exp_type, _ in plugins.types.values() for spec in exp_type.metrics
                if spec.name == metric]
    return max(declared)[1] if declared else True


def _items(client: MlflowClient, run: Run) -> dict[str, str] | None:
    key, output = run.data.tags.get(ITEMS_KEY_TAG), run.data.tags.get(ITEMS_OUTPUT_TAG)
    if not key or not output:
        return None
    path = client.download_artifacts(run.info.run_id, ITEMS_ARTIFACT)
    with open(path) as handle:
        table = json.load(handle)
    columns = table["columns"]
    k, o = columns.index(key), columns.index(output)
    return {str(row[k]): str(row[o]) for row in table["data"]}


def compare(client: MlflowClient, run_ids: list[str]) -> Comparison:
    """Params that differ, every metric side by side with deltas against the first run."""
    configure(client.tracking_uri)
    runs = [get_run(client, run_id) for run_id in run_ids]
    param_keys = sorted({k for r in runs for k in r.data.params})
    params = {k: [r.data.params.get(k) for r in runs] for k in param_keys}
    differing = {k: v for k, v in params.items() if len(set(v)) > 1}
    metric_keys = sorted({k for r in runs for k in r.data.metrics})
    metrics = {k: [r.data.metrics.get(k) for r in runs] for k in metric_keys}
    deltas = {
        k: [None if v is None or values[0] is None else v - values[0] for v in values]
        for k, values in metrics.items()
    }
    items: dict[str, list[str | None]] = {}
    per_run = [_items(client, r) for r in runs]
    if any(per_run):
        keys = list(dict.fromkeys(k for table in per_run if table for k in table))
        items = {k: [table.get(k) if table else None for table in per_run] for k in keys}
    described = [
        {"run_id": r.info.run_id, "run_name": r.info.run_name or "", "status": r.info.status,
         "type": r.data.tags.get("runner.experiment_type", "")}
        for r in runs
    ]
    return Comparison(described, differing, metrics, deltas, items)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _delta(value: float | None) -> str:
    return "" if value is None or value == 0 else f" ({value:+.4g})"


def rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one table: differing params, then metrics with deltas, then items."""
    header = ["", *(f"{r['run_name'] or r['run_id'][:8]}" for r in comparison.runs)]
    body: list[list[str]] = []
    for key, values in comparison.params.items():
        body.append([f"param {key}", *(_fmt(v) for v in values)])
    for key, values in comparison.metrics.items():
        deltas = comparison.deltas[key]
        body.append([f"metric {key}", *(_fmt(v) + (_delta(d) if i else "") for i, (v, d) in enumerate(zip(values, deltas, strict=True)))])
    for key, values in comparison.items.items():
        body.append([f"item {key}", *(_fmt(v) for v in values)])
    return header, body


def markdown(comparison: Comparison) -> str:
    """The comparison as a GitHub-flavoured Markdown table."""
    header, body = rows(comparison)
    escape = lambda cell: cell.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines)
