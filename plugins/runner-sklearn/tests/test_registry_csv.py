"""`runner run ml-baseline --set dataset.path=x.csv`: the registry entries leave the default
dataset (wine) unnamed, so a path alone runs the entry on the user's CSV (marked slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

REGISTRY = Path(__file__).resolve().parents[3] / "registry.yaml"


def test_a_path_runs_a_registry_entry_on_a_csv(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    csv = tmp_path / "iris.csv"
    load_iris(as_frame=True).frame.to_csv(csv, index=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "RUNNER_REGISTRY": str(REGISTRY)}
    done = subprocess.run(
        [sys.executable, "-m", "runner", "run", "ml-baseline", "--set", f"dataset.path={csv}",
         "--tracking-uri", uri, "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "FINISHED"
    params = MlflowClient(uri).get_run(result["run_id"]).data.params
    assert (params["dataset.name"], params["dataset.path"]) == ("csv", str(csv))
    assert (params["C"], params["max_iter"]) == ("1.0", "100")  # the entry's own params
    assert result["metrics"]["accuracy"] > 0.8  # iris, not wine: 3 classes, 4 features
