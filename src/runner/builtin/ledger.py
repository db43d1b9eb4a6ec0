"""Built-in plugin: the cost ledger every run gets, whatever its type.

For every run the core measures wall time per phase, CPU time and peak resident memory, and
logs ``cost_usd`` = compute time at one price per hour (``$RUNNER_USD_PER_HOUR``, default
0.10 USD: about a 2-vCPU cloud machine) plus what plugins report spending on APIs
(``ctx.add_cost``, e.g. LLM tokens priced from a table). The names are the same for every type,
so one MLflow chart or query compares the cost of a scikit-learn model, an MLP, a prompt and a
RAG configuration.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from runner.experiment_type import MetricSpec
from runner.hookspecs import hookimpl

if TYPE_CHECKING:
    from runner.context import RunContext

#: The compute price, in USD per hour of a run's wall time.
PRICE_ENV = "RUNNER_USD_PER_HOUR"
DEFAULT_USD_PER_HOUR = 0.10
PHASES = ("prepare", "execute", "evaluate", "log")
#: How often peak memory is sampled while a run is going.
SAMPLE_SECONDS = 0.2

LEDGER_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("cost_usd", "minimize", "compute_cost_usd + api_cost_usd", deterministic=False),
    MetricSpec("compute_cost_usd", "minimize",
               f"wall_time_sec x ${PRICE_ENV} (default {DEFAULT_USD_PER_HOUR} USD/h) / 3600",
               deterministic=False),
    MetricSpec("api_cost_usd", "minimize", "what plugins reported spending on APIs (ctx.add_cost)",
               deterministic=False),
    MetricSpec("wall_time_sec", "minimize", "seconds from the start of prepare to the end of log",
               deterministic=False),
    MetricSpec("cpu_time_sec", "minimize", "CPU seconds of the process (user + system) during the run",
               deterministic=False),
    MetricSpec("peak_memory_mb", "minimize", "peak resident memory of the process during the run (MiB)",
               deterministic=False),
    *(MetricSpec(f"{phase}_sec", "minimize", f"wall seconds of the {phase} phase",
                 deterministic=False) for phase in PHASES),
)


def usd_per_hour() -> float:
    """The configured compute price (``$RUNNER_USD_PER_HOUR``)."""
    return float(os.environ.get(PRICE_ENV) or DEFAULT_USD_PER_HOUR)


@dataclass
class _Ledger:
    """What one run has spent so far."""

    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=time.process_time)
    phases: dict[str, float] = field(default_factory=dict)
    peak_bytes: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        import psutil  # here, not at start-up: listing commands load this plugin too

        self.peak_bytes = max(self.peak_bytes, psutil.Process().memory_info().rss)

    def watch(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            self.sample()


_ledgers: dict[int, _Ledger] = {}


def _timed(ctx: RunContext, phase: str) -> Generator[None, None, None]:
    ledger = _ledgers.get(id(ctx))
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        if ledger is not None:
            ledger.phases[phase] = ledger.phases.get(phase, 0.0) + time.perf_counter() - started
            ledger.sample()


@hookimpl(wrapper=True, tryfirst=True)
def runner_prepare(ctx: RunContext) -> Generator[None, None, None]:
    """Start the ledger (and the memory sampler) with the run's first phase."""
    if ctx._core.probe_only:  # a probe creates no run and spends nothing worth a record
        return (yield)
    ledger = _ledgers[id(ctx)] = _Ledger()
    ledger.sample()
    threading.Thread(target=ledger.watch, name="runner-ledger", daemon=True).start()
    return (yield from _timed(ctx, "prepare"))


@hookimpl(wrapper=True, tryfirst=True)
def runner_execute(ctx: RunContext) -> Generator[None, None, None]:
    return (yield from _timed(ctx, "execute"))


@hookimpl(wrapper=True, tryfirst=True)
def runner_evaluate(ctx: RunContext) -> Generator[None, None, None]:
    return (yield from _timed(ctx, "evaluate"))


@hookimpl(wrapper=True, tryfirst=True)
def runner_log(ctx: RunContext) -> Generator[None, None, None]:
    return (yield from _timed(ctx, "log"))


@hookimpl
def runner_finish(ctx: RunContext, error: BaseException | None) -> None:
    """Log the ledger on every run that exists (not on a skip: nothing was spent on it)."""
    ledger = _ledgers.pop(id(ctx), None)
    if ledger is None:
        return
    ledger.stop.set()
    ledger.sample()
    if ctx.run_id is None or ctx.status == "SKIPPED":
        return
    wall = time.perf_counter() - ledger.started
    compute = wall * usd_per_hour() / 3600
    api = ctx._core.api_cost_usd
    ctx.log_metrics({
        "wall_time_sec": wall,
        "cpu_time_sec": time.process_time() - ledger.cpu_started,
        "peak_memory_mb": ledger.peak_bytes / 2**20,
        **{f"{phase}_sec": seconds for phase, seconds in ledger.phases.items()},
        "compute_cost_usd": compute,
        "api_cost_usd": api,
        "cost_usd": compute + api,
    })
