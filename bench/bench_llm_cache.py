"""The LLM response cache: a second ``llm-prompt`` run with a warm cache vs the first run.

Measured as a user runs it: each run is a fresh ``runner run llm-prompt --set max_items=24
--set max_tokens=32`` process (imports, plugin loading, MLflow store, prompt registry, one trace
span per call, per-item table, process exit) with the real local SmolLM2-135M-Instruct over the
bundled questions, timed from start to exit. Both runs share one temporary sqlite store and one
private response cache file (``$RUNNER_LLM_RESPONSE_CACHE``). The first run starts with an empty
cache and asks the model for every answer; the second finds every answer in the cache and
replays it (and never loads the model). One-time costs are paid before anything is timed: a
one-item warm-up run with a throwaway cache creates the store's schema and the model's
safetensors copy (the GGUF conversion). The second run must give the same results (every
declared metric but ``cache_hits``). Target: second run <= 0.1x the first run's wall time.

``--in-process`` adds the same pair as ``run_experiment`` calls in this process, with a second
fresh cache file (imports and the MLflow store are already warm; the first run loads the model).

    .venv/bin/python bench/bench_llm_cache.py [--items 24] [--max-tokens 32] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = 0.1  # warm run wall time <= 10% of the cold run's
RUNNER = Path(sys.executable).with_name("runner")


def cli_run(overrides: dict[str, Any], uri: str, cache: Path) -> tuple[float, dict[str, float]]:
    """One ``runner run llm-prompt`` process with response cache file ``cache``: its wall time
    (start to exit) and metrics."""
    from runner_llm.cache import CACHE_ENV

    command = [str(RUNNER), "run", "llm-prompt", "--tracking-uri", uri, "--json"]
    for key, value in overrides.items():
        command += ["--set", f"{key}={value}"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, CACHE_ENV: str(cache)})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"runner run failed:\n{done.stderr[-2000:]}")
    outcome = json.loads(done.stdout)
    if outcome["status"] != "FINISHED":
        raise SystemExit(f"runner run ended {outcome['status']}")
    return wall, outcome["metrics"]


def in_process_run(overrides: dict[str, Any], uri: str,
                   cache: Path) -> tuple[float, dict[str, float]]:
    """One ``run_experiment("llm-prompt")`` in this process with response cache file ``cache``."""
    from runner.runs import run_experiment
    from runner_llm.cache import CACHE_ENV

    os.environ[CACHE_ENV] = str(cache)
    start = time.perf_counter()
    outcome = run_experiment("llm-prompt", overrides, tracking_uri=uri)
    wall = time.perf_counter() - start
    if outcome.status != "FINISHED":
        raise SystemExit(f"run failed: {outcome.error}")
    return wall, outcome.metrics


def compare(label: str, cold: tuple[float, dict[str, float]],
            warm: tuple[float, dict[str, float]], items: int) -> bool:
    """Print both times, the ratio and whether the results match; True when they do."""
    from runner_llm.plugin import METRICS

    (cold_sec, first), (warm_sec, second) = cold, warm
    results = {m.name for m in METRICS} - {"cache_hits"}
    differing = sorted(k for k in results if first.get(k) != second.get(k))
    ratio = warm_sec / cold_sec
    print(f"{label}")
    print(f"  first run (empty cache):  {cold_sec:8.2f} s  cache_hits={first['cache_hits']:.0f}  "
          f"completion_tokens={first['completion_tokens']:.0f}")
    print(f"  second run (warm cache):  {warm_sec:8.2f} s  cache_hits={second['cache_hits']:.0f}  "
          f"completion_tokens={second['completion_tokens']:.0f}")
    print(f"  ratio second/first: {ratio:.3f}  (target <= {TARGET})  "
          f"{'OK' if ratio <= TARGET else 'MISSED'}")
    print(f"  results identical: {'yes' if not differing else 'NO: ' + ', '.join(differing)}")
    return not differing and second["cache_hits"] == items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--in-process", action="store_true",
                        help="also time the pair as run_experiment calls in this process")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-llm-cache-"))
    os.chdir(workdir)  # no registry.yaml here: "llm-prompt" is the experiment type itself
    os.environ.pop("RUNNER_REGISTRY", None)
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    overrides = {"backend": "local", "max_items": args.items, "max_tokens": args.max_tokens}

    warm_up, _ = cli_run({**overrides, "max_items": 1}, uri, workdir / "warm-up.sqlite3")
    print(f"llm-prompt, local SmolLM2-135M-Instruct, {args.items} items, "
          f"max_tokens={args.max_tokens} (warm-up run: store schema, model conversion, "
          f"{warm_up:.2f} s)")
    cache = workdir / "responses.sqlite3"
    cold = cli_run(overrides, uri, cache)
    warm = cli_run(overrides, uri, cache)
    ok = compare("fresh `runner run` processes (start to exit):", cold, warm, args.items)
    if args.in_process:
        cache = workdir / "responses-in-process.sqlite3"
        cold = in_process_run(overrides, uri, cache)
        warm = in_process_run(overrides, uri, cache)
        ok = compare("run_experiment in one process:", cold, warm, args.items) and ok
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
