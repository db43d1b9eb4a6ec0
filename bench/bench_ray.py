"""Ray executor benchmarks, side by side in one run on fresh sqlite stores (this 2-core machine).

On one 2-core machine Ray cannot beat local worker processes; what it must show is that it costs
little, so that on a cluster the cores it adds are gains:

1. 8 forest points (the CPU-bound grid of `bench_sweep.py`): `--executor ray --parallel 2` on a
   local 2-CPU cluster started by the sweep (its start-up counted) vs local `--parallel 2`:
   target >= 0.85x its speed. Also reported: the per-point overhead (median time from a point
   handed to a worker to the worker starting it) and the executor's start-up.
2. 16 sub-second points (`ml-baseline` over 16 values of C): Ray vs local `--parallel 2` vs a
   sequential sweep.

The machine is shared and noisy: each sweep runs ``--repeat`` times (default 3), Ray and local
interleaved, and medians are reported (the ratio is the median of the paired ratios) with the
raw times; the ratio of the best times is shown too (noise only ever adds time).

Run: .venv/bin/python bench/bench_ray.py [--repeat N] [--forest-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def median(values: list[float]) -> float:
    return statistics.median(values)


def times(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each sweep (median reported)")
    parser.add_argument("--forest-only", action="store_true", help="skip the 16 short points")
    args = parser.parse_args()
    repeat = args.repeat
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        local, ray, ratios, dispatch, startup = [], [], [], [], []
        for i in range(repeat):  # interleaved: the machine's load hits both alike
            local.append(sweep(FOREST, Path(tmp, f"forest-local-{i}", "m.db"), "--parallel", "2")[0])
            elapsed, data = sweep(FOREST, Path(tmp, f"forest-ray-{i}", "m.db"), "--executor", "ray",
                                  "--parallel", "2")
            ray.append(elapsed)
            ratios.append(local[-1] / elapsed)
            dispatch.append(data["executor"]["dispatch_sec_median"] * 1000)
            startup.append(data["executor"]["startup_sec"])
        rows.append(f"| 8 forest points: `--executor ray --parallel 2` (local cluster, start-up counted) "
                    f"vs local `--parallel 2`, median of {repeat} (runs: {times(ray)} / {times(local)}) "
                    f"| {median(ray):.1f} s | {median(local):.1f} s | {median(ratios):.2f}x its speed "
                    f"(best times: {min(local) / min(ray):.2f}x) "
                    f"| >= 0.85x |")
        rows.append(f"| per-point overhead on Ray (point handed to a worker -> worker starts it, median) "
                    f"| {median(dispatch):.1f} ms | - | - | - |")
        rows.append(f"| Ray executor start-up (cluster + first worker ready), median "
                    f"| {median(startup):.1f} s | - | - | - |")
        sequential, short_local, short_ray = [], [], []
        for i in range(0 if args.forest_only else repeat):
            sequential.append(sweep(SHORT, Path(tmp, f"short-seq-{i}", "m.db"))[0])
            short_local.append(sweep(SHORT, Path(tmp, f"short-local-{i}", "m.db"), "--parallel", "2")[0])
            short_ray.append(sweep(SHORT, Path(tmp, f"short-ray-{i}", "m.db"), "--executor", "ray",
                                   "--parallel", "2")[0])
        if not args.forest_only:
            seq = median(sequential)
            rows.append(f"| 16 sub-second points (`ml-baseline` over C): Ray / local `--parallel 2` / "
                        f"sequential, median of {repeat} | {median(short_ray):.1f} s | "
                        f"{median(short_local):.1f} s / {seq:.1f} s | {seq / median(short_ray):.2f}x / "
                        f"{seq / median(short_local):.2f}x faster than sequential | (report) |")
    print("| benchmark | ray | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
