"""``runner compare``: runs side by side — differing params, metrics with deltas, responses,
and, for runs scored on the same items, whether each difference is real (:mod:`runner.stats`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.errors import InputError
from runner.plugins import Plugins
from runner.stats import PairedTest, paired_test
from runner.store import mlflow_store
from runner.store.names import (
    EXPERIMENT_TYPE_TAG,
    ITEMS_ARTIFACT,
    ITEMS_KEY_TAG,
    ITEMS_OUTPUT_TAG,
    ITEMS_SCORES_TAG,
    REPEATS_TAG,
    SWEEP_RESULTS_ARTIFACT,
)

if TYPE_CHECKING:
    from runner.experiment_type import MetricSpec
    from runner.runs import RunOutcome


@dataclass
class Comparison:
    """Everything ``runner compare`` prints, ready for a table, JSON or Markdown."""

    runs: list[dict[str, str]]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]
    deltas: dict[str, list[float | None]]
    items: dict[str, list[str | None]] = field(default_factory=dict)
    #: Per-item score -> one paired test per run against the first run (``None`` for the first).
    tests: dict[str, list[PairedTest | None]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"runs": self.runs, "params": self.params, "metrics": self.metrics,
                "deltas": self.deltas, "items": self.items,
                "tests": {metric: [t.as_dict() if t else None for t in tests]
                          for metric, tests in self.tests.items()}}


@dataclass(frozen=True)
class ItemScores:
    """A run's per-item table reduced to what a paired test needs."""

    keys: list[str]
    outputs: list[str]
    scores: dict[str, list[float | None]]


def load_item_scores(tracking_uri: str, run: mlflow_store.RunView) -> ItemScores | None:
    """The run's items (``ctx.log_items``): keys, outputs and score columns, if it logged any.

    A key seen twice (the same input twice in an input set) is told apart by its occurrence.
    A repeat parent (``--repeat``) has its seeds as items: repeat ``i`` pairs with repeat ``i``.
    """
    if run.tags.get(REPEATS_TAG):
        return repeat_scores(tracking_uri, run)
    key, output = run.tags.get(ITEMS_KEY_TAG), run.tags.get(ITEMS_OUTPUT_TAG)
    if not key or not output:
        return None
    table = mlflow_store.load_json_artifact(tracking_uri, run.run_id, ITEMS_ARTIFACT)
    columns: list[str] = table["columns"]
    rows: list[list[Any]] = table["data"]
    declared = run.tags.get(ITEMS_SCORES_TAG)
    names = [n for n in declared.split(",") if n in columns] if declared is not None else [
        n for i, n in enumerate(columns) if n != key and _numeric([r[i] for r in rows])]
    seen: dict[str, int] = {}
    keys = []
    for row in rows:
        item = str(row[columns.index(key)])
        seen[item] = seen.get(item, 0) + 1
        keys.append(item if seen[item] == 1 else f"{item} #{seen[item]}")
    scores = {n: [_number(r[columns.index(n)]) for r in rows] for n in names}
    return ItemScores(keys, [str(r[columns.index(output)]) for r in rows], scores)


def repeat_scores(tracking_uri: str, parent: mlflow_store.RunView) -> ItemScores | None:
    """A repeat parent's seeds that finished, as items: key ``repeat i``, every metric they
    share. The seeds come from the parent's results table, so seeds skipped as already done
    (run under an earlier parent) count too."""
    table = mlflow_store.load_json_artifact(tracking_uri, parent.run_id, SWEEP_RESULTS_ARTIFACT)
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["data"]]
    seeds = {int(row["repeat"]): str(row["run_id"]) for row in rows
             if row.get("repeat") is not None and row["status"] in ("FINISHED", "SKIPPED")}
    if not seeds:
        return None
    metrics = {i: mlflow_store.run_metrics(tracking_uri, run_id) for i, run_id in seeds.items()}
    order = sorted(seeds)
    shared = set.intersection(*(set(metrics[i]) for i in order))
    return ItemScores([f"repeat {i}" for i in order], [seeds[i] for i in order],
                      {name: [metrics[i][name] for i in order] for name in sorted(shared)})


def _numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, int | float) for v in present)


def _number(value: Any) -> float | None:
    return None if value is None or isinstance(value, str) else float(value)


def paired_tests(
    first: ItemScores, other: ItemScores, names: tuple[str, str],
    maximize: dict[str, bool | None],
) -> dict[str, PairedTest]:
    """Every score both runs have, tested item by item (``other`` against ``first``).

    Runs scored on different items cannot be paired: one ``InputError`` says how many differ.
    Items where either run has no value for a score are left out of that score's test.
    """
    if set(first.keys) != set(other.keys):
        differ = len(set(first.keys) ^ set(other.keys))
        raise InputError(
            f"runs {names[0]} and {names[1]} were scored on different items ({differ} of "
            f"{len(set(first.keys) | set(other.keys))} differ): a paired comparison needs the "
            "same input set")
    position = {key: i for i, key in enumerate(other.keys)}
    tests = {}
    for metric in (m for m in first.scores if m in other.scores):
        pairs = [(a, other.scores[metric][position[key]])
                 for key, a in zip(first.keys, first.scores[metric], strict=True)]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        if len(pairs) >= 2:
            direction = maximize.get(metric)
            test = paired_test(metric, [a for a, _ in pairs], [b for _, b in pairs],
                               maximize=True if direction is None else direction)
            tests[metric] = test if direction is not None else _undirected(test)
    return tests


def _undirected(test: PairedTest) -> PairedTest:
    """A score no type declares has no better side: say which run is higher instead."""
    if not test.significant:
        return test
    return dataclasses.replace(test, verdict="B higher" if test.difference > 0 else "A higher")


def top_runs(tracking_uri: str, experiment: str, metric: str, k: int, plugins: Plugins) -> list[str]:
    """Ids of the ``k`` best FINISHED runs of ``experiment`` by ``metric``.

    Which direction is better comes from the metric's declaration (preferring the type whose
    experiment this is); a metric no type declares is taken as higher-is-better.
    """
    spec = plugins.metric_spec(metric, experiment)
    maximize = spec.maximize if spec else True
    return mlflow_store.top_runs(tracking_uri, experiment, metric, k, maximize=maximize)


def compare(tracking_uri: str, run_ids: list[str], plugins: Plugins | None = None) -> Comparison:
    """Params that differ, every metric side by side with deltas against the first run, and
    for runs with per-item scores a paired test of each score against the first run.

    ``plugins`` say which direction of each score is better (``None``: the installed ones).
    """
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
    tests: dict[str, list[PairedTest | None]] = {}
    per_run = [load_item_scores(tracking_uri, r) for r in runs]
    if any(per_run):
        outputs = [dict(zip(t.keys, t.outputs, strict=True)) if t else {} for t in per_run]
        keys = list(dict.fromkeys(k for table in outputs for k in table))
        items = {k: [table.get(k) if table else None for table in outputs] for k in keys}
    first = per_run[0]
    if first is not None and any(per_run[1:]):
        maximize = _directions(plugins, runs[0].tags.get(EXPERIMENT_TYPE_TAG, ""), first)
        for i, other in enumerate(per_run[1:], start=1):
            if other is None:
                continue
            for metric, test in paired_tests(first, other, (runs[0].run_id, runs[i].run_id),
                                             maximize).items():
                tests.setdefault(metric, [None] * len(runs))[i] = test
    described = [
        {"run_id": r.run_id, "run_name": r.run_name, "status": r.status,
         "type": r.tags.get(EXPERIMENT_TYPE_TAG, "")}
        for r in runs
    ]
    return Comparison(described, differing, metrics, deltas, items, tests)


def _directions(plugins: Plugins | None, type_id: str, scores: ItemScores) -> dict[str, bool | None]:
    """Score -> ``True`` when higher is better, ``False`` when lower is, ``None`` undeclared."""
    from runner.plugins import load_plugins

    plugins = plugins or load_plugins()
    declared = plugins.types.get(type_id)
    result: dict[str, bool | None] = {}
    for metric in scores.scores:
        # the metric of the same name, else the one that is its mean over items (cv_accuracy
        # per fold: cv_accuracy_mean)
        spec = next((found for name in (metric, f"{metric}_mean")
                     if (found := (declared[0].metric(name) if declared else None)
                         or plugins.metric_spec(name))), None)
        result[metric] = spec.maximize if spec else None
    return result


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
    for key, tests in comparison.tests.items():
        body.append([f"test {key}", *(_test(t) for t in tests)])
    for key, values in comparison.items.items():
        body.append([f"item {key}", *(_fmt(v) for v in values)])
    return header, body


def _test(test: PairedTest | None) -> str:
    """``+0.042 [+0.011, +0.071] p=0.004 B better`` (B: this run, A: the first)."""
    if test is None:
        return ""
    return (f"{test.difference:+.4g} [{test.ci_low:+.4g}, {test.ci_high:+.4g}] "
            f"p={test.p_value:.2g} {test.verdict}")


def markdown(comparison: Comparison) -> str:
    """The comparison as a GitHub-flavoured Markdown table."""
    header, body = rows(comparison)
    escape = lambda cell: cell.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def items_tied_with_best(
    tracking_uri: str, outcomes: list[RunOutcome | None], best: RunOutcome | None,
    spec: MetricSpec,
) -> set[int]:
    """Indices of the outcomes whose per-item scores of the primary metric are not detectably
    worse than the best one's (paired over items; the best included); empty when the type
    logs no such per-item score."""
    from runner.repeats import DONE

    def primary(run_id: str) -> ItemScores | None:
        items = load_item_scores(tracking_uri, mlflow_store.get_run(tracking_uri, run_id))
        if items is None or spec.name not in items.scores:
            return None
        return dataclasses.replace(items, scores={spec.name: items.scores[spec.name]})

    best_items = primary(best.run_id) if best is not None else None
    if best is None or best_items is None:
        return set()
    tied = set()
    for index, outcome in enumerate(outcomes):
        if outcome is None or outcome.status not in DONE:
            continue
        if outcome.run_id == best.run_id:
            tied.add(index)
            continue
        items = primary(outcome.run_id)
        if items is None or set(items.keys) != set(best_items.keys):
            continue
        test = paired_tests(best_items, items, (best.run_id, outcome.run_id),
                            {spec.name: spec.maximize}).get(spec.name)
        if test is not None and not test.significant:
            tied.add(index)
    return tied
