"""Per-run tracking overhead: a tracking server on PostgreSQL vs the local sqlite file.

The same run — params, final metrics, a 1,000-point curve and a scikit-learn model — through the
runner against (a) `runner server` (`mlflow server`, PostgreSQL backend, artifacts proxied) on
127.0.0.1 and (b) a sqlite file; median of 5 runs each after one warm-up, in one process.
Target: <= 2x. Needs the machine's PostgreSQL on 127.0.0.1:5432 (a database is created and
dropped).

Run: .venv/bin/python bench/bench_server.py
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432"
RUNS = 5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pg(sql: str) -> None:
    import psycopg

    with contextlib.closing(psycopg.connect(f"{PG}/postgres", autocommit=True)) as db:
        db.execute(sql)


def plugins():  # type: ignore[no-untyped-def]
    from pydantic import BaseModel

    from runner import ExperimentType, MetricSpec, hookimpl
    from runner.plugins import load_plugins

    class Params(BaseModel):
        C: float = 1.0
        steps: int = 1000
        nonce: str = ""

    class Tracked:
        def __init__(self) -> None:
            self.model = None

        @hookimpl
        def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
            from sklearn.datasets import load_iris
            from sklearn.linear_model import LogisticRegression

            for step in range(ctx.params.steps):
                ctx.log_metric("loss", 1.0 / (step + 1), step=step)
            x, y = load_iris(return_X_y=True)
            self.model = LogisticRegression(C=ctx.params.C, max_iter=200).fit(x, y)
            ctx.log_metric("accuracy", float(self.model.score(x, y)))

        @hookimpl
        def runner_log(self, ctx):  # type: ignore[no-untyped-def]
            ctx.log_model(self.model, flavor="sklearn", name="model", pip_requirements=["scikit-learn"])

    class Plugin:
        @hookimpl
        def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
            register(ExperimentType("tracked", Params, Tracked, "bench-tracking", "a tracked run",
                                    metrics=(MetricSpec("accuracy", "maximize", "train accuracy"),
                                             MetricSpec("loss", "minimize", "curve", per_step=True))))

    return load_plugins(extra=[("tracked", Plugin())])


def timed_runs(uri: str, loaded) -> float:  # type: ignore[no-untyped-def]
    from runner.runs import run_experiment

    times = []
    for index in range(RUNS + 1):
        start = time.perf_counter()
        outcome = run_experiment("tracked", {"nonce": f"{uuid.uuid4().hex}-{index}"}, tracking_uri=uri,
                                 plugins=loaded)
        assert outcome.status == "FINISHED", outcome.error
        if index:  # the first opens the store
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    database = f"runner_bench_{uuid.uuid4().hex[:8]}"
    pg(f'CREATE DATABASE "{database}"')
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "runner"), "server", "--backend-store-uri", f"{PG}/{database}",
             "--artifacts-destination", f"{tmp}/artifacts", "--port", str(port), "--workers", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
        )
        try:
            uri = f"http://127.0.0.1:{port}"
            for _ in range(360):
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{uri}/health", timeout=2):
                        break
                time.sleep(0.5)
            loaded = plugins()
            os.chdir(tmp)
            sqlite = timed_runs(f"sqlite:///{tmp}/mlflow.db", loaded)
            served = timed_runs(uri, loaded)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
            pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print("| benchmark | server | sqlite | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| one run (params, metrics, 1,000-point curve, a model): `runner server` on PostgreSQL vs "
          f"sqlite file, median of {RUNS} | {served:.2f} s | {sqlite:.2f} s | {served / sqlite:.2f}x | <= 2x |")


if __name__ == "__main__":
    main()
