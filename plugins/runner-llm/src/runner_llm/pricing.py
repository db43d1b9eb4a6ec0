"""What LLM API calls cost in USD: a per-token price table.

The run's ``cost_usd`` is the core's cost ledger: compute time at ``$RUNNER_USD_PER_HOUR`` (which
covers a model running on this machine) plus the API cost plugins report with ``ctx.add_cost``
(this table's prices, see :func:`runner_llm.calls.log_token_usage`). An unknown price is
``None`` — never a silent 0 — so callers can warn and tag instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml

from runner import InputError

from runner_llm.backends.base import BackendParams


@dataclass(frozen=True)
class Price:
    """USD per one million input (prompt) and output (completion) tokens."""

    input_per_1m: float
    output_per_1m: float


class Usage(Protocol):
    """Anything with token counts and latency: a Completion or :class:`UsageTotals`."""

    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def latency_sec(self) -> float: ...


@dataclass(frozen=True)
class UsageTotals:
    """Summed usage of several calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_sec: float = 0.0

    @classmethod
    def of(cls, usages: Iterable[Usage]) -> UsageTotals:
        """Sum token counts and latencies."""
        p = c = 0
        t = 0.0
        for u in usages:
            p += u.prompt_tokens
            c += u.completion_tokens
            t += u.latency_sec
        return cls(p, c, t)


def _parse_table(data: Any, source: str) -> dict[str, Price]:
    """``{"models": {name: {input_per_1m, output_per_1m}}}`` -> prices."""
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise InputError(f"pricing file {source}: expected a top-level 'models' mapping")
    table: dict[str, Price] = {}
    for name, entry in models.items():
        try:
            table[str(name)] = Price(
                float(entry["input_per_1m"]), float(entry["output_per_1m"])
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(
                f"pricing file {source}: model {name!r} needs numeric input_per_1m and "
                "output_per_1m"
            ) from None
    return table


@lru_cache(maxsize=8)
def _read_table(path: str, mtime_ns: int) -> dict[str, Price]:
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"pricing file {path}: cannot parse ({_first_line(exc)})") from None
    return _parse_table(data, path)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def builtin_prices() -> dict[str, Price]:
    """The table shipped with the package (``runner_llm/pricing.yaml``)."""
    text = resources.files("runner_llm").joinpath("pricing.yaml").read_text(encoding="utf-8")
    return _parse_table(yaml.safe_load(text), "runner_llm/pricing.yaml")


def load_prices(pricing_file: str | None = None) -> dict[str, Price]:
    """Built-in prices, overridden/extended by ``pricing_file`` (YAML or JSON).

    :raises runner.InputError: the file is missing or malformed.
    """
    table = builtin_prices()
    if pricing_file:
        path = Path(pricing_file).expanduser()
        if not path.is_file():
            raise InputError(f"pricing file not found: {pricing_file}")
        table.update(_read_table(str(path), path.stat().st_mtime_ns))
    return table


def price_for(params: BackendParams) -> Price | None:
    """The per-token price of ``params.llm_model``, or ``None`` if the table lacks it."""
    return load_prices(params.pricing_file).get(params.llm_model)


def cost_usd(params: BackendParams, usage: Usage | Iterable[Usage]) -> float | None:
    """API cost in USD of one call or of many (a Completion, UsageTotals, or an iterable of
    them): tokens x the table's price for ``params.llm_model``; ``None`` when the table lacks
    the model. Compute time is not priced here: the core's cost ledger prices every run's."""
    totals = UsageTotals.of(usage) if isinstance(usage, Iterable) else usage
    price = price_for(params)
    if price is None:
        return None
    return (
        totals.prompt_tokens * price.input_per_1m + totals.completion_tokens * price.output_per_1m
    ) / 1_000_000
