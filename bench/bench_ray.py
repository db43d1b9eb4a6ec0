"""Ray executor benchmarks, side by side in one run on fresh sqlite stores (this 2-core machine).

On one 2-core machine Ray cannot beat local worker processes; what it must show is that it costs
little, so that on a cluster the cores it adds are gains:

1. 8 forest points (the CPU-bound grid of `bench_sweep.py`): `--executor ray --parallel 2` on a
   local 2-CPU cluster started by the sweep (its start-up counted) vs local `--parallel 2`:
   target >= 0.85x its speed. Also reported: the per-point overhead (median time from a point
   handed to a worker to the worker starting it) and the executor's start-up.
2. 16 sub-second points (`ml-baseline` over 16 values of C): Ray vs local `--parallel 2` vs a
   sequential sweep.

Run: .venv/bin/python bench/bench_ray.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sweep import FOREST, ROOT, RUNNER  # the same CPU-bound grid, the same runner

SHORT = ["ml-baseline", "--grid", "C=" + ",".join(str(c) for c in
                                                  (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20))]


def sweep(grid: list[str], store: Path, *args: str) -> tuple[float, dict]:
    store.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "MLFLOW_TRACKING_URI")}
    env["RUNNER_REGISTRY"] = str(ROOT / "registry.yaml")
    command = [RUNNER, "sweep", *grid, *args, "--tracking-uri", f"sqlite:///{store}", "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=store.parent)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        local, _ = sweep(FOREST, Path(tmp, "forest-local", "m.db"), "--parallel", "2")
        ray, data = sweep(FOREST, Path(tmp, "forest-ray", "m.db"), "--executor", "ray", "--parallel", "2")
        stats = data["executor"]
        rows.append(f"| 8 forest points: `--executor ray --parallel 2` (local cluster, start-up counted) "
                    f"vs local `--parallel 2` | {ray:.1f} s | {local:.1f} s | {local / ray:.2f}x its speed "
                    f"| >= 0.85x |")
        rows.append(f"| per-point overhead on Ray (point handed to a worker -> worker starts it, median) "
                    f"| {stats['dispatch_sec_median'] * 1000:.1f} ms | - | - | - |")
        rows.append(f"| Ray executor start-up (cluster + first worker ready) | {stats['startup_sec']:.1f} s "
                    f"| - | - | - |")
        sequential, _ = sweep(SHORT, Path(tmp, "short-seq", "m.db"))
        short_local, _ = sweep(SHORT, Path(tmp, "short-local", "m.db"), "--parallel", "2")
        short_ray, _ = sweep(SHORT, Path(tmp, "short-ray", "m.db"), "--executor", "ray", "--parallel", "2")
        rows.append(f"| 16 sub-second points (`ml-baseline` over C): Ray / local `--parallel 2` / sequential "
                    f"| {short_ray:.1f} s | {short_local:.1f} s / {sequential:.1f} s "
                    f"| {sequential / short_ray:.2f}x / {sequential / short_local:.2f}x faster than sequential "
                    f"| (report) |")
    print("| benchmark | ray | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
