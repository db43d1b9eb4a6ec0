"""Secrets are masked in every record and every error line."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from runner import hookimpl, secrets
from runner.runs import run_experiment

KEY = "sk-test-4f9a8b7c6d5e4f3a2b1c"
#: Built at run time: a traceback quotes source lines, and a real key is never in the source.
SECRET = "-".join(("corp", "secret", "0123456789"))


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    monkeypatch.setattr(secrets, "_values", set())
    monkeypatch.setattr(secrets, "_scanned_environment", False)


def test_secret_environment_variables_are_found_by_name(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MY_GATEWAY_TOKEN", "tok-12345678")
    monkeypatch.setenv("LANGUAGE", "en_US.UTF-8")  # not a secret, never masked
    text = f"401: Bearer {KEY} / tok-12345678 / en_US.UTF-8"
    assert secrets.redact(text) == "401: Bearer *** / *** / en_US.UTF-8"
    assert secrets.redact_value({"h": [f"x{KEY}"]}) == {"h": ["x***"]}


def test_short_values_are_never_treated_as_secrets():
    secrets.register("abc")
    assert secrets.redact("abc def") == "abc def"


class LeakyPlugin:
    """Records a registered secret everywhere a plugin can, then fails echoing it."""

    @hookimpl
    def runner_prepare(self, ctx):  # type: ignore[no-untyped-def]
        ctx.add_secret(SECRET)

    @hookimpl
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        ctx.set_tag("auth", f"Bearer {SECRET}")
        ctx.log_text(f"header: {SECRET}", "leak.txt")
        ctx.log_table({"echo": [SECRET]}, "leak.json")
        with ctx.trace("call", inputs={"headers": {"Authorization": SECRET}}) as span:
            span.set_outputs({"body": f"key {SECRET} revoked"})
        with pytest.raises(RuntimeError), ctx.trace("failing call"):
            raise RuntimeError(f"401 for {SECRET}")
        raise RuntimeError(f"server said: invalid key {SECRET}")


def test_a_registered_secret_is_in_no_byte_of_the_store(make_plugins, tracking_uri, tmp_path):
    import mlflow

    outcome = run_experiment("toy", tracking_uri=tracking_uri,
                             plugins=make_plugins(("leaky", LeakyPlugin())))
    assert outcome.status == "FAILED"
    assert SECRET not in (outcome.error or "") and "***" in (outcome.error or "")
    mlflow.flush_trace_async_logging()
    client = MlflowClient(tracking_uri)
    assert client.get_run(outcome.run_id).data.tags["auth"] == "Bearer ***"
    files = [tmp_path / "mlflow.db", *(tmp_path / "mlartifacts").rglob("*")]
    assert len(files) > 5
    for path in files:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    traces = mlflow.search_traces(run_id=outcome.run_id, return_type="list",
                                  locations=[client.get_run(outcome.run_id).info.experiment_id])
    assert len(traces) == 2  # the spans were written, redacted
