"""Sweep benchmarks, measured side by side in one run on fresh sqlite stores.

1. 8 ML grid points, `--parallel 2` vs sequential (target >= 1.6x faster on 2 cores), for two
   grids: random forests with 5-fold cross-validation (runs of a few seconds, a realistic sweep)
   and the logistic-regression baseline over C (sub-second runs, where start-up dominates).
2. The forest sweep again with every point already done (all skipped): target <= 2 s plus
   start-up, where start-up is what any command that reads the store and the data pays
   first: importing MLflow, its sqlite store and the plugin's implementation, measured as its
   own process.

Run: .venv/bin/python bench/bench_sweep.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = str(Path(sys.executable).parent / "runner")
FOREST = ["sklearn", "--set", "model=random_forest", "--set", "cv_folds=5", "--set", "dataset.name=breast_cancer",
          "--grid", "n_estimators=200,400,600,800", "--grid", "max_depth=6,12"]
BASELINE = ["ml-baseline", "--grid", "C=0.05,0.1,0.2,0.3,0.5,1,2,5"]
# What any command that reads a sqlite store and the plugin's data imports before it can start.
STARTUP = "import runner.store.mlflow_store, runner_sklearn.experiment, mlflow.store.tracking.sqlalchemy_store"


def timed(command: list[str]) -> float:
    env = {**os.environ, "RUNNER_REGISTRY": str(ROOT / "registry.yaml")}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def sweep(grid: list[str], store: Path, *args: str) -> float:
    store.parent.mkdir(exist_ok=True)
    return timed([RUNNER, "sweep", *grid, *args, "--tracking-uri", f"sqlite:///{store}"])


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, grid in (("random forest, 5-fold CV", FOREST), ("logistic regression over C", BASELINE)):
            sequential = sweep(grid, Path(tmp, label[:6] + "-seq", "m.db"))
            parallel = sweep(grid, Path(tmp, label[:6] + "-par", "m.db"), "--parallel", "2")
            rows.append(f"| 8 grid points ({label}): `--parallel 2` vs sequential | {parallel:.1f} s "
                        f"| {sequential:.1f} s | {sequential / parallel:.2f}x faster | >= 1.6x |")
        startup = timed([sys.executable, "-c", STARTUP])
        skipped = sweep(FOREST, Path(tmp, "random-par", "m.db"), "--parallel", "2")
    rows.append(f"| forest sweep again, all 8 skipped, vs start-up (import MLflow, its store, the plugin) | {skipped:.1f} s "
                f"| {startup:.1f} s | +{skipped - startup:.1f} s | <= +2 s |")
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
