"""A third party's backend, pip-installed for real, answers ``llm-prompt`` and ``rag`` runs.

The throwaway package registers ``echo`` in the entry-point group ``runner_llm.backends``
exactly as runner-llm registers ``local`` and ``openai``. It is installed with pip into a
private folder (never into the shared environment) and the runs happen in subprocesses that
see it through ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "echo-backend"
version = "0.1.0"
dependencies = ["runner-llm"]

[project.entry-points."runner_llm.backends"]
echo = "echo_backend:EchoBackend"

[tool.setuptools]
py-modules = ["echo_backend"]
"""

MODULE = '''\
"""A backend that answers every request with its last message, prefixed by 'echo: '."""

from runner_llm.backends import BackendParams, Completion


class EchoBackend:
    name = "echo"
    local = True  # runs on this machine: its cost is compute time (the core's ledger)

    def __init__(self, params: BackendParams) -> None:
        self.model = "echo-1"

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        prompt = messages[-1]["content"]
        text = "echo: " + prompt
        return Completion(text, len(prompt.split()), len(text.split()), 0.001, self.model)
'''


@pytest.fixture(scope="module")
def echo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The echo backend package, built and installed by pip into a folder of its own."""
    root = tmp_path_factory.mktemp("echo")
    package = root / "echo-backend"
    package.mkdir()
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "echo_backend.py").write_text(MODULE)
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(site), str(package)],
        check=True, capture_output=True, text=True,
    )
    assert "echo = echo_backend:EchoBackend" in "".join(
        p.read_text() for p in site.glob("echo_backend-*.dist-info/entry_points.txt"))
    return site


def _runner(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def _only_run(tracking_uri: str, experiment: str) -> tuple[MlflowClient, str]:
    client = MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    assert exp is not None
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == "FINISHED"
    return client, run.info.run_id


def _rows(client: MlflowClient, run_id: str) -> list[dict[str, object]]:
    table = json.loads(Path(client.download_artifacts(run_id, "items.json")).read_text())
    return [dict(zip(table["columns"], row)) for row in table["data"]]


def test_llm_prompt_runs_with_an_installed_backend(echo_site: Path, tmp_path: Path) -> None:
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = _runner(echo_site, tmp_path, "run", "llm-prompt", "--set", "backend=echo",
                   "--set", "max_items=2", "--tracking-uri", tracking_uri)
    assert done.returncode == 0, done.stderr
    client, run_id = _only_run(tracking_uri, "llm-experiments")
    rows = _rows(client, run_id)
    assert [r["response"] for r in rows] == [f"echo: {r['rendered_prompt']}" for r in rows]
    run = client.get_run(run_id)
    assert run.data.params["backend"] == "echo"
    assert run.data.tags["runner.llm.backend_model"] == "echo-1"
    metrics = run.data.metrics
    assert metrics["items"] == 2
    # local = True: compute time (the core's ledger) is its cost; no API price, no warning
    assert metrics["api_cost_usd"] == 0
    assert "runner.llm.price_unknown" not in run.data.tags


def test_rag_answers_with_an_installed_backend(echo_site: Path, tmp_path: Path) -> None:
    pytest.importorskip("runner_rag", reason="runner-rag is not installed")
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = _runner(echo_site, tmp_path, "run", "rag", "--set", "generator=llm",
                   "--set", "backend=echo", "--set", "max_questions=2",
                   "--set", "retriever=bm25", "--tracking-uri", tracking_uri)
    assert done.returncode == 0, done.stderr
    client, run_id = _only_run(tracking_uri, "rag-experiments")
    rows = _rows(client, run_id)
    assert len(rows) == 2
    for row in rows:
        answer = str(row["answer"])
        assert answer.startswith("echo: ") and f"Question: {row['question']}" in answer
    assert client.get_run(run_id).data.params["prompt_uri"].startswith("prompts:/rag/")


def test_unknown_backend_error_lists_the_installed_ones(echo_site: Path, tmp_path: Path) -> None:
    done = _runner(echo_site, tmp_path, "run", "llm-prompt", "--set", "backend=nope",
                   "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "unknown backend 'nope'; choose one of " in line
    assert {"echo", "local", "openai"} <= set(
        line.split("choose one of ", 1)[1].split(" (got")[0].replace(",", " ").split())
    assert not (tmp_path / "mlflow.db").exists()
