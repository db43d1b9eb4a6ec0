"""`runner compare` of two runs with 1,000 scored items each, paired bootstrap included.

Target (issue 13): under 2 s for the whole command. Two runs of a throwaway experiment type
(registered in-process, as a plugin would) log 1,000 items with three per-item scores each,
through the real run path into a fresh sqlite store; then `compare()` is timed in-process
(the comparison itself: reading both runs and items, 3 paired bootstraps of 9,999 resamples
and t-tests) and `runner compare A B --json` as a user runs it (process start included; the
throwaway type is not installed there, so no score has a declared direction), next to the same
command on two runs that logged no items: what every `runner` command against the store pays.

Run: .venv/bin/python bench/bench_compare.py
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

from runner import ExperimentType, MetricSpec, RunContext, hookimpl
from runner.api import compare, run
from runner.plugins import load_plugins

ITEMS = 1_000
BIN = Path(sys.executable).parent


class Params(BaseModel):
    quality: float = 0.7
    seed: int = 0
    with_items: bool = True


class Scored:
    """Scores 1,000 items around ``quality`` (the same items for every run)."""

    @hookimpl
    def runner_evaluate(self, ctx: RunContext[Params]) -> None:
        rng = random.Random(ctx.params.seed)
        items = [f"item {i}" for i in range(ITEMS)]
        relevance = [min(1.0, max(0.0, rng.gauss(ctx.params.quality, 0.2))) for _ in items]
        hit = [float(rng.random() < ctx.params.quality) for _ in items]
        latency = [rng.uniform(0.05, 0.3) for _ in items]
        ctx.log_metric("answer_relevance", statistics.fmean(relevance))
        if ctx.params.with_items:
            ctx.log_items({"item": items, "answer": [f"answer {i}" for i in range(ITEMS)],
                           "answer_relevance": relevance, "hit": hit, "latency_sec": latency},
                          key="item", output="answer")


class Plugin:
    @hookimpl
    def runner_register_experiment_types(self, register) -> None:  # type: ignore[no-untyped-def]
        register(ExperimentType(
            id="bench-scored", params=Params, implementation=Scored,
            experiment_name="bench-compare", description="1,000 scored items",
            metrics=(MetricSpec("answer_relevance", "maximize", "mean relevance"),)))


def main() -> None:
    store = Path(tempfile.mkdtemp()) / "mlflow.db"
    uri = f"sqlite:///{store}"
    plugins = load_plugins(extra=[("bench", Plugin())])
    a = run("bench-scored", quality=0.70, seed=1, tracking_uri=uri, plugins=plugins)
    b = run("bench-scored", quality=0.72, seed=2, tracking_uri=uri, plugins=plugins)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        comparison = compare([a.run_id, b.run_id], tracking_uri=uri, plugins=plugins)
        times.append(time.perf_counter() - start)
    plain_a = run("bench-scored", with_items=False, seed=1, tracking_uri=uri, plugins=plugins)
    plain_b = run("bench-scored", with_items=False, seed=2, tracking_uri=uri, plugins=plugins)

    def command(first: str, second: str) -> float:
        start = time.perf_counter()
        subprocess.run([str(BIN / "runner"), "compare", first, second, "--json",
                        "--tracking-uri", uri], check=True, capture_output=True)
        return time.perf_counter() - start

    cli, plain = [], []
    for _ in range(3):  # interleaved: both see the same machine
        cli.append(command(a.run_id, b.run_id))
        plain.append(command(plain_a.run_id, plain_b.run_id))
    print(f"items per run: {ITEMS}; scores tested: {', '.join(comparison.tests)}")
    for name, tests in comparison.tests.items():
        t = tests[1]
        print(f"  {name}: {t.difference:+.4f} [{t.ci_low:+.4f}, {t.ci_high:+.4f}] "
              f"p={t.p_value:.3g} -> {t.verdict}")
    print(f"compare() in-process, median of 5: {statistics.median(times):.2f} s (target < 2 s)")
    print(f"`runner compare --json` (process start included), median of 3: "
          f"{statistics.median(cli):.2f} s; the same command on two runs without items: "
          f"{statistics.median(plain):.2f} s (importing MLflow and opening its store); the "
          f"items and their tests add {statistics.median(cli) - statistics.median(plain):+.2f} s")


if __name__ == "__main__":
    main()
