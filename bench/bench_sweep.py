"""Sweep benchmarks, measured side by side in one run on fresh sqlite stores.

1. 8 ML grid points: `--parallel 2` vs sequential (target >= 1.6x faster on 2 cores).
2. The same sweep again, every point already done (skipped): target <= 2 s plus start-up,
   where start-up is the same command with `--dry-run` (CLI start, plugin discovery, validation).

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
GRID = ["--grid", "C=0.05,0.1,0.2,0.3,0.5,1,2,5"]


def timed(args: list[str], store: Path) -> float:
    env = {**os.environ, "RUNNER_REGISTRY": str(ROOT / "registry.yaml")}
    start = time.perf_counter()
    subprocess.run([RUNNER, "sweep", "ml-baseline", *GRID, *args, "--tracking-uri", f"sqlite:///{store}"],
                   check=True, capture_output=True, env=env, cwd=store.parent)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sequential_store, parallel_store = Path(tmp, "seq", "m.db"), Path(tmp, "par", "m.db")
        sequential_store.parent.mkdir()
        parallel_store.parent.mkdir()
        sequential = timed([], sequential_store)
        parallel = timed(["--parallel", "2"], parallel_store)
        startup = timed(["--dry-run"], parallel_store)
        skipped = timed(["--parallel", "2"], parallel_store)
    print("| benchmark | measured | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| 8 ML grid points: `--parallel 2` vs sequential | {parallel:.1f} s | {sequential:.1f} s "
          f"| {sequential / parallel:.2f}x faster | >= 1.6x |")
    print(f"| same sweep again, all skipped, vs `--dry-run` start-up | {skipped:.1f} s | {startup:.1f} s "
          f"| +{skipped - startup:.1f} s | <= +2 s |")


if __name__ == "__main__":
    main()
