"""Terminal output: rich tables for people, JSON for scripts (rich is imported only for tables)."""

from __future__ import annotations

import json
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
