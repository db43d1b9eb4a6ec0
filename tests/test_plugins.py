"""Discovery and isolation: a broken plugin is reported by name and reason; the rest work."""

from __future__ import annotations

import math

import pytest
from pydantic import BaseModel

from runner import ExperimentType, MetricSpec, hookimpl
from runner.plugins import DISABLED_ENV, LOAD_ENV, load_plugins
from runner.runs import run_experiment


class WrongHookArgs:
    @hookimpl
    def runner_execute(self, context):  # type: ignore[no-untyped-def]  # spec says ctx
        pass


class RegistersGarbage:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register({"id": "not-a-type"})


class RaisesInRegister:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        raise ImportError("No module named 'lightgbm'")


class NotAModel:  # pydantic cannot build a schema for this
    pass


class BadSchema:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("bad", NotAModel, "x:Y", "e", "d"))


class MisspelledHook:
    @hookimpl
    def runner_regster_experiment_types(self, register):  # type: ignore[no-untyped-def]
        pass


class MissingImplementation:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("ghost", BaseModel, "runner_no_such_module:Impl", "e", "d"))


class DuplicateToy:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("toy", BaseModel, "x:Y", "e", "d"))


class PrimaryMetricUndeclared:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("typo", BaseModel, "x:Y", "e", "d",
                                metrics=(MetricSpec("accuracy", "maximize", "a"),),
                                primary_metric="acuracy"))


class MetricDeclaredTwice:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        spec = MetricSpec("loss", "minimize", "l")
        register(ExperimentType("twice", BaseModel, "x:Y", "e", "d", metrics=(spec, spec)))


class BadDirection:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("up", BaseModel, "x:Y", "e", "d",
                                metrics=(MetricSpec("loss", "lower", "l"),)))  # type: ignore[arg-type]


class NoHooks:
    pass


class DeclaresBounds:
    def __init__(self, bounds: object) -> None:
        self.bounds = bounds

    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("bounded", BaseModel, NoHooks, "e", "d",
                                metrics=(MetricSpec("accuracy", "maximize", "a",
                                                    bounds=self.bounds),)))  # type: ignore[arg-type]


class DeclaresLedgerMetric:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("costly", BaseModel, "x:Y", "e", "d",
                                metrics=(MetricSpec("cost_usd", "minimize", "c"),)))


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [(WrongHookArgs(), "PluginValidationError"), (RegistersGarbage(), "takes an ExperimentType"),
     (RaisesInRegister(), "lightgbm"), (BadSchema(), "NotAModel"), (DuplicateToy(), "already provided by 'toy'"),
     (MisspelledHook(), "runner_regster_experiment_types"), (MissingImplementation(), "runner_no_such_module"),
     (PrimaryMetricUndeclared(), "primary_metric 'acuracy' names no declared metric"),
     (MetricDeclaredTwice(), "declares metric 'loss' twice"),
     (BadDirection(), "direction must be maximize or minimize, not 'lower'"),
     (DeclaresBounds((1.0, 0.0)), "metric 'accuracy': bounds must be a tuple (low, high)"),
     (DeclaresLedgerMetric(), "declares 'cost_usd', which the core's cost ledger logs")],
)
def test_broken_plugin_is_reported_and_others_keep_working(make_plugins, tracking_uri, plugin, reason):
    plugins = make_plugins(("broken", plugin))
    info = plugins.infos["broken"]
    assert info.status.startswith("broken: ") and reason in info.status
    assert plugins.infos["toy"].status == "ok"
    assert run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins).status == "FINISHED"


@pytest.mark.parametrize(
    "bounds", [(1.0, 0.0), (0.5, 0.5), (0.0, math.nan), (math.inf, math.inf), (0.0,),
               (0.0, 1.0, 2.0), [0.0, 1.0], "0..1", (0.0, "1"), (False, True), 1.0])
def test_metric_bounds_must_be_two_numbers_low_below_high(make_plugins, bounds):
    status = make_plugins(("broken", DeclaresBounds(bounds))).infos["broken"].status
    assert status == ("broken: ValueError: metric 'accuracy': bounds must be a tuple (low, high) "
                      f"of numbers (math.inf allowed, not NaN) with low < high, not {bounds!r}")


@pytest.mark.parametrize("bounds", [(0, 1), (0.0, math.inf), (-1.0, 1.0), (-math.inf, 0.0), None])
def test_metric_bounds_that_are_a_range_are_accepted(make_plugins, bounds):
    assert make_plugins(("bounded", DeclaresBounds(bounds))).infos["bounded"].status == "ok"


def test_plugin_info_lists_hooks_and_types(make_plugins):
    plugins = make_plugins()
    info = plugins.infos["toy"].as_dict()
    assert info["experiment_types"] == ["toy"]
    assert info["hooks"] == ["runner_evaluate", "runner_execute", "runner_log", "runner_prepare",
                             "runner_register_experiment_types"]  # the implementation's hooks too
    assert plugins.infos["tracking"].builtin
    assert "runner_finish" in plugins.infos["tracking"].hooks


def test_installed_first_party_plugins_are_discovered(monkeypatch):
    monkeypatch.delenv(LOAD_ENV, raising=False)
    monkeypatch.delenv(DISABLED_ENV, raising=False)
    plugins = load_plugins()
    assert {"sklearn", "torch-mlp", "llm-prompt", "rag"} <= set(plugins.types)
    assert plugins.infos["tracking"].dist == "runner-core"
    for name in ("sklearn", "torch", "llm", "rag"):
        assert plugins.infos[name].status == "ok"
        assert plugins.infos[name].dist == f"runner-{'llm' if name == 'llm' else name}"


def test_allow_list_and_block_list(monkeypatch):
    monkeypatch.setenv(LOAD_ENV, "sklearn")
    assert set(load_plugins().types) == {"sklearn"}
    monkeypatch.delenv(LOAD_ENV)
    monkeypatch.setenv(DISABLED_ENV, "sklearn, llm")
    loaded = load_plugins()
    assert "sklearn" not in loaded.types and "llm-prompt" not in loaded.types
    assert "sklearn" not in loaded.infos


def test_hook_tracing_env_prints_hook_calls(monkeypatch, capsys, make_plugins, tracking_uri):
    monkeypatch.setenv("RUNNER_TRACE_HOOKS", "1")
    run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins())
    assert "runner_execute" in capsys.readouterr().err


class TypoImplementation:
    @hookimpl
    def runner_evalute(self, ctx):  # type: ignore[no-untyped-def]
        pass


class DeclaresTypo:
    @hookimpl
    def runner_register_experiment_types(self, register):  # type: ignore[no-untyped-def]
        register(ExperimentType("typo", BaseModel, TypoImplementation, "typos", "misspelled hook"))


def test_misspelled_implementation_hook_is_a_plugin_error_and_no_run(make_plugins, tracking_uri):
    from mlflow import MlflowClient

    from runner.errors import PluginError

    plugins = make_plugins(("typo", DeclaresTypo()))
    assert "runner_evalute" in plugins.infos["typo"].hooks  # listed, so a user can spot it
    with pytest.raises(PluginError, match="runner_evalute"):
        run_experiment("typo", tracking_uri=tracking_uri, plugins=plugins)
    assert not plugins.manager.has_plugin("typo:implementation")
    client = MlflowClient(tracking_uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


def test_metric_spec_direction_ranks_best_first():
    accuracy, loss = MetricSpec("accuracy", "maximize", "a"), MetricSpec("loss", "minimize", "l")
    values = [0.5, None, 0.9, float("nan"), 0.7]
    assert sorted(values, key=accuracy.sort_key)[:3] == [0.9, 0.7, 0.5]
    assert sorted(values, key=loss.sort_key)[:3] == [0.5, 0.7, 0.9]
    assert accuracy.best([0.5, 0.9]) == 0.9 and loss.best([0.5, 0.9]) == 0.5
    assert accuracy.is_better(0.9, than=0.5) and loss.is_better(0.5, than=0.9)
