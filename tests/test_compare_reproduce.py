"""`runner compare` and `runner reproduce` on real runs in a throwaway store."""

from __future__ import annotations

import json

import mlflow
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from runner import InputError
from runner.cli import cli
from runner.comparison import compare, markdown, top_runs
from runner.reproduction import reproduce
from runner.runs import run_experiment
from runner.store.names import REPRODUCES_TAG


@pytest.fixture
def two_runs(make_plugins, tracking_uri):
    plugins = make_plugins()
    first = run_experiment("toy", {"lr": 0.1}, tracking_uri=tracking_uri, plugins=plugins)
    second = run_experiment("toy", {"lr": 0.3, "steps": 2}, tracking_uri=tracking_uri, plugins=plugins)
    return first.run_id, second.run_id


def test_compare_shows_differing_params_metric_deltas_and_responses(two_runs, tracking_uri):
    comparison = compare(tracking_uri, list(two_runs))
    assert comparison.params == {"derived": ["0.2", "0.6"], "lr": ["0.1", "0.3"], "steps": ["5", "2"]}
    assert comparison.metrics["accuracy"] == pytest.approx([0.9, 0.7])
    assert comparison.deltas["accuracy"][1] == pytest.approx(-0.2)
    assert comparison.items == {"a": ["a at lr 0.1", "a at lr 0.3"], "b": ["b at lr 0.1", "b at lr 0.3"]}
    table = markdown(comparison)
    assert "| param lr | 0.1 | 0.3 |" in table
    assert "| item a | a at lr 0.1 | a at lr 0.3 |" in table


def test_compare_tests_per_item_scores_against_the_first_run(tracking_uri, make_plugins):
    plugins = make_plugins()
    items = {"note": "a,b,c,d,e,f"}
    good = run_experiment("toy", {"lr": 0.1, **items}, tracking_uri=tracking_uri, plugins=plugins)
    worse = run_experiment("toy", {"lr": 0.3, **items}, tracking_uri=tracking_uri, plugins=plugins)
    comparison = compare(tracking_uri, [good.run_id, worse.run_id], plugins)
    first, second = comparison.tests["accuracy"]
    assert first is None
    # every item of the second run (lr 0.3) scores 0.2 less: 6 of 6 down, A better
    assert second.n == 6 and second.difference == pytest.approx(-0.2)
    assert (second.ci_low, second.ci_high) == pytest.approx((-0.2, -0.2))
    assert second.verdict == "A better"
    assert "A better" in markdown(comparison)
    assert comparison.as_dict()["tests"]["accuracy"][1]["verdict"] == "A better"
    same = run_experiment("toy", {"lr": 0.1, "seed": 8, **items}, tracking_uri=tracking_uri,
                          plugins=plugins)
    twin = compare(tracking_uri, [good.run_id, same.run_id], plugins)
    assert twin.tests["accuracy"][1].verdict == "no detectable difference at n=6"


def test_compare_refuses_runs_scored_on_different_items(two_runs, tracking_uri, make_plugins):
    other = run_experiment("toy", {"note": "x,y,a"}, tracking_uri=tracking_uri,
                           plugins=make_plugins())
    with pytest.raises(InputError, match=r"different items \(3 of 4 differ\)"):
        compare(tracking_uri, [two_runs[0], other.run_id], make_plugins())


def test_top_runs_rank_by_the_declared_direction(two_runs, tracking_uri, make_plugins):
    plugins = make_plugins(installed=False)
    # accuracy is declared "maximize": the first run (0.9) beats the second (0.7)
    assert top_runs(tracking_uri, "toy-experiments", "accuracy", 1, plugins) == [two_runs[0]]
    assert top_runs(tracking_uri, "toy-experiments", "accuracy", 2, plugins) == list(two_runs)
    # eval_time_sec is declared "minimize": the earlier clock reading (first run) is best
    assert top_runs(tracking_uri, "toy-experiments", "eval_time_sec", 2, plugins) == list(two_runs)


def test_cli_compare_json_and_errors(two_runs, tracking_uri, make_plugins, monkeypatch):
    monkeypatch.setattr("runner.cli._plugins", make_plugins())
    ok = CliRunner().invoke(cli, ["compare", *two_runs, "--tracking-uri", tracking_uri, "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["params"]["lr"] == ["0.1", "0.3"]
    top = CliRunner().invoke(cli, ["compare", "--experiment", "toy-experiments", "--metric", "accuracy",
                                   "--top", "2", "--tracking-uri", tracking_uri, "--markdown"])
    assert top.exit_code == 0 and top.stdout.startswith("| ")
    missing = CliRunner().invoke(cli, ["compare", two_runs[0], "0" * 32, "--tracking-uri", tracking_uri])
    assert missing.exit_code == 2 and missing.stderr.strip() == f"error: no run with id {'0' * 32!r} in this tracking store"


def test_reproduce_reruns_from_config_and_matches(make_plugins, tracking_uri):
    plugins = make_plugins()
    original = run_experiment("toy", {"lr": 0.2, "dataset.rows": 4}, tracking_uri=tracking_uri, plugins=plugins)
    result = reproduce(original.run_id, plugins, tracking_uri=tracking_uri)
    assert result.reproduced
    new = MlflowClient(tracking_uri).get_run(result.outcome.run_id)
    assert new.data.tags[REPRODUCES_TAG] == original.run_id
    assert new.data.params["dataset.rows"] == "4"
    diffs = {m.name: m for m in result.metrics}
    assert diffs["accuracy"].difference == 0 and diffs["accuracy"].checked
    assert not diffs["eval_time_sec"].checked  # a clock reading: reported, not held to tolerance


def test_reproduce_fails_beyond_tolerance(make_plugins, tracking_uri, monkeypatch):
    plugins = make_plugins()
    original = run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins)
    monkeypatch.setenv("TOY_DRIFT", "0.01")
    assert not reproduce(original.run_id, plugins, tracking_uri=tracking_uri).reproduced
    assert reproduce(original.run_id, plugins, tracking_uri=tracking_uri, tolerance=0.02).reproduced
    monkeypatch.setattr("runner.cli._plugins", plugins)
    cli_result = CliRunner().invoke(cli, ["reproduce", original.run_id, "--tracking-uri", tracking_uri])
    assert cli_result.exit_code == 1
    assert "did not reproduce within tolerance 0.0" in cli_result.stderr


def test_reproduce_reports_environment_and_data_drift_before_running(make_plugins, tracking_uri, monkeypatch):
    plugins = make_plugins()
    original = run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins)
    client = MlflowClient(tracking_uri)
    client.set_tag(original.run_id, "runner.plugin.version", "0.0.1")
    packages = json.loads(client.get_run(original.run_id).data.tags["runner.packages"])
    assert "mlflow" in packages and "pydantic" in packages
    client.set_tag(original.run_id, "runner.packages", json.dumps({**packages, "pydantic": "1.0"}))
    monkeypatch.setenv("TOY_DATA_OFFSET", "0.5")
    seen: list[str] = []
    result = reproduce(original.run_id, plugins, tracking_uri=tracking_uri,
                       on_drift=lambda drift: seen.extend(d.what for d in drift))
    assert {"plugin toy version", "package pydantic", "input toy"} <= set(seen)  # before the re-run
    data = next(d for d in result.drift if d.what == "input toy")
    assert data.original != data.now and data.now is not None


def test_reproduce_refuses_runs_not_made_by_runner(make_plugins, tracking_uri):
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment("made-by-hand")
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.5)
    with pytest.raises(InputError, match="has no config.json: it was not made by runner"):
        reproduce(run.info.run_id, make_plugins(), tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="no run with id"):
        reproduce("f" * 32, make_plugins(), tracking_uri=tracking_uri)


def test_metric_direction_comes_from_the_declaring_type(make_plugins):
    plugins = make_plugins(installed=False)
    assert plugins.metric_spec("accuracy", "toy-experiments").maximize is True
    assert plugins.metric_spec("eval_time_sec", "toy-experiments").maximize is False
    assert plugins.metric_spec("not_declared", "toy-experiments") is None
