"""Params validation, --set overrides and the CLI's one-line errors."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from runner import InputError
from runner.cli import cli
from runner.overrides import apply_overrides, flatten, parse_override
from runner.runs import run_experiment


@pytest.mark.parametrize(
    ("item", "expected"),
    [("C=0.3", ("C", 0.3)), ("hidden_units=[32, 16]", ("hidden_units", [32, 16])),
     ("scale=true", ("scale", True)), ("dataset.path=data/x.csv", ("dataset.path", "data/x.csv")),
     ("name=wine", ("name", "wine"))],
)
def test_set_values_are_parsed(item, expected):
    assert parse_override(item) == expected


def test_dotted_overrides_nest_and_flatten_round_trips():
    nested = apply_overrides({"dataset": {"name": "wine"}}, [("dataset.path", "x.csv"), ("C", 1.0)])
    assert nested == {"dataset": {"name": "wine", "path": "x.csv"}, "C": 1.0}
    assert flatten(nested) == {"dataset.name": "wine", "dataset.path": "x.csv", "C": 1.0}


def test_set_without_equals_is_rejected():
    with pytest.raises(InputError, match="key=value"):
        parse_override("C")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"lr": "fast"}, "lr: Input should be a valid number"), ({"nope": 1}, "nope: unknown key"),
     ({"dataset.bogus": 1}, "dataset.bogus: unknown key"), ({"steps": -1}, "steps")],
)
def test_invalid_params_raise_one_line_and_create_no_run(make_plugins, tracking_uri, overrides, message):
    with pytest.raises(InputError) as info:
        run_experiment("toy", overrides, tracking_uri=tracking_uri, plugins=make_plugins())
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    client = MlflowClient(tracking_uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_unknown_name_lists_known_ones(make_plugins, tracking_uri):
    with pytest.raises(InputError, match="unknown experiment 'nope'.*toy"):
        run_experiment("nope", tracking_uri=tracking_uri, plugins=make_plugins())


@pytest.fixture
def cli_env(monkeypatch, tmp_path, make_plugins):
    """The CLI on the toy plugin only, with its own registry and store."""
    plugins = make_plugins()
    monkeypatch.setattr("runner.cli._plugins", plugins)
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "experiments:\n  toy-fast:\n    type: toy\n    description: fast toy\n"
        "    experiment: toys\n    params: {lr: 0.5, dataset: {rows: 4}}\n"
    )
    monkeypatch.setenv("RUNNER_REGISTRY", str(registry))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/cli.db")
    return tmp_path


def test_cli_run_json_reports_run(cli_env):
    result = CliRunner().invoke(cli, ["run", "toy-fast", "--set", "steps=3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"run_id", "experiment", "status", "params", "metrics"}
    assert data["experiment"] == "toys"
    assert data["status"] == "FINISHED"
    assert data["params"]["lr"] == 0.5 and data["params"]["steps"] == 3
    assert data["metrics"]["accuracy"] == pytest.approx(0.5)


def test_cli_run_table_and_names(cli_env):
    result = CliRunner().invoke(
        cli, ["run", "toy", "--run-name", "first", "--experiment-name", "elsewhere"]
    )
    assert result.exit_code == 0, result.output
    assert "FINISHED" in result.stdout and "accuracy" in result.stdout
    client = MlflowClient(f"sqlite:///{cli_env}/cli.db")
    (run,) = client.search_runs([client.get_experiment_by_name("elsewhere").experiment_id])
    assert run.info.run_name == "first"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["run", "toy", "--set", "lr=abc"], "error: invalid params for toy: lr:"),
     (["run", "missing"], "error: unknown experiment 'missing'"),
     (["run", "toy", "--set", "lr"], "error: --set expects key=value"),
     (["show", "missing"], "error: unknown experiment 'missing'")],
)
def test_cli_bad_input_is_one_line_without_traceback(cli_env, args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.strip() == result.stderr.strip().splitlines()[0]
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.output


def test_cli_failed_run_exits_nonzero_with_one_line(cli_env):
    result = CliRunner().invoke(cli, ["run", "toy", "--set", "fail_in=execute", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "FAILED"
    assert "boom in execute" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_list_warns_of_an_entry_whose_type_is_not_installed(cli_env):
    (cli_env / "registry.yaml").write_text("experiments:\n  ghost:\n    type: lightgbm\n")
    listed = json.loads(CliRunner().invoke(cli, ["list", "--json"]).stdout)
    assert listed[0]["status"] == "unknown type 'lightgbm': is its plugin installed?"
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0
    assert result.stderr == ("warning: ghost: experiment type not installed "
                             "(`runner plugins` lists what is)\n")


@pytest.mark.parametrize(("bounds", "json_value", "text"), [
    ((0.0, 1.0), [0.0, 1.0], "[0, 1]"),
    ((0.0, math.inf), [0.0, None], ">= 0"),
    ((-math.inf, 5.0), [None, 5.0], "<= 5"),
    (None, None, ""),
])
def test_show_states_a_metrics_declared_range(bounds, json_value, text):
    from runner.describe import _bounds, _range_text

    assert _bounds(bounds) == json_value
    assert _range_text(_bounds(bounds)) == text
    json.dumps(_bounds(bounds), allow_nan=False)  # strict JSON: no Infinity


def test_cli_list_and_show(cli_env):
    listed = json.loads(CliRunner().invoke(cli, ["list", "--json"]).stdout)
    assert listed == [{"name": "toy-fast", "type": "toy", "description": "fast toy", "experiment": "toys",
                       "status": "ok"}]
    shown = json.loads(CliRunner().invoke(cli, ["show", "toy-fast", "--json"]).stdout)
    params = {p["name"]: p for p in shown["params"]}
    assert params["lr"]["type"] == "float" and params["lr"]["default"] == 0.1
    assert params["lr"]["value"] == 0.5 and params["dataset.rows"]["value"] == 4
    assert params["lr"]["description"] == "learning rate"
    assert shown["metrics"][0] == {"name": "accuracy", "direction": "maximize", "per_step": False,
                                   "description": "1 - lr", "primary": True,
                                   "deterministic": True, "condition": None, "bounds": [0, 1]}
    table = CliRunner().invoke(cli, ["show", "toy"]).stdout
    assert "learning rate" in table and "per step" in table and "[0, 1]" in table
