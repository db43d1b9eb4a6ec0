"""Every command against a ``postgresql://`` tracking URI used directly (no server)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runner.cli import cli

pytestmark = pytest.mark.slow


def invoke(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, (args, result.output[-3000:], result.exception)
    return json.loads(result.stdout)


def test_run_sweep_compare_reproduce_on_postgresql(helpers, tmp_path, monkeypatch):
    from runner.plugins import load_plugins
    from runner.registry import load_registry

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("runner.cli._plugins", load_plugins())
    monkeypatch.setenv("RUNNER_REGISTRY", str(helpers.cli_env()["RUNNER_REGISTRY"]))
    assert "ml-baseline" in load_registry().experiments
    with helpers.postgres_database("runner_direct") as uri:
        run = invoke("run", "ml-baseline", "--tracking-uri", uri)
        assert run["status"] == "FINISHED" and run["metrics"]["accuracy"] == pytest.approx(0.9722, abs=1e-3)
        swept = invoke("sweep", "ml-baseline", "--grid", "C=0.3,1", "--parallel", "2",
                       "--tracking-uri", uri)
        statuses = {r["params"]["C"]: r["status"] for r in swept["runs"]}
        assert statuses == {0.3: "FINISHED", 1: "SKIPPED"}  # C=1 is the run above
        other = next(r["run_id"] for r in swept["runs"] if r["status"] == "FINISHED")
        compared = invoke("compare", run["run_id"], other, "--tracking-uri", uri)
        assert json.dumps(compared).count(run["run_id"]) >= 1
        reproduced = invoke("reproduce", run["run_id"], "--tracking-uri", uri)
        assert reproduced["reproduced"] is True
        from mlflow import MlflowClient

        client = MlflowClient(uri)
        logged = client.get_run(run["run_id"])
        assert logged.info.status == "FINISHED"
        assert "config.json" in {a.path for a in client.list_artifacts(run["run_id"])}
