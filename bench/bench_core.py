"""Core benchmarks, each a ratio against a baseline measured in the same run.

1. CLI start: `runner plugins --json` vs `python -c "import mlflow"` (target <= 0.15x).
2. Step logging: one metric over 10,000 steps through the runner (ctx.log_metric, buffered,
   flushed with log_batch) vs one raw MlflowClient.log_batch of the same points on the same
   sqlite store (target <= 2x); per-step mlflow.log_metric shown for contrast.

Run: .venv/bin/python bench/bench_core.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = 10_000
PER_STEP_SAMPLE = 1_000  # per-step log_metric is slow; timed on a sample and scaled to STEPS
BIN = Path(sys.executable).parent


def median_wall(cmd: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cli_start() -> tuple[float, float]:
    runner = median_wall([str(BIN / "runner"), "plugins", "--json"])
    mlflow_import = median_wall([sys.executable, "-c", "import mlflow"])
    return runner, mlflow_import


def bench_step_logging(store: Path) -> tuple[float, float, float]:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    from pydantic import BaseModel

    from runner import ExperimentType, hookimpl
    from runner.plugins import load_plugins
    from runner.runs import run_experiment

    uri = f"sqlite:///{store}"
    timings: dict[str, float] = {}

    class Params(BaseModel):
        steps: int = STEPS

    class Curve:
        @hookimpl(wrapper=True)
        def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            yield  # the phase logs the points; the tracking wrapper inside flushes them
            timings["runner"] = time.perf_counter() - start

        @hookimpl
        def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
            register(ExperimentType("curve", Params, Logger, "bench", "logs a long curve"))

    class Logger:
        @hookimpl
        def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
            for step in range(ctx.params.steps):
                ctx.log_metric("loss", 1.0 / (step + 1), step=step)

    run_experiment("curve", tracking_uri=uri, plugins=load_plugins(extra=[("curve", Curve())]))

    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    with mlflow.start_run() as run:
        now = int(time.time() * 1000)
        points = [Metric("loss", 1.0 / (s + 1), now, s) for s in range(STEPS)]
        start = time.perf_counter()
        for i in range(0, STEPS, 1000):  # MLflow accepts at most 1000 metrics per call
            client.log_batch(run.info.run_id, metrics=points[i : i + 1000])
        raw = time.perf_counter() - start
    with mlflow.start_run():
        start = time.perf_counter()
        for step in range(PER_STEP_SAMPLE):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        per_step = (time.perf_counter() - start) * STEPS / PER_STEP_SAMPLE
    return timings["runner"], raw, per_step


def main() -> None:
    runner, mlflow_import = bench_cli_start()
    with tempfile.TemporaryDirectory() as tmp:
        via_runner, raw, per_step = bench_step_logging(Path(tmp) / "bench.db")
    print("| benchmark | runner | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| CLI start: `runner plugins` vs `import mlflow` | {runner:.3f} s | {mlflow_import:.3f} s "
          f"| {runner / mlflow_import:.2f}x | <= 0.15x |")
    print(f"| {STEPS:,} step metrics: runner vs raw `log_batch` | {via_runner:.3f} s | {raw:.3f} s "
          f"| {via_runner / raw:.2f}x | <= 2x |")
    print(f"| {STEPS:,} step metrics: per-step `mlflow.log_metric` (scaled from {PER_STEP_SAMPLE:,}) "
          f"| - | {per_step:.1f} s | {per_step / raw:.0f}x raw | contrast |")


if __name__ == "__main__":
    main()
