"""A 12-point sweep through a two-node Ray cluster into an ``mlflow server`` on PostgreSQL.

Real parts only: the machine's PostgreSQL, ``runner server`` (``mlflow server`` with proxied
artifacts) on a free port, and two Ray nodes on this host (``ray start``), one CPU each, so that
points land on both and nothing relies on the driver's process or node.
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

GRID = ["--grid", "C=0.1,0.3,1,3", "--grid", "max_iter=50,100,200"]  # 12 points


def required_metrics() -> set[str]:
    from runner.plugins import load_plugins

    exp_type, _ = load_plugins().experiment_type("sklearn")
    return {m.name for m in exp_type.metrics if m.condition is None}


def sweep(helpers, server, cluster, tmp_path, *extra: str):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "runner"), "sweep", "sklearn", *GRID, *extra,
         "--executor", "ray", "--tracking-uri", server.uri, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=helpers.cli_env(RAY_ADDRESS=cluster),
    )


def finish(driver: subprocess.Popen[str]) -> dict:
    out, err = driver.communicate(timeout=600)
    assert driver.returncode == 0, err[-3000:]
    return json.loads(out)


def children(client: MlflowClient, parent: str) -> list:
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(experiment_ids, filter_string=f"tags.`mlflow.parentRunId` = '{parent}'",
                              max_results=1000)


def test_twelve_points_on_two_nodes_into_the_server_then_all_skipped(
    helpers, tracking_server, two_node_cluster, tmp_path,
):
    data = finish(sweep(helpers, tracking_server, two_node_cluster, tmp_path))
    assert [r["status"] for r in data["runs"]] == ["FINISHED"] * 12
    assert len(data["executor"]["nodes"]) == 2, data["executor"]  # points landed on both nodes
    client = MlflowClient(tracking_server.uri)
    runs = children(client, data["parent_run_id"])
    assert len(runs) == 12
    required = required_metrics()
    nodes = set()
    for run in runs:
        assert run.info.status == "FINISHED"
        assert required <= set(run.data.metrics), required - set(run.data.metrics)
        assert run.data.params["C"] in {"0.1", "0.3", "1.0", "3.0"}
        assert run.data.params["max_iter"] in {"50", "100", "200"}
        assert run.data.tags["runner.sweep"] == "sklearn"
        nodes.add(run.data.tags["runner.ray.node"])
        assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied by the server
    assert nodes == set(data["executor"]["nodes"])
    # artifacts come back through the server's proxy, and live in its destination folder
    first = runs[0].info.run_id
    config = client.download_artifacts(first, "config.json", str(tmp_path))
    assert json.loads(Path(config).read_text())["experiment_type"] == "sklearn"
    model_uri = client.get_run(first).data.tags["runner.model_uri.model"]
    assert model_uri.startswith("models:/")
    assert any(tracking_server.artifacts.rglob("config.json"))
    parent = client.get_run(data["parent_run_id"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["runner.best_run_id"] == data["best_run_id"]

    again = finish(sweep(helpers, tracking_server, two_node_cluster, tmp_path))
    assert [r["status"] for r in again["runs"]] == ["SKIPPED"] * 12
    assert children(client, again["parent_run_id"]) == []
    assert {r["run_id"] for r in again["runs"]} == {r.info.run_id for r in runs}


def test_a_worker_killed_mid_point_is_restarted_and_the_sweep_ends_with_twelve_finished(
    helpers, tracking_server, two_node_cluster, tmp_path,
):
    driver = sweep(helpers, tracking_server, two_node_cluster, tmp_path,
                   "--experiment-name", "scale-kill")
    client = MlflowClient(tracking_server.uri)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.2)
        experiment = client.get_experiment_by_name("scale-kill")
        if experiment is None:
            continue
        running = client.search_runs(
            [experiment.experiment_id],
            filter_string="attributes.status = 'RUNNING' and tags.`runner.ray.actor` != ''")
        if running:
            run = running[0]
            os.kill(int(run.data.tags["runner.pid"]), signal.SIGKILL)  # the actor's process
            killed = run.info.run_id
    assert killed, "no point was seen running"
    data = finish(driver)
    assert [r["status"] for r in data["runs"]] == ["FINISHED"] * 12
    assert data["executor"]["restarts"] >= 1
    dead = client.get_run(killed)
    assert dead.info.status == "FAILED"
    assert "Ray worker died mid-point" in dead.data.tags["runner.stale"]
    runs = children(client, data["parent_run_id"])
    finished = [r for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 12
    keys = [r.data.tags["runner.content_key"] for r in finished]
    assert len(set(keys)) == 12  # no duplicate FINISHED child per content key
    assert {r.info.status for r in runs} <= {"FINISHED", "FAILED"}


def test_the_server_restarted_mid_sweep_loses_nothing(helpers, two_node_cluster, tmp_path):
    """``mlflow server`` stopped and started again on the same port while the 12 points run:
    the workers' writes wait (MLflow's client retries refused connections with backoff) and
    every point ends FINISHED once, with everything it logged before and after the restart."""
    with helpers.postgres_database("runner_restart") as backend:
        artifacts, log = tmp_path / "artifacts", tmp_path / "server.log"
        server = helpers.start_server(backend, artifacts, log)
        driver = sweep(helpers, server, two_node_cluster, tmp_path, "--experiment-name", "restart")
        try:
            client = MlflowClient(server.uri)
            assert wait_for_finished_child(client, "restart", driver), "no point finished first"
            stopped = time.time()
            server.stop()
            time.sleep(3)  # the workers' writes meet a refused connection, and back off
            server = helpers.start_server(backend, artifacts, log, port=server.port)
            restarted = time.time()
            data = finish(driver)
            assert [r["status"] for r in data["runs"]] == ["FINISHED"] * 12
            runs = children(client, data["parent_run_id"])
            assert len(runs) == 12, [r.info.status for r in runs]  # no extra attempt, none lost
            assert len({r.data.tags["runner.content_key"] for r in runs}) == 12
            required = required_metrics()
            for run in runs:
                assert run.info.status == "FINISHED"
                assert required <= set(run.data.metrics), required - set(run.data.metrics)
                assert {"C", "max_iter"} <= set(run.data.params)
                assert "config.json" in {a.path for a in client.list_artifacts(run.info.run_id)}
                assert run.data.tags["runner.model_uri.model"].startswith("models:/")
            ends = sorted(r.info.end_time / 1000 for r in runs)
            assert ends[0] < stopped < restarted < ends[-1], "the sweep did not span the restart"
            assert client.get_run(data["parent_run_id"]).info.status == "FINISHED"
        finally:
            if driver.poll() is None:
                driver.kill()
            server.stop()


def wait_for_finished_child(client: MlflowClient, experiment: str,
                            driver: subprocess.Popen[str]) -> list[str]:
    """Ids of the experiment's FINISHED child runs, once there is one (or the driver ended)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and driver.poll() is None:
        time.sleep(0.2)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            continue
        runs = client.search_runs([found.experiment_id], filter_string=(
            "attributes.status = 'FINISHED' and tags.`runner.ray.actor` != ''"))
        if runs:
            return [run.info.run_id for run in runs]
    return []


#: The cheap registry entries (the LLM ones take minutes on this machine).
ENTRIES = ("ml-baseline", "ml-improved", "nn-baseline", "rag-config")


def test_registry_entries_give_the_same_metrics_through_the_server_as_on_sqlite(
    tracking_server, tmp_path, monkeypatch,
):
    from runner.plugins import load_plugins
    from runner.runs import run_experiment

    monkeypatch.chdir(tmp_path)
    registry = Path(__file__).resolve().parents[2] / "registry.yaml"
    plugins = load_plugins()
    sqlite = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_server.uri)
    for name in ENTRIES:
        local = run_experiment(name, tracking_uri=sqlite, registry_path=registry, plugins=plugins)
        served = run_experiment(name, tracking_uri=tracking_server.uri, registry_path=registry,
                                plugins=plugins)
        assert local.status == served.status == "FINISHED", (name, served.error)
        exp_type, _ = plugins.experiment_type(client.get_run(served.run_id).data.tags["runner.experiment_type"])
        deterministic = {m.name for m in exp_type.metrics if m.deterministic and not m.per_step}
        assert {k: v for k, v in served.metrics.items() if k in deterministic} == pytest.approx(
            {k: v for k, v in local.metrics.items() if k in deterministic}), name
        logged = client.get_run(served.run_id)
        assert logged.data.metrics.keys() >= served.metrics.keys() - {"loss"}
        assert "config.json" in {a.path for a in client.list_artifacts(served.run_id)}
