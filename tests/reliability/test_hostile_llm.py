"""An OpenAI-compatible endpoint that misbehaves, behind a real ``runner run llm-prompt`` process.

For each fault: the run's final status, the items answered before it are in the store, and the
API key is in no byte of the store, its artifacts or the terminal output — even when the server
echoes the Authorization header back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from mlflow import MlflowClient

from runner.testing import ChatServer

pytestmark = pytest.mark.slow

#: Built at run time: a real key is never in source code (tracebacks quote source lines).
KEY = "-".join(("gw", "live", "7c1f0e9d8b6a5c4e"))
#: A variable name that does not look like a secret: the backend must declare the key itself.
KEY_ENV = "GATEWAY_CREDENTIALS_FOR_TEAM"


def _run(fake_llm: ChatServer, tmp_path, **extra: object) -> tuple[subprocess.CompletedProcess, str]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings = {"backend": "openai", "base_url": fake_llm.base_url, "llm_model": "gw-model",
                "api_key_env": KEY_ENV, "max_items": 4, "max_retries": 1, **extra}
    sets = [arg for k, v in settings.items() for arg in ("--set", f"{k}={v}")]
    done = subprocess.run([sys.executable, "-m", "runner", "run", "llm-prompt", *sets,
                           "--tracking-uri", uri, "--json"],
                          env={**os.environ, KEY_ENV: KEY, "RUNNER_REGISTRY": str(tmp_path / "no.yaml")},
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    return done, uri


def _assert_no_key_anywhere(tmp_path, done: subprocess.CompletedProcess) -> None:
    import mlflow

    mlflow.flush_trace_async_logging()
    assert KEY not in done.stdout and KEY not in done.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path


def _items(uri: str, run_id: str) -> list[str]:
    client = MlflowClient(uri)
    table = json.load(open(client.download_artifacts(run_id, "items.json")))
    return [row[table["columns"].index("response")] for row in table["data"]]


def test_401_echoing_the_key_mid_run_keeps_answers_and_leaks_nothing(fake_llm, tmp_path):
    fake_llm.default_answer = "an answer"
    fake_llm.script = [fake_llm.reply(), fake_llm.reply(),  # the third echoes the header back
                       fake_llm.reply(401, {"error": {"message": f"Bearer {KEY} is revoked"}})]
    done, uri = _run(fake_llm, tmp_path)
    assert done.returncode == 1, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "FAILED" and "***" in outcome["error"]
    run = MlflowClient(uri).get_run(outcome["run_id"])
    assert run.data.tags["runner.llm.items_answered"] == "2/4"
    assert _items(uri, outcome["run_id"]) == ["an answer", "an answer"]
    assert fake_llm.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"  # it was sent
    _assert_no_key_anywhere(tmp_path, done)


@pytest.mark.parametrize(
    ("script", "retries", "status", "error"),
    [
        ([(429, {}), (500, {"error": {"message": "overloaded"}})], 2, "FINISHED", None),
        ([(500, {"error": {"message": "down"}})] * 3, 2, "FAILED", "down"),
        ([(200, "{not json")], 1, "FAILED", "not JSON"),
    ],
    ids=["429-then-500-retried", "500-twice-gives-up", "malformed"],
)
def test_faulty_replies(fake_llm, tmp_path, script, retries, status, error):
    fake_llm.script = [fake_llm.reply(code, body) for code, body in script]
    done, uri = _run(fake_llm, tmp_path, max_retries=retries)
    outcome = json.loads(done.stdout)
    assert outcome["status"] == status, done.stderr
    if error:
        assert error in outcome["error"] and len(done.stderr.strip().splitlines()) == 1
    else:
        assert len(_items(uri, outcome["run_id"])) == 4
    _assert_no_key_anywhere(tmp_path, done)


def test_a_hanging_endpoint_times_out_and_the_run_ends(fake_llm, tmp_path):
    fake_llm.script = [fake_llm.reply(delay=30)] * 2
    done, uri = _run(fake_llm, tmp_path, timeout_sec=0.5, max_retries=1)
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "FAILED" and "timed out" in outcome["error"]
    assert MlflowClient(uri).get_run(outcome["run_id"]).info.status == "FAILED"
    _assert_no_key_anywhere(tmp_path, done)
