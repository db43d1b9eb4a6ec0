"""Terminal output: rich tables for people, JSON for scripts (rich is imported only for tables)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else, so scripts can parse it."""
    print(json.dumps(data, indent=2, default=str))


def console() -> Console:
    """A rich console on stdout."""
    from rich.console import Console

    return Console()


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A rich table; cells are shown with ``str``."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


def format_metric(value: float) -> str:
    """Metrics with 4 decimals, large values without exponent noise, tiny ones (a run's cost in
    USD) with 3 significant digits rather than as 0.0000."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:,.0f}"


def print_result(result: Any) -> None:
    """A run's metrics, or a repeated run's mean, std and 95% CI per metric."""
    print(f"run {result.run_id} in experiment {result.experiment!r}: {result.status}")
    if not result.repeats:
        print_table(None, ["metric", "value"],
                    [(k, format_metric(v)) for k, v in sorted(result.metrics.items())])
        return
    print_table(f"{len(result.repeats)} repeats (seeds)", ["metric", "mean", "std", "95% CI", "n"],
                [(k, format_metric(s.mean), _number_or_dash(s.std),
                  format_interval(s.ci_low, s.ci_high), s.n)
                 for k, s in sorted(result.summaries.items())])


def _number_or_dash(value: float | None) -> str:
    """A metric, or ``-`` for none or NaN (the spread of a single value)."""
    return "-" if value is None or math.isnan(value) else format_metric(value)


def format_interval(low: float | None, high: float | None) -> str:
    """``[low, high]``, or ``-`` when there is no interval."""
    if _number_or_dash(low) == "-":
        return "-"
    return f"[{_number_or_dash(low)}, {_number_or_dash(high)}]"


def print_sweep_table(name: str, metric: str | None, rows: list[dict[str, Any]]) -> None:
    """The ranked rows; metrics formatted, CIs as ``[low, high]``, ties with the best as ``≈``."""
    if not rows:
        return
    hidden = {f"{metric}_ci_low", f"{metric}_ci_high", "tied_with_best"}
    columns = [c for c in rows[0] if c not in hidden]
    if f"{metric}_ci_low" in rows[0]:
        columns.insert(columns.index(f"{metric}_mean") + 1, "95% CI")
    if "tied_with_best" in rows[0]:
        columns.insert(len(columns) - 1, "vs best")

    def cell(row: dict[str, Any], column: str) -> Any:
        if column == "95% CI":
            return format_interval(row[f"{metric}_ci_low"], row[f"{metric}_ci_high"])
        if column == "vs best":
            return "≈ best" if row["tied_with_best"] else ""
        value = row[column]
        return format_metric(value) if isinstance(value, float) else ("-" if value is None else value)

    title = f"{name}: ranked by {metric}" + (" (mean over seeds)" if "repeats" in rows[0] else "")
    print_table(title, columns, [[cell(row, c) for c in columns] for row in rows])
