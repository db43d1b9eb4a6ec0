"""The hook contract: phase order, wrappers seeing every phase, failures and interrupts."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from mlflow import MlflowClient

from runner import InputError, hookimpl
from runner.runs import run_experiment

PHASES = ["prepare", "execute", "evaluate", "log"]


class Observer:
    """A user's cross-cutting plugin: wraps every phase and sees the finish."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def _wrap(self, phase: str) -> Generator[None, None, None]:
        self.events.append(f"before {phase}")
        yield
        self.events.append(f"after {phase}")

    @hookimpl(wrapper=True)
    def runner_prepare(self, ctx):  # type: ignore[no-untyped-def]
        return (yield from self._wrap("prepare"))

    @hookimpl(wrapper=True)
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        return (yield from self._wrap("execute"))

    @hookimpl(wrapper=True)
    def runner_evaluate(self, ctx):  # type: ignore[no-untyped-def]
        return (yield from self._wrap("evaluate"))

    @hookimpl(wrapper=True)
    def runner_log(self, ctx):  # type: ignore[no-untyped-def]
        return (yield from self._wrap("log"))

    @hookimpl
    def runner_finish(self, ctx, error):  # type: ignore[no-untyped-def]
        self.events.append(f"finish {ctx.status} {type(error).__name__ if error else None}")


def test_wrapper_plugin_sees_every_phase_in_order(make_plugins, tracking_uri):
    observer = Observer()
    plugins = make_plugins(("observer", observer))
    outcome = run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins)
    assert outcome.status == "FINISHED"
    expected = [e for p in PHASES for e in (f"before {p}", f"after {p}")]
    assert observer.events == expected + ["finish FINISHED None"]


def test_implementation_is_registered_only_during_its_run(make_plugins, tracking_uri):
    plugins = make_plugins()
    before = set(dict(plugins.manager.list_name_plugin()))
    run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins)
    assert set(dict(plugins.manager.list_name_plugin())) == before


@pytest.mark.parametrize("phase", ["execute", "evaluate", "log"])
def test_failing_phase_ends_run_failed_and_keeps_earlier_results(make_plugins, tracking_uri, phase):
    outcome = run_experiment("toy", {"fail_in": phase}, tracking_uri=tracking_uri, plugins=make_plugins())
    assert outcome.status == "FAILED"
    assert f"boom in {phase}" in (outcome.error or "")
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FAILED"
    assert run.data.params["derived"] == "0.2"
    assert len(client.get_metric_history(outcome.run_id, "loss")) == 5
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"error.txt", "config.json"} <= artifacts
    error_text = client.download_artifacts(outcome.run_id, "error.txt")
    assert f"boom in {phase}" in open(error_text).read()
    if phase in ("execute", "log"):  # evaluate ran (on partial results after execute failed)
        assert run.data.metrics["accuracy"] == pytest.approx(0.9)
    assert run.data.tags["runner.failed_phase"] == phase


class PartialRecorder:
    """Sees what the core passes to evaluate and log after a failure."""

    def __init__(self) -> None:
        self.partial: dict[str, bool] = {}

    @hookimpl
    def runner_evaluate(self, ctx):  # type: ignore[no-untyped-def]
        self.partial["evaluate"] = ctx.partial

    @hookimpl
    def runner_log(self, ctx):  # type: ignore[no-untyped-def]
        self.partial["log"] = ctx.partial


def test_after_a_failed_execute_the_core_evaluates_and_logs_partial_results(make_plugins, tracking_uri):
    observer, recorder = Observer(), PartialRecorder()
    plugins = make_plugins(("observer", observer), ("recorder", recorder))
    outcome = run_experiment("toy", {"fail_in": "execute"}, tracking_uri=tracking_uri, plugins=plugins)
    assert outcome.status == "FAILED" and "boom in execute" in (outcome.error or "")
    assert recorder.partial == {"evaluate": True, "log": True}
    # observers see every phase that ran, once: execute raised, evaluate and log still ran
    assert observer.events == [
        "before prepare", "after prepare", "before execute",
        "before evaluate", "after evaluate", "before log", "after log",
        "finish FAILED RuntimeError",
    ]
    artifacts = {a.path for a in MlflowClient(tracking_uri).list_artifacts(outcome.run_id)}
    assert {"response.txt", "items.json", "error.txt"} <= artifacts  # runner_log's work is kept


class FailsOnPartial:
    @hookimpl
    def runner_evaluate(self, ctx):  # type: ignore[no-untyped-def]
        if ctx.partial:
            raise ValueError("nothing to evaluate")


def test_an_error_on_partial_results_is_tagged_and_never_hides_the_first(make_plugins, tracking_uri):
    plugins = make_plugins(("fails-on-partial", FailsOnPartial()))
    outcome = run_experiment("toy", {"fail_in": "execute"}, tracking_uri=tracking_uri, plugins=plugins)
    assert outcome.status == "FAILED" and "boom in execute" in (outcome.error or "")
    tags = MlflowClient(tracking_uri).get_run(outcome.run_id).data.tags
    assert tags["runner.partial_error"] == "runner_evaluate: ValueError: nothing to evaluate"


def test_a_failed_prepare_evaluates_nothing(make_plugins, tracking_uri):
    recorder = PartialRecorder()
    outcome = run_experiment("toy", {"fail_in": "prepare"}, tracking_uri=tracking_uri,
                             plugins=make_plugins(("recorder", recorder)))
    assert outcome.status == "FAILED" and recorder.partial == {}


def test_a_skipped_run_reaches_finish_observers_as_skipped(make_plugins, tracking_uri):
    from runner.config import resolve
    from runner.registry import Registry
    from runner.runs import execute

    observer = Observer()
    plugins = make_plugins(("observer", observer))
    resolved = resolve("toy", plugins=plugins, registry=Registry())
    first = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    observer.events.clear()
    again = execute(resolved, plugins, tracking_uri=tracking_uri, skip_if_done=True)
    assert (again.status, again.run_id) == ("SKIPPED", first.run_id)
    assert again.metrics["accuracy"] == pytest.approx(0.9)  # the earlier run's results
    assert observer.events == ["before prepare", "after prepare", "finish SKIPPED None"]
    client = MlflowClient(tracking_uri)
    assert len(client.search_runs([client.get_experiment_by_name("toy-experiments").experiment_id])) == 1


def test_unexpected_error_in_prepare_still_creates_a_failed_run(make_plugins, tracking_uri):
    outcome = run_experiment("toy", {"fail_in": "prepare"}, tracking_uri=tracking_uri, plugins=make_plugins())
    run = MlflowClient(tracking_uri).get_run(outcome.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["runner.experiment_type"] == "toy"


class RejectsInput:
    @hookimpl
    def runner_prepare(self, ctx):  # type: ignore[no-untyped-def]
        raise InputError("data file missing.csv does not exist")


def test_input_error_in_prepare_creates_no_run(make_plugins, tracking_uri):
    plugins = make_plugins(("rejects", RejectsInput()))
    with pytest.raises(InputError, match="missing.csv"):
        run_experiment("toy", tracking_uri=tracking_uri, plugins=plugins)
    client = MlflowClient(tracking_uri)
    assert client.search_runs([e.experiment_id for e in client.search_experiments()]) == []


class Interrupts:
    @hookimpl
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        ctx.log_metric("loss", 0.5, step=0)
        raise KeyboardInterrupt


def test_ctrl_c_ends_run_killed_and_keeps_results(make_plugins, tracking_uri):
    observer = Observer()
    plugins = make_plugins(("interrupts", Interrupts()), ("observer", observer))
    with pytest.raises(KeyboardInterrupt):
        run_experiment("toy", {"steps": 0}, tracking_uri=tracking_uri, plugins=plugins)
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("toy-experiments").experiment_id])
    assert run.info.status == "KILLED"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == [0.5]
    assert observer.events[-1] == "finish KILLED KeyboardInterrupt"


class Notifier:
    """A user's plugin that adds to the run once it is over."""

    @hookimpl
    def runner_finish(self, ctx, error):  # type: ignore[no-untyped-def]
        ctx.set_tag("notified.status", ctx.status)
        ctx.log_metric("notified", 1.0)


def test_finish_implementations_see_the_status_and_can_still_log(make_plugins, tracking_uri):
    outcome = run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins(("notifier", Notifier())))
    run = MlflowClient(tracking_uri).get_run(outcome.run_id)
    assert run.data.tags["notified.status"] == "FINISHED"
    assert run.data.metrics["notified"] == 1.0
    assert run.info.status == "FINISHED"


class InterruptedTwice:
    """Ctrl-C in execute, and again while the core evaluates the partial results."""

    @hookimpl
    def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    @hookimpl
    def runner_evaluate(self, ctx):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt


def test_a_second_ctrl_c_during_partial_results_still_ends_the_run_killed(make_plugins, tracking_uri):
    observer = Observer()
    with pytest.raises(KeyboardInterrupt):
        run_experiment("toy", tracking_uri=tracking_uri,
                       plugins=make_plugins(("twice", InterruptedTwice()), ("observer", observer)))
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("toy-experiments").experiment_id])
    assert run.info.status == "KILLED"
    assert observer.events[-1] == "finish KILLED KeyboardInterrupt"
