"""The cost ledger: every run of every type gets the same time, memory and cost metrics."""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from runner import hookimpl
from runner.builtin.ledger import LEDGER_METRICS
from runner.runs import run_experiment


class PaysForAnApi:
    @hookimpl
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        ctx.add_cost(0.25)
        ctx.add_cost(0.5)


def test_every_run_gets_the_ledger_and_cost_adds_compute_and_api(make_plugins, tracking_uri,
                                                                  monkeypatch):
    monkeypatch.setenv("RUNNER_USD_PER_HOUR", "3600")  # one dollar a second: easy to check
    outcome = run_experiment("toy", tracking_uri=tracking_uri,
                             plugins=make_plugins(("pays", PaysForAnApi())))
    metrics = MlflowClient(tracking_uri).get_run(outcome.run_id).data.metrics
    assert {m.name for m in LEDGER_METRICS} <= set(metrics)
    assert metrics["api_cost_usd"] == 0.75
    assert metrics["compute_cost_usd"] == pytest.approx(metrics["wall_time_sec"])
    assert metrics["cost_usd"] == pytest.approx(metrics["compute_cost_usd"] + 0.75)
    phases = sum(metrics[f"{p}_sec"] for p in ("prepare", "execute", "evaluate", "log"))
    assert 0 < phases <= metrics["wall_time_sec"]
    assert metrics["peak_memory_mb"] > 50  # a Python process with MLflow loaded
    assert metrics["cpu_time_sec"] > 0
    assert outcome.metrics["cost_usd"] == metrics["cost_usd"]  # also in the outcome


def test_the_default_price_is_documented_and_used(make_plugins, tracking_uri, monkeypatch):
    from runner.builtin.ledger import DEFAULT_USD_PER_HOUR

    monkeypatch.delenv("RUNNER_USD_PER_HOUR", raising=False)
    outcome = run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins())
    metrics = MlflowClient(tracking_uri).get_run(outcome.run_id).data.metrics
    assert metrics["compute_cost_usd"] == pytest.approx(
        metrics["wall_time_sec"] * DEFAULT_USD_PER_HOUR / 3600)


def test_a_failed_run_still_gets_its_ledger(make_plugins, tracking_uri):
    outcome = run_experiment("toy", {"fail_in": "evaluate"}, tracking_uri=tracking_uri,
                             plugins=make_plugins())
    metrics = MlflowClient(tracking_uri).get_run(outcome.run_id).data.metrics
    assert outcome.status == "FAILED" and "cost_usd" in metrics and "evaluate_sec" in metrics
