"""The Python API, called as a notebook user would: `import runner; runner.run(...)`."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

import runner
from runner.cli import cli


def count_runs(tracking_uri: str) -> int:
    client = MlflowClient(tracking_uri)
    return sum(len(client.search_runs([e.experiment_id]))
               for e in client.search_experiments())


def test_run_returns_its_run_with_metrics_and_takes_dotted_overrides(make_plugins, tracking_uri):
    result = runner.run("toy", lr=0.3, **{"dataset.rows": 5}, tracking_uri=tracking_uri,
                        plugins=make_plugins())
    assert isinstance(result, runner.RunResult) and result.ok
    assert result.status == "FINISHED" and result.metrics["accuracy"] == pytest.approx(0.7)
    stored = MlflowClient(tracking_uri).get_run(result.run_id)
    assert stored.data.params["lr"] == "0.3" and stored.data.params["dataset.rows"] == "5"
    assert stored.info.run_name == "toy lr=0.3 dataset.rows=5"


def test_bad_value_raises_the_clis_one_line_error_and_creates_no_run(
        make_plugins, tracking_uri, monkeypatch):
    before = count_runs(tracking_uri)
    with pytest.raises(runner.InputError) as raised:
        runner.run("toy", lr="fast", tracking_uri=tracking_uri, plugins=make_plugins())
    assert count_runs(tracking_uri) == before
    monkeypatch.setattr("runner.cli._plugins", make_plugins())
    shown = CliRunner().invoke(cli, ["run", "toy", "--set", "lr=fast", "--tracking-uri", tracking_uri])
    assert shown.exit_code == 2
    assert shown.stderr == f"error: {raised.value}\n"
    with pytest.raises(runner.InputError, match="unknown experiment 'nope'"):
        runner.run("nope", plugins=make_plugins())


def test_a_failed_run_is_returned_unless_check_is_asked(make_plugins, tracking_uri):
    failed = runner.run("toy", fail_in="execute", tracking_uri=tracking_uri, plugins=make_plugins())
    assert failed.status == "FAILED" and not failed.ok
    assert failed.error == "RuntimeError: boom in execute"
    with pytest.raises(runner.RunFailed, match="FAILED: RuntimeError: boom in execute"):
        runner.run("toy", fail_in="execute", check=True, tracking_uri=tracking_uri,
                   plugins=make_plugins())


def test_sweep_table_is_a_ranked_dataframe(make_plugins, tracking_uri):
    result = runner.sweep("toy", grid={"lr": [0.5, 0.1, 0.3], "steps": [1, 2]},
                          note="a,b,c,d,e,f", tracking_uri=tracking_uri, plugins=make_plugins())
    table = result.table
    assert isinstance(table, pd.DataFrame)
    assert list(table["lr"]) == [0.1, 0.1, 0.3, 0.3, 0.5, 0.5]
    assert list(table["accuracy"]) == pytest.approx([0.9, 0.9, 0.7, 0.7, 0.5, 0.5])
    # paired over the 6 items: steps changes no item's score (tied with the best); 0.2 lower
    # on each of the 6 items is detectable
    assert list(table["tied_with_best"]) == [True, True, False, False, False, False]
    assert list(table["status"]) == ["FINISHED"] * 6


def test_compare_reproduce_show_and_listings_return_data(make_plugins, tracking_uri, tmp_path):
    plugins = make_plugins()
    a = runner.run("toy", lr=0.1, note="a,b,c,d,e,f", tracking_uri=tracking_uri, plugins=plugins)
    b = runner.run("toy", lr=0.3, note="a,b,c,d,e,f", tracking_uri=tracking_uri, plugins=plugins)
    comparison = runner.compare([a.run_id, b.run_id], tracking_uri=tracking_uri, plugins=plugins)
    assert comparison.params == {"derived": ["0.2", "0.6"], "lr": ["0.1", "0.3"]}
    assert comparison.tests["accuracy"][1].verdict == "A better"
    again = runner.reproduce(a.run_id, tracking_uri=tracking_uri, plugins=plugins)
    assert again.reproduced and again.outcome.run_id != a.run_id
    shown = runner.show("toy", plugins=plugins)
    assert "lr" in {p["name"] for p in shown["params"]}
    types = runner.experiment_types(plugins=plugins)
    assert [t["experiment_types"] for t in types] == [["toy"]]
    registry = tmp_path / "registry.yaml"
    registry.write_text("experiments:\n  toy-fast:\n    type: toy\n    params: {steps: 1}\n")
    assert runner.experiments(registry=registry, plugins=plugins)[0]["status"] == "ok"
    assert runner.run("toy-fast", registry=registry, tracking_uri=tracking_uri,
                      plugins=plugins).params["steps"] == 1


class Interrupts:
    """Ctrl-C while the run executes."""

    @runner.hookimpl
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt


def test_ctrl_c_ends_the_run_killed_and_reraises(make_plugins, tracking_uri):
    with pytest.raises(KeyboardInterrupt):
        runner.run("toy", tracking_uri=tracking_uri,
                   plugins=make_plugins(("interrupts", Interrupts())))
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("toy-experiments")
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["KILLED"]
