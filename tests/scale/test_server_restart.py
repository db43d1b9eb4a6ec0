"""The tracking server restarted while a sweep's local workers start their points.

Real parts only: the machine's PostgreSQL behind ``mlflow server`` (through ``runner server``),
stopped and started again on the same port, and the local executor's worker processes. The
restart on a two-node Ray cluster, mid-sweep, is in ``test_ray_cluster_server.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from runner.errors import InputError
from runner.executors import PointTask, make_executor
from runner.plugins import load_plugins
from runner.provenance import config_hash
from runner.registry import load_registry
from runner.runs import RunOutcome
from runner.store.mlflow_store import is_transient
from runner.store.uris import server_reachable
from runner.sweeps import plan

pytestmark = pytest.mark.slow

REGISTRY = Path(__file__).resolve().parents[2] / "registry.yaml"


def test_workers_first_writes_wait_out_a_server_restart(helpers, tmp_path, monkeypatch):
    """The driver reached the server, then it went down before the workers' first call: the
    workers wait (MLflow's client retries with backoff) and every point ends FINISHED, while a
    command started during the outage says at once, in one line, that the server is down."""
    monkeypatch.chdir(tmp_path)
    # MLflow's backoff from 1 s, not 2 s: the same bounded retries, a shorter test
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    plugins = load_plugins()
    points = plan("ml-baseline", ["C=0.1,1,10"], plugins=plugins,
                  registry=load_registry(REGISTRY), experiment_name="restart-local")
    tasks = [PointTask(i, p.label, p.resolved.config, config_hash(p.resolved.config))
             for i, p in enumerate(points)]
    artifacts, log = tmp_path / "artifacts", tmp_path / "server.log"
    with helpers.postgres_database("runner_restart_local") as backend:
        server = helpers.start_server(backend, artifacts, log)
        try:
            outcomes: dict[int, RunOutcome] = {}
            with make_executor("local", parallel=2) as executor:
                executor.start(points, server.uri)
                server.stop()

                def run() -> None:
                    for index, outcome in executor.run(tasks, plugins, tracking_uri=server.uri,
                                                       tags={}, force=False):
                        outcomes[index] = outcome

                points_thread = threading.Thread(target=run, name="sweep-points")
                points_thread.start()
                started = time.monotonic()
                down = helpers.run_cli("run", "ml-baseline", "--tracking-uri", server.uri,
                                       timeout=120)
                assert down.returncode == 2, down.stderr[-2000:]
                assert down.stderr.strip().splitlines()[-1].endswith("is it running? (`runner server ...`)")
                time.sleep(max(0.0, 3 - (time.monotonic() - started)))
                server = helpers.start_server(backend, artifacts, log, port=server.port)
                points_thread.join(timeout=600)
                assert not points_thread.is_alive(), "the points did not end"
            assert {i: o.status for i, o in outcomes.items()} == dict.fromkeys(range(3), "FINISHED"), \
                {i: o.error for i, o in outcomes.items()}
            client = MlflowClient(server.uri)
            for outcome in outcomes.values():
                run = client.get_run(outcome.run_id)
                assert run.info.status == "FINISHED"
                assert run.data.metrics["accuracy"] == outcome.metrics["accuracy"]
                assert "config.json" in {a.path for a in client.list_artifacts(outcome.run_id)}
                assert run.data.tags["runner.model_uri.model"].startswith("models:/")
        finally:
            server.stop()


def test_a_server_that_is_not_running_is_one_line_not_a_minute_of_retries(helpers):
    """The store's retries (for a restarting database) never take runner's own "cannot
    connect" line for a restart: that line comes at once."""
    uri = f"http://127.0.0.1:{helpers.free_port()}"
    with pytest.raises(InputError, match="is it running") as down:
        server_reachable(uri)
    assert "Connection refused" in str(down.value)
    assert not is_transient(down.value)
