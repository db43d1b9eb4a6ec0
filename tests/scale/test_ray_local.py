"""``--executor ray`` on a local cluster started for the sweep (``ray.init(num_cpus=2)``), its
refusals, and Ctrl-C on the driver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from runner import InputError
from runner.cli import cli
from runner.executors.ray import INSTALL_HINT, refuse_local_store, remote_nodes
from runner.registry import Registry
from runner.sweeps import plan, run_sweep


def ray_processes() -> set[int]:
    """Pids of Ray's processes on this host: daemons (GCS, raylet, autoscaler monitor, log
    monitor, dashboard and agents) and workers."""
    found = set()
    for process in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        line = " ".join(process.info["cmdline"] or [])
        if process.info["status"] != psutil.STATUS_ZOMBIE and (
                "site-packages/ray/" in line or line.startswith("ray::")):
            found.add(process.info["pid"])
    return found


def gone_within(pids: set[int], seconds: float = 15.0) -> set[int]:
    """The Ray processes not in ``pids`` still alive after ``seconds`` (workers exit a moment
    after the raylet that stops them)."""
    deadline = time.monotonic() + seconds
    while (left := ray_processes() - pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def test_without_ray_the_executor_says_how_to_install_it(make_plugins, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.setattr("runner.cli._plugins", make_plugins())
    uri = f"sqlite:///{tmp_path}/m.db"
    result = CliRunner().invoke(cli, ["sweep", "toy", "--grid", "lr=0.1,0.2", "--executor", "ray",
                                      "--tracking-uri", uri])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: {INSTALL_HINT}"
    assert "pip install 'runner-core[ray]'" in result.stderr
    client = MlflowClient(uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_a_store_only_this_host_can_write_is_refused_with_nodes_elsewhere():
    here = "10.0.0.1"
    nodes = [{"Alive": True, "NodeManagerAddress": here},
             {"Alive": True, "NodeManagerAddress": "10.0.0.2"},
             {"Alive": False, "NodeManagerAddress": "10.0.0.3"}]
    assert remote_nodes(nodes, here) == ["10.0.0.2"]
    with pytest.raises(InputError) as info:
        refuse_local_store("sqlite:////data/mlflow.db", nodes, here)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("tracking URI sqlite:////data/mlflow.db is a sqlite file on this machine")
    assert "10.0.0.2" in message and "runner server" in message
    with pytest.raises(InputError, match="names each worker's own host"):
        refuse_local_store("http://localhost:5000", nodes, here)
    refuse_local_store("http://tracking-host:5000", nodes, here)  # fine
    refuse_local_store("postgresql://mlflow@db/mlflow", nodes, here)  # fine
    refuse_local_store("sqlite:////data/mlflow.db", nodes[:1], here)  # one host: fine


@pytest.mark.slow
def test_a_local_cluster_is_started_for_the_sweep_and_stopped_after(tracking_uri):
    import ray

    from runner.plugins import load_plugins

    before = ray_processes()
    plugins = load_plugins()
    points = plan("sklearn", ["C=0.1,1,10", "max_iter=200"], plugins=plugins, registry=Registry())
    result = run_sweep("sklearn", points, plugins, tracking_uri=tracking_uri, executor="ray",
                       parallel=2)
    assert [o.status for o in result.outcomes] == ["FINISHED"] * 3
    assert result.executor["executor"] == "ray" and result.executor["workers"] == 2
    assert sum(result.executor["nodes"].values()) == 3
    assert not ray.is_initialized()
    assert gone_within(before) == set()  # the cluster it started is gone, every process of it
    client = MlflowClient(tracking_uri)
    for outcome in result.outcomes:
        child = client.get_run(outcome.run_id)
        assert child.data.tags["mlflow.parentRunId"] == result.parent_run_id
        assert child.data.tags["runner.ray.node"] in result.executor["nodes"]
        assert int(child.data.tags["runner.pid"]) != os.getpid()  # a worker, not the driver
    again = run_sweep("sklearn", points, plugins, tracking_uri=tracking_uri, executor="ray")
    assert [o.status for o in again.outcomes] == ["SKIPPED"] * 3  # decided on the driver
    assert again.executor["nodes"] == {}  # no point reached a worker
    assert not ray.is_initialized()


@pytest.mark.slow
def test_ctrl_c_on_the_driver_kills_children_and_parent_and_stops_the_cluster(tmp_path, helpers):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    before = ray_processes()
    driver = subprocess.Popen(
        [str(Path(sys.executable).parent / "runner"), "sweep", "sklearn", "--set",
         "model=random_forest", "--set", "cv_folds=5", "--set", "dataset.name=breast_cancer",
         "--grid", "n_estimators=800,900,1000,1100",
         "--executor", "ray", "--parallel", "2", "--tracking-uri", uri, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=helpers.cli_env(),
    )
    try:
        running = wait_for_running_children(uri, driver, count=1)
        assert running, "no point started"
        driver.send_signal(signal.SIGINT)
        out, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is not None and driver.returncode != 130:
            print(driver.communicate()[1][-3000:] if driver.stderr and not driver.stderr.closed else "")
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, err[-2000:]
    assert "interrupted" in err
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    parents = [r for r in runs if r.info.run_name == "sweep sklearn"]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [p.info.status for p in parents] == ["KILLED"]
    assert children and all(c.info.status in ("KILLED", "FINISHED") for c in children)
    assert {c.info.run_id for c in children if c.info.status == "KILLED"} >= set(running)
    assert gone_within(before, 30) == set(), "the local cluster was left running"


def wait_for_running_children(uri: str, driver: subprocess.Popen[str], count: int,
                              timeout: float = 240) -> list[str]:
    """Ids of RUNNING child runs made by Ray workers, once there are ``count`` of them (read
    with sqlite itself: an MLflow client here would race the driver's schema migration)."""
    import contextlib
    import sqlite3

    database = Path(uri.removeprefix("sqlite:///"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.3)
        if not database.exists():
            continue
        try:
            with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    "select r.run_uuid from runs r join tags t on t.run_uuid = r.run_uuid "
                    "where r.status = 'RUNNING' and t.key = 'runner.ray.actor'").fetchall()
        except sqlite3.Error:  # not created yet, or busy: look again
            continue
        if len(rows) >= count:
            return [row[0] for row in rows]
    return []
