"""The real user path: scaffold a plugin, pip install it, and the CLI finds and runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow


def test_new_plugin_installs_lists_and_runs(tmp_path: Path):
    runner = [sys.executable, "-m", "runner"]
    subprocess.run([*runner, "new-plugin", "coin-flip", "--dir", str(tmp_path)], check=True)
    package = tmp_path / "runner-coin-flip"
    assert (package / "pyproject.toml").exists()
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(package)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "RUNNER_REGISTRY": str(tmp_path / "none.yaml")}
    listed = subprocess.run([*runner, "plugins", "--json"], env=env, capture_output=True, text=True, check=True)
    plugin = next(p for p in json.loads(listed.stdout) if p["name"] == "coin-flip")
    assert plugin == {
        "name": "coin-flip", "dist": "runner-coin-flip", "version": "0.1.0", "builtin": False,
        "experiment_types": ["coin-flip"], "status": "ok",
        "hooks": ["runner_evaluate", "runner_execute", "runner_log", "runner_prepare",
                  "runner_register_experiment_types"],
    }
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    ran = subprocess.run([*runner, "run", "coin-flip", "--tracking-uri", uri, "--json"],
                         env=env, capture_output=True, text=True, check=True)
    outcome = json.loads(ran.stdout)
    assert outcome["status"] == "FINISHED"
    run = MlflowClient(uri).get_run(outcome["run_id"])
    assert run.data.tags["runner.plugin.dist"] == "runner-coin-flip"
    assert abs(run.data.metrics["abs_error"]) < 0.05
    # the generated package's own test passes too
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package / "tests")],
                            env=env, capture_output=True, text=True, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout[-2000:]
