"""--repeat: seeds as children of one parent carrying each metric's mean, std and 95% CI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from runner import InputError
from runner.api import run, sweep
from runner.cli import cli
from runner.stats import summarize
from runner.store import names


def children(tracking_uri: str, parent: str) -> list:
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("toy-experiments")
    return client.search_runs([experiment.experiment_id],
                              filter_string=f"tags.`mlflow.parentRunId` = '{parent}'")


def test_run_repeat_logs_seeds_as_children_and_their_summary_on_the_parent(
        make_plugins, tracking_uri):
    result = run("toy", repeat=3, lr=0.2, tracking_uri=tracking_uri, plugins=make_plugins())
    assert result.status == "FINISHED" and len(result.repeats) == 3
    kids = children(tracking_uri, result.run_id)
    assert sorted(int(r.data.params["seed"]) for r in kids) == [7, 8, 9]
    assert sorted(r.data.tags[names.REPEAT_INDEX_TAG] for r in kids) == ["0", "1", "2"]
    assert {r.info.status for r in kids} == {"FINISHED"}
    accuracies = [r.data.metrics["accuracy"] for r in kids]
    assert len(set(accuracies)) == 3  # the toy's accuracy moves with the seed
    expected = summarize(accuracies)
    parent = MlflowClient(tracking_uri).get_run(result.run_id)
    assert parent.data.tags[names.REPEATS_TAG] == "3"
    assert parent.data.metrics["accuracy_mean"] == pytest.approx(expected.mean)
    assert parent.data.metrics["accuracy_std"] == pytest.approx(expected.std)
    assert parent.data.metrics["accuracy_ci_low"] == pytest.approx(expected.ci_low)
    assert parent.data.metrics["accuracy_ci_high"] == pytest.approx(expected.ci_high)
    assert "eval_time_sec_mean" not in parent.data.metrics  # not deterministic: no summary
    assert result.metrics.items() <= parent.data.metrics.items()
    assert set(result.metrics) == {f"{m}_{s}" for m in ("accuracy", "loss")
                                   for s in ("mean", "std", "ci_low", "ci_high")}

    again = run("toy", repeat=3, lr=0.2, tracking_uri=tracking_uri, plugins=make_plugins())
    assert [o.status for o in again.repeats] == ["SKIPPED"] * 3  # skip-if-done per seed
    assert again.metrics["accuracy_mean"] == pytest.approx(expected.mean)
    more = run("toy", repeat=4, lr=0.2, tracking_uri=tracking_uri, plugins=make_plugins())
    assert [o.status for o in more.repeats] == ["SKIPPED"] * 3 + ["FINISHED"]


def test_sweep_repeat_gives_each_point_its_own_parent_ranked_by_mean(make_plugins, tracking_uri):
    result = sweep("toy", {"lr": [0.5, 0.1], "steps": [1]}, repeat=6,
                   tracking_uri=tracking_uri, plugins=make_plugins())
    assert [g.label for g in result.groups] == ["lr=0.1, steps=1", "lr=0.5, steps=1"]
    best, worst = result.groups
    assert best.tied_with_best and not worst.tied_with_best  # 0.4 apart on each of 6 seeds
    for group in result.groups:
        kids = children(tracking_uri, group.run_id)
        assert len(kids) == 6
        group_run = MlflowClient(tracking_uri).get_run(group.run_id)
        assert group_run.data.tags[names.PARENT_RUN_TAG] == result.parent_run_id
        assert group_run.info.status == "FINISHED"
        assert group_run.data.metrics["accuracy_mean"] == pytest.approx(
            summarize([k.data.metrics["accuracy"] for k in kids]).mean)
    table = result.table
    assert list(table["lr"]) == [0.1, 0.5] and list(table["repeats"]) == [6, 6]
    assert table["accuracy_ci_low"][0] < table["accuracy_mean"][0] < table["accuracy_ci_high"][0]


def test_repeat_ci_stays_within_the_metrics_bounds_in_mlflow_and_the_sweep_table(
        make_plugins, tracking_uri, monkeypatch):
    # lr 0.01: seeds 7, 8, 9 score 0.99, 0.994, 0.998; the t interval's upper end is ~1.004
    result = run("toy", repeat=3, lr=0.01, tracking_uri=tracking_uri, plugins=make_plugins())
    accuracies = sorted(o.metrics["accuracy"] for o in result.repeats)
    assert accuracies == pytest.approx([0.99, 0.994, 0.998])
    free = summarize(accuracies)
    assert free.ci_high > 1.0  # what an undeclared range would report
    parent = MlflowClient(tracking_uri).get_run(result.run_id).data.metrics
    assert parent["accuracy_ci_high"] == 1.0 == result.summaries["accuracy"].ci_high
    assert parent["accuracy_ci_low"] == pytest.approx(free.ci_low)
    assert parent["accuracy_mean"] == pytest.approx(free.mean)  # the mean is never clipped
    assert parent["accuracy_std"] == pytest.approx(free.std)

    swept = sweep("toy", {"lr": [0.01, 0.5]}, repeat=3, tracking_uri=tracking_uri,
                  plugins=make_plugins())
    assert swept.groups[0].summaries["accuracy"].ci_high == 1.0
    assert swept.table["accuracy_ci_high"][0] == 1.0
    monkeypatch.setattr("runner.cli._plugins", make_plugins())
    monkeypatch.setenv("COLUMNS", "200")  # rich folds cells to the terminal's width
    shown = CliRunner().invoke(cli, ["sweep", "toy", "--grid", "lr=0.01,0.5", "--repeat", "3",
                                     "--tracking-uri", tracking_uri])
    assert shown.exit_code == 0, shown.output
    assert f"[{free.ci_low:.4f}, 1.0000]" in shown.stdout  # the table's 95% CI column


def test_points_no_different_over_seeds_are_tied_with_the_best(make_plugins, tracking_uri):
    result = sweep("toy", {"steps": [1, 2]}, repeat=3, tracking_uri=tracking_uri,
                   plugins=make_plugins())
    assert [g.tied_with_best for g in result.groups] == [True, True]


def test_cli_sweep_repeat_prints_means_with_ci_and_json(make_plugins, tracking_uri, monkeypatch):
    monkeypatch.setattr("runner.cli._plugins", make_plugins())
    shown = CliRunner().invoke(cli, ["sweep", "toy", "--grid", "lr=0.1,0.5", "--repeat", "2",
                                     "--tracking-uri", tracking_uri])
    assert shown.exit_code == 0, shown.output
    assert "accuracy_mean" in shown.stdout and "95% CI" in shown.stdout and "≈ best" in shown.stdout
    out = CliRunner().invoke(cli, ["run", "toy", "--repeat", "2", "--tracking-uri", tracking_uri,
                                   "--json"])
    data = json.loads(out.stdout)
    assert set(data["summaries"]) == {"accuracy", "loss"} and len(data["repeats"]) == 2


def test_repeat_refuses_a_grid_over_seed(make_plugins):
    with pytest.raises(InputError, match="do not also sweep seed"):
        sweep("toy", {"seed": [1, 2]}, repeat=2, plugins=make_plugins())


def test_compare_pairs_two_repeated_runs_seed_by_seed(make_plugins, tracking_uri):
    from runner.api import compare

    plugins = make_plugins()
    good = run("toy", repeat=6, lr=0.1, tracking_uri=tracking_uri, plugins=plugins)
    worse = run("toy", repeat=6, lr=0.3, tracking_uri=tracking_uri, plugins=plugins)
    again = run("toy", repeat=6, lr=0.1, tracking_uri=tracking_uri, plugins=plugins)
    assert {o.status for o in again.repeats} == {"SKIPPED"}
    test = compare([good.run_id, worse.run_id], tracking_uri=tracking_uri,
                   plugins=plugins).tests["accuracy"][1]
    assert test.n == 6 and test.difference == pytest.approx(-0.2) and test.verdict == "A better"
    # a parent whose seeds were all skipped still pairs them (read from its results table)
    same = compare([good.run_id, again.run_id], tracking_uri=tracking_uri,
                   plugins=plugins).tests["accuracy"][1]
    assert same.verdict == "no detectable difference at n=6"
