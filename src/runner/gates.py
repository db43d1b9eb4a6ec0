"""``runner run --fail-under METRIC=VALUE``: a run's metrics as a gate a CI job can use."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from runner.errors import InputError


def parse_thresholds(items: Iterable[str]) -> dict[str, float]:
    """``["pass_rate=0.9"]`` -> ``{"pass_rate": 0.9}``; a bad item is one ``InputError``."""
    thresholds: dict[str, float] = {}
    for item in items:
        metric, sep, value = item.partition("=")
        try:
            threshold = float(value)
        except ValueError:
            threshold = math.nan
        if not sep or not metric.strip() or math.isnan(threshold):
            raise InputError(f"--fail-under expects METRIC=NUMBER, got {item!r}")
        thresholds[metric.strip()] = threshold
    return thresholds


def unmet(metrics: Mapping[str, float], thresholds: Mapping[str, float]) -> list[str]:
    """One line per threshold the metrics do not meet (a metric the run did not log fails)."""
    lines = []
    for metric, threshold in thresholds.items():
        value = metrics.get(metric)
        if value is None:
            lines.append(f"{metric}: the run logged no such metric (--fail-under {metric}={threshold:g})")
        elif not value >= threshold:
            lines.append(f"{metric} = {value:.4g} is under {threshold:g}")
    return lines
