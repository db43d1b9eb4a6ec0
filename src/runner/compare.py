"""``runner compare``: runs side by side — differing params, metrics with deltas, responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.errors import InputError
from runner.plugins import Plugins
from runner.store import mlflow_store
from runner.store.names import EXPERIMENT_TYPE_TAG


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


def top_runs(tracking_uri: str, experiment: str, metric: str, k: int, plugins: Plugins) -> list[str]:
    """Ids of the ``k`` best FINISHED runs of ``experiment`` by ``metric``.

    Which direction is better comes from the metric's declaration (preferring the type whose
    experiment this is); a metric no type declares is taken as higher-is-better.
    """
    spec = plugins.metric_spec(metric, experiment)
    maximize = spec.maximize if spec else True
    return mlflow_store.top_runs(tracking_uri, experiment, metric, k, maximize=maximize)


def compare(tracking_uri: str, run_ids: list[str]) -> Comparison:
    """Params that differ, every metric side by side with deltas against the first run."""
    if len(run_ids) < 2:
        raise InputError("give at least two run ids, or --experiment E --metric M")
    runs = [mlflow_store.get_run(tracking_uri, run_id) for run_id in run_ids]
    param_keys = sorted({k for r in runs for k in r.params})
    params = {k: [r.params.get(k) for r in runs] for k in param_keys}
    differing = {k: v for k, v in params.items() if len(set(v)) > 1}
    metric_keys = sorted({k for r in runs for k in r.metrics})
    metrics = {k: [r.metrics.get(k) for r in runs] for k in metric_keys}
    deltas = {
        k: [None if v is None or values[0] is None else v - values[0] for v in values]
        for k, values in metrics.items()
    }
    items: dict[str, list[str | None]] = {}
    per_run = [mlflow_store.load_items(tracking_uri, r) for r in runs]
    if any(per_run):
        keys = list(dict.fromkeys(k for table in per_run if table for k in table))
        items = {k: [table.get(k) if table else None for table in per_run] for k in keys}
    described = [
        {"run_id": r.run_id, "run_name": r.run_name, "status": r.status,
         "type": r.tags.get(EXPERIMENT_TYPE_TAG, "")}
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
