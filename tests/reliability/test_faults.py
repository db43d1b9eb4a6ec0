"""Fault injection on real runs in real processes: signals, concurrent first runs, bad stores.

Each test asserts the run's final status and that what was logged before the fault is in the
store (issue: trust — nothing lost, nothing left RUNNING).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

RUNNER = [sys.executable, "-m", "runner"]
#: A long torch run: one loss point per epoch, thousands of epochs.
LONG_RUN = ["run", "torch-mlp", "--set", "epochs=20000", "--set", "hidden_units=[8]",
            "--set", "batch_size=256", "--set", "dataset.name=iris"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RUNNER_REGISTRY": str(tmp_path / "none.yaml")}


def _wait_for_curve(client: MlflowClient, experiment: str, points: int, limit: float = 120) -> str:
    """The id of the RUNNING run once its ``loss`` curve has ``points`` points in the store."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = client.get_experiment_by_name(experiment)
        if found is not None:
            for run in client.search_runs([found.experiment_id]):
                if len(client.get_metric_history(run.info.run_id, "loss")) >= points:
                    return run.info.run_id
        time.sleep(0.5)
    raise AssertionError(f"no run reached {points} loss points in {limit} s")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_run_killed_and_keeps_its_curve(tmp_path, signum):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = subprocess.Popen([*RUNNER, *LONG_RUN, "--tracking-uri", uri], env=_env(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = MlflowClient(uri)
    try:
        run_id = _wait_for_curve(client, "nn-experiments", 20)
        seen = len(client.get_metric_history(run_id, "loss"))
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"interrupted: run {run_id} was ended KILLED"
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert len(client.get_metric_history(run_id, "loss")) >= seen  # nothing logged was lost
    assert "error.txt" in {a.path for a in client.list_artifacts(run_id)}


def test_sigkill_loses_at_most_seconds_and_the_stale_run_is_found_and_ended(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = subprocess.Popen([*RUNNER, *LONG_RUN, "--tracking-uri", uri], env=_env(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = MlflowClient(uri)
    try:
        run_id = _wait_for_curve(client, "nn-experiments", 20)
        time.sleep(3)  # curves are flushed at least every 2 s while a phase runs
        before = len(client.get_metric_history(run_id, "loss"))
        process.kill()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert client.get_run(run_id).info.status == "RUNNING"  # nothing could end it
    assert before > 20  # points kept arriving while the phase ran, not only at its end
    listed = subprocess.run([*RUNNER, "runs", "--stale", "--json", "--tracking-uri", uri],
                            capture_output=True, text=True, check=True)
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [run_id]
    fixed = subprocess.run([*RUNNER, "runs", "--stale", "--fix", "--json", "--tracking-uri", uri],
                           capture_output=True, text=True, check=True)
    assert json.loads(fixed.stdout)[0]["status"] == "FAILED"
    run = client.get_run(run_id)
    assert run.info.status == "FAILED"
    assert f"process {process.pid}" in run.data.tags["runner.stale"]


def test_concurrent_first_runs_on_a_new_sqlite_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    command = [*RUNNER, "run", "sklearn", "--tracking-uri", uri, "--json"]
    processes = [subprocess.Popen([*command, "--set", f"C={c}"], env=_env(tmp_path),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in (0.1, 0.2, 0.3, 0.4)]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err for _, err in results]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("ml-experiments").experiment_id])
    assert sorted(r.data.params["C"] for r in runs) == ["0.1", "0.2", "0.3", "0.4"]
    assert all(r.info.status == "FINISHED" and "accuracy" in r.data.metrics for r in runs)


@pytest.mark.parametrize(
    ("make_store", "message"),
    [
        (lambda tmp: (tmp / "a-file").write_text("x") and tmp / "a-file" / "mlflow.db",
         "a-file is a file, not a folder"),
        (lambda tmp: (tmp / "dir.db").mkdir() or tmp / "dir.db", "is a folder, not a database file"),
        (lambda tmp: (tmp / "bad.db").write_text("not sqlite") and tmp / "bad.db",
         "file is not a database"),
    ],
)
def test_an_unusable_store_fails_fast_with_one_line_naming_it(tmp_path, make_store, message):
    database = make_store(tmp_path)
    started = time.monotonic()
    result = subprocess.run([*RUNNER, "run", "sklearn", "--tracking-uri", f"sqlite:///{database}"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert time.monotonic() - started < 30  # no retry loop (MLflow's own took 107 s)
    lines = result.stderr.strip().splitlines()
    assert result.returncode in (1, 2) and len(lines) == 1, result.stderr
    assert str(database) in lines[0] and message in lines[0]


def test_a_half_migrated_store_is_one_line_saying_how_to_recover(tmp_path):
    import sqlite3

    database = tmp_path / "half.db"
    MlflowClient(f"sqlite:///{database}").search_experiments()
    with sqlite3.connect(database) as db:  # what an interrupted migration leaves behind
        db.execute("update alembic_version set version_num = '0584bdc529eb'")
    result = subprocess.run([*RUNNER, "run", "sklearn", "--tracking-uri", f"sqlite:///{database}"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: tracking store {database} has an unfinished schema migration: keep a copy, then "
        f"run `mlflow db upgrade sqlite:///{database}` (or start a new store)\n")
