"""Sweeps: grid parsing and validation, nested runs, ranking, skip-if-done, parallel workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from runner import InputError
from runner.cli import cli
from runner.registry import Registry, RegistryEntry
from runner.sweeps import expand, parse_grid, plan, run_sweep


def test_grid_values_are_yaml_lists():
    assert parse_grid(["lr=0.1,0.5", "hidden=[32],[64, 32]", "name=a,b"]) == {
        "lr": [0.1, 0.5], "hidden": [[32], [64, 32]], "name": ["a", "b"]}
    assert expand({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.parametrize(("grid", "message"), [
    (["lr"], "--grid expects key=v1,v2"),
    (["lr=0.1,fast"], "grid point toy [lr=fast]: invalid params for toy: lr"),
    (["bogus=1,2"], "bogus: unknown key"),
])
def test_bad_grid_is_one_error_before_anything_runs(make_plugins, grid, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan("toy", grid, plugins=make_plugins(), registry=Registry())


def test_registry_sweep_block_is_used_and_grid_overrides_it(make_plugins):
    registry = Registry(experiments={"toys": RegistryEntry(type="toy", sweep={"lr": [0.1, 0.2], "steps": [1, 2]})})
    points = plan("toys", ["steps=3"], plugins=make_plugins(), registry=registry)
    assert [p.overrides for p in points] == [{"lr": 0.1, "steps": 3}, {"lr": 0.2, "steps": 3}]


def test_sweep_nests_children_ranks_them_and_tags_the_best(make_plugins, tracking_uri):
    plugins = make_plugins()
    points = plan("toy", ["lr=0.3,0.1,0.2"], plugins=plugins, registry=Registry())
    result = run_sweep("toy", points, plugins, tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    parent = client.get_run(result.parent_run_id)
    assert parent.info.status == "FINISHED"
    assert result.best is not None and result.best.params["lr"] == 0.1
    assert parent.data.tags["runner.best_run_id"] == result.best.run_id
    assert parent.data.metrics["best_accuracy"] == pytest.approx(0.9)
    for outcome in result.outcomes:
        child = client.get_run(outcome.run_id)
        assert child.data.tags["mlflow.parentRunId"] == result.parent_run_id
        assert child.data.tags["runner.config_hash"]  # the full provenance of a normal run
        assert len(client.get_metric_history(outcome.run_id, "loss")) == 5
    assert "sweep_results.json" in {a.path for a in client.list_artifacts(result.parent_run_id)}
    table = json.load(open(client.download_artifacts(result.parent_run_id, "sweep_results.json")))
    cost = table["columns"].index("cost_usd")
    assert all(row[cost] > 0 for row in table["data"])  # cost beside the primary metric


def test_done_points_are_skipped_and_force_reruns_them(make_plugins, tracking_uri):
    plugins = make_plugins()
    registry = Registry()
    run_sweep("toy", plan("toy", ["lr=0.1"], plugins=plugins, registry=registry), plugins,
              tracking_uri=tracking_uri)  # an "interrupted" sweep that did one point
    points = plan("toy", ["lr=0.1,0.2,0.3"], plugins=plugins, registry=registry)
    second = run_sweep("toy", points, plugins, tracking_uri=tracking_uri)
    assert [o.status for o in second.outcomes] == ["SKIPPED", "FINISHED", "FINISHED"]
    third = run_sweep("toy", points, plugins, tracking_uri=tracking_uri)
    assert [o.status for o in third.outcomes] == ["SKIPPED"] * 3
    assert third.best is not None and third.best.metrics["accuracy"] == pytest.approx(0.9)
    forced = run_sweep("toy", points, plugins, tracking_uri=tracking_uri, force=True)
    assert [o.status for o in forced.outcomes] == ["FINISHED"] * 3
    client = MlflowClient(tracking_uri)
    children = client.search_runs([client.get_experiment_by_name("toy-experiments").experiment_id],
                                  filter_string="tags.`runner.sweep` = 'toy' and tags.`mlflow.parentRunId` != ''")
    assert len([c for c in children if "mlflow.parentRunId" in c.data.tags]) == 1 + 2 + 3


def test_changed_data_or_config_is_not_skipped(make_plugins, tracking_uri):
    plugins = make_plugins()
    run_sweep("toy", plan("toy", ["lr=0.1"], plugins=plugins, registry=Registry()), plugins, tracking_uri=tracking_uri)
    again = run_sweep("toy", plan("toy", ["lr=0.1"], plugins=plugins, registry=Registry(), overrides=["dataset.rows=5"]),
                      plugins, tracking_uri=tracking_uri)
    assert [o.status for o in again.outcomes] == ["FINISHED"]


def test_cli_dry_run_prints_the_grid_and_runs_nothing(make_plugins, monkeypatch, tmp_path):
    plugins = make_plugins()
    monkeypatch.setattr("runner.cli._plugins", plugins)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/m.db")
    monkeypatch.setenv("RUNNER_REGISTRY", str(tmp_path / "none.yaml"))
    result = CliRunner().invoke(cli, ["sweep", "toy", "--grid", "lr=0.1,0.2", "--grid", "steps=1,2", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"lr": 0.1, "steps": 1}, {"lr": 0.1, "steps": 2},
                                         {"lr": 0.2, "steps": 1}, {"lr": 0.2, "steps": 2}]
    assert not (tmp_path / "m.db").exists()
    bad = CliRunner().invoke(cli, ["sweep", "toy", "--grid", "lr=x,0.2"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: grid point toy [lr=x]")


@pytest.mark.slow
def test_parallel_sweep_on_sqlite_loses_no_run_and_no_metric(tmp_path):
    """8 real scikit-learn runs at --parallel 4 against one sqlite file."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    result = subprocess.run(  # a fresh CLI process, as users run it
        [sys.executable, "-m", "runner", "sweep", "sklearn", "--grid", "C=0.05,0.1,0.2,0.5,1,2,5,10",
         "--set", "cv_folds=3", "--parallel", "4", "--tracking-uri", uri, "--json"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "RUNNER_REGISTRY": str(tmp_path / "none.yaml")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout)
    assert [r["status"] for r in data["runs"]] == ["FINISHED"] * 8
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("ml-experiments")
    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.`mlflow.parentRunId` = '{data['parent_run_id']}'")
    assert len(children) == 8
    expected_metrics = set(data["runs"][0]["metrics"])
    assert {"accuracy", "f1_macro", "cv_accuracy_mean"} <= expected_metrics
    for child in children:
        assert child.info.status == "FINISHED"
        assert set(child.data.metrics) == expected_metrics
        assert child.data.params["C"] in {"0.05", "0.1", "0.2", "0.5", "1.0", "2.0", "5.0", "10.0"}
        assert child.data.tags["runner.model_uri.model"].startswith("models:/")
    accuracies = [r["metrics"]["accuracy"] for r in data["runs"]]
    assert accuracies == sorted(accuracies, reverse=True)  # ranked by the primary metric


@pytest.mark.slow
def test_parallel_sweep_inside_a_threaded_process_still_runs_every_point(tracking_uri, monkeypatch):
    """With another thread alive a fork is unsafe: workers come from a forkserver instead."""
    import multiprocessing
    import threading

    from runner.plugins import load_plugins

    contexts: list[str] = []
    original = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context",
                        lambda method=None: contexts.append(method) or original(method))
    release = threading.Event()
    busy = threading.Thread(target=release.wait)
    busy.start()
    try:
        plugins = load_plugins()
        points = plan("sklearn", ["C=0.1,1"], plugins=plugins, registry=Registry())
        result = run_sweep("sklearn", points, plugins, tracking_uri=tracking_uri, parallel=2)
    finally:
        release.set()
        busy.join()
    assert contexts == ["forkserver"]
    assert [o.status for o in result.outcomes] == ["FINISHED", "FINISHED"]


@pytest.mark.slow
def test_a_bad_data_file_in_one_point_stops_the_sweep_before_any_point_runs(tracking_uri, tmp_path):
    from mlflow import MlflowClient

    from runner.plugins import load_plugins

    good = tmp_path / "good.csv"
    good.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,x,0\n")
    plugins = load_plugins()
    points = plan("sklearn", [f"dataset.path={good},{bad}"], plugins=plugins, registry=Registry())
    with pytest.raises(InputError) as info:
        run_sweep("sklearn", points, plugins, tracking_uri=tracking_uri)
    assert str(info.value).startswith(f"grid point sklearn [dataset.path={bad}]: dataset.path:")
    client = MlflowClient(tracking_uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []
