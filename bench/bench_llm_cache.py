"""The LLM response cache: a second ``llm-prompt`` run with a warm cache vs the first run.

Both runs are whole ``run_experiment("llm-prompt")`` runs in this process (prompt registry,
one trace span per call, per-item table, MLflow logging into a temporary sqlite store) with the
real local SmolLM2-135M-Instruct over the bundled 24 questions. The first run starts with an
empty response cache and asks the model for every answer; the second finds every answer in the
cache and replays it. Model load and store creation are paid before anything is timed: a
one-item warm-up run with a throwaway cache. The second run must give the same results (every
declared metric but ``cache_hits``). Target: second run <= 0.1x the first run's wall time.

    .venv/bin/python bench/bench_llm_cache.py [--items 24] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = 0.1  # warm run wall time <= 10% of the cold run's


def timed_run(overrides: dict[str, Any], uri: str, cache: Path) -> tuple[float, dict[str, float]]:
    """One llm-prompt run answering from/into the response cache file ``cache``."""
    from runner.runs import run_experiment
    from runner_llm.cache import CACHE_ENV

    os.environ[CACHE_ENV] = str(cache)
    start = time.perf_counter()
    outcome = run_experiment("llm-prompt", overrides, tracking_uri=uri)
    wall = time.perf_counter() - start
    if outcome.status != "FINISHED":
        raise SystemExit(f"runner run failed: {outcome.error}")
    return wall, outcome.metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-llm-cache-"))
    os.chdir(workdir)  # no registry.yaml here: "llm-prompt" is the experiment type itself
    os.environ.pop("RUNNER_REGISTRY", None)
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    overrides = {"backend": "local", "max_items": args.items, "max_tokens": args.max_tokens}

    warm_up, _ = timed_run({**overrides, "max_items": 1}, uri, workdir / "warm-up.sqlite3")
    cold, first = timed_run(overrides, uri, workdir / "responses.sqlite3")
    warm, second = timed_run(overrides, uri, workdir / "responses.sqlite3")

    from runner_llm.plugin import METRICS

    results = {m.name for m in METRICS} - {"cache_hits"}
    differing = sorted(k for k in results if first.get(k) != second.get(k))
    ratio = warm / cold
    print(f"llm-prompt, local SmolLM2-135M-Instruct, {args.items} items, "
          f"max_tokens={args.max_tokens} (warm-up run incl. model load: {warm_up:.2f} s)")
    print(f"first run (empty cache):  {cold:8.2f} s  cache_hits={first['cache_hits']:.0f}  "
          f"completion_tokens={first['completion_tokens']:.0f}")
    print(f"second run (warm cache):  {warm:8.2f} s  cache_hits={second['cache_hits']:.0f}  "
          f"completion_tokens={second['completion_tokens']:.0f}")
    print(f"ratio second/first: {ratio:.3f}  (target <= {TARGET})  "
          f"{'OK' if ratio <= TARGET else 'MISSED'}")
    print(f"results identical: {'yes' if not differing else 'NO: ' + ', '.join(differing)}")
    if differing or second["cache_hits"] != args.items:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
