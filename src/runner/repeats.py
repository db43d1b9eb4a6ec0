"""``--repeat``: each point run with seeds ``seed, seed+1, ...``, summarized over the seeds.

Every repeat is an ordinary sweep point (its seed overridden) run by the sweep's executor; this
module expands points into repeats, groups the outcomes back by point, summarizes each group's
deterministic metrics (:func:`runner.stats.summarize`, the CI clipped to each metric's declared
``bounds``) and ranks the groups, marking those not detectably worse than the best (a paired
test over seeds).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner.errors import InputError
from runner.lifecycle import FINISHED, SKIPPED
from runner.stats import Summary, paired_test, summarize
from runner.store import names

if TYPE_CHECKING:
    from runner.config import ResolvedRun
    from runner.experiment_type import MetricSpec
    from runner.runs import RunOutcome
    from runner.sweeps import SweepPoint

#: Outcomes that count as done: ran to the end now, or earlier (skip-if-done).
DONE = (FINISHED, SKIPPED)


@dataclass(frozen=True)
class RepeatGroup:
    """A point run with several seeds: its parent run and each metric over the seeds."""

    label: str
    run_id: str
    #: Indices of its repeats in the sweep's points, in seed order.
    indices: list[int]
    #: Deterministic metric -> mean, std and 95% CI (within the metric's ``bounds``) over the
    #: repeats that finished.
    summaries: dict[str, Summary]
    #: Its primary metric is not detectably worse than the best group's (paired over seeds).
    tied_with_best: bool = False

    @property
    def metrics(self) -> dict[str, float]:
        """What its parent run logs: ``<metric>_mean/_std/_ci_low/_ci_high`` (NaN ones left
        out: one finished repeat has no spread)."""
        import math

        metrics: dict[str, float] = {}
        for name, summary in self.summaries.items():
            metrics.update({k: v for k, v in summary.as_metrics(name).items()
                            if not math.isnan(v)})
        return metrics


def repeat_points(points: list[SweepPoint], repeat: int) -> list[SweepPoint]:
    """Each point ``repeat`` times, with seeds ``seed, seed + 1, ...`` from its own seed.

    ``repeat`` 1 leaves the points as they are. A type without a ``seed`` param, or a grid
    that sweeps ``seed`` itself, cannot be repeated: one ``InputError`` says so.
    """
    if repeat < 1:
        raise InputError(f"--repeat must be at least 1, got {repeat}")
    if repeat == 1:
        return points
    repeated = []
    for point in points:
        if "seed" in point.overrides:
            raise InputError("--repeat runs the seeds seed, seed+1, ...: do not also sweep seed")
        resolved = point.resolved
        base = getattr(resolved.params, "seed", None)
        if not isinstance(base, int) or isinstance(base, bool):
            raise InputError(f"--repeat: experiment type {resolved.experiment_type.id!r} has "
                             "no integer seed param to vary")
        others = tuple((k, v) for k, v in resolved.overrides if k != "seed")
        for i in range(repeat):
            seeded = dataclasses.replace(
                resolved, params=resolved.params.model_copy(update={"seed": base + i}),
                overrides=(*others, ("seed", base + i)))
            repeated.append(dataclasses.replace(
                point, overrides={**point.overrides, "seed": base + i}, resolved=seeded, repeat=i))
    return repeated


def is_done(outcome: RunOutcome | None) -> bool:
    """The point has an outcome, and it finished now or earlier (skip-if-done)."""
    return outcome is not None and outcome.status in DONE


def repeat_groups(points: list[SweepPoint]) -> dict[str, list[int]]:
    """Repeated points by the point they repeat (its label without the seed); ``{}`` when the
    sweep has no repeats."""
    groups: dict[str, list[int]] = {}
    for index, point in enumerate(points):
        if point.repeat is not None:
            groups.setdefault(point.group, []).append(index)
    return groups


def repeat_tags(point: SweepPoint, group_runs: Mapping[str, str]) -> dict[str, str]:
    """A repeated child's own tags: its repeat index and (several groups) its group's run."""
    if point.repeat is None:
        return {}
    return {names.REPEAT_INDEX_TAG: str(point.repeat),
            names.PARENT_RUN_TAG: group_runs[point.group]}


def summarize_groups(
    points: list[SweepPoint], outcomes: list[RunOutcome | None], groups: Mapping[str, list[int]],
    group_runs: Mapping[str, str], first: ResolvedRun,
) -> list[RepeatGroup]:
    """Each group's deterministic metrics over the repeats that finished (mean, std, CI; the CI
    clipped to the metric's declared ``bounds``)."""
    specs = [m for m in first.experiment_type.metrics if m.deterministic]
    result = []
    for label, indices in groups.items():
        done = [o for o in (outcomes[i] for i in indices) if o is not None and is_done(o)]
        summaries = {spec.name: summarize(values, spec.bounds) for spec in specs
                     if (values := [o.metrics[spec.name] for o in done if spec.name in o.metrics])}
        result.append(RepeatGroup(label, group_runs[label], list(indices), summaries))
    return result


def rank_groups(
    groups: list[RepeatGroup], points: list[SweepPoint], outcomes: list[RunOutcome | None],
    spec: MetricSpec | None,
) -> list[RepeatGroup]:
    """Best first by the mean of the primary metric; each marked tied with the best when a
    paired test over seeds (repeat ``i`` against repeat ``i``) finds no detectable difference."""
    if spec is None or not groups:
        return groups

    def mean(group: RepeatGroup) -> float | None:
        summary = group.summaries.get(spec.name)
        return summary.mean if summary else None

    ranked = sorted(groups, key=lambda g: spec.sort_key(mean(g)))
    best = ranked[0]

    def by_repeat(group: RepeatGroup) -> dict[int, float]:
        pairs = ((points[i].repeat, outcomes[i]) for i in group.indices)
        return {int(r): o.metrics[spec.name] for r, o in pairs
                if r is not None and o is not None and is_done(o) and spec.name in o.metrics}

    best_values = by_repeat(best)
    marked = [dataclasses.replace(best, tied_with_best=mean(best) is not None)]
    for group in ranked[1:]:
        values = by_repeat(group)
        common = sorted(set(best_values) & set(values))
        tied = len(common) >= 2 and not paired_test(
            spec.name, [best_values[r] for r in common], [values[r] for r in common],
            maximize=spec.maximize).significant
        marked.append(dataclasses.replace(group, tied_with_best=tied))
    return marked
