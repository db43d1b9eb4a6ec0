"""Uniform logging: read the run back with MlflowClient and check everything the core writes."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from runner.recorder import FLUSH_POINTS
from runner.runs import run_experiment
from runner.store.mlflow_store import MAX_PARAM_LENGTH


def test_params_metrics_artifacts_and_tags_are_logged(make_plugins, tracking_uri):
    outcome = run_experiment(
        "toy", {"dataset.rows": 9, "lr": 0.25}, tracking_uri=tracking_uri, plugins=make_plugins()
    )
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["lr"] == "0.25"
    assert params["dataset.rows"] == "9"  # nested params flattened with dotted keys
    assert params["dataset.name"] == "toy"
    assert params["derived"] == "0.5"
    assert run.data.metrics["accuracy"] == pytest.approx(0.75)
    history = client.get_metric_history(outcome.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(5)]
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"config.json", "response.txt", "items.json"} <= artifacts
    tags = run.data.tags
    assert tags["runner.experiment_type"] == "toy"
    assert tags["runner.plugin"] == "toy"
    assert tags["runner.seed"] == "7"
    assert len(tags["runner.config_hash"]) == 16
    assert tags["runner.python"].count(".") == 2


def _git(repo, *args):
    import subprocess

    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                   check=True, capture_output=True)


def test_git_provenance_inside_and_outside_a_work_tree(make_plugins, tracking_uri, tmp_path,
                                                       monkeypatch):
    client = MlflowClient(tracking_uri)
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repo above tmp_path counts
    monkeypatch.chdir(outside)
    tags = client.get_run(run_experiment("toy", tracking_uri=tracking_uri,
                                         plugins=make_plugins()).run_id).data.tags
    assert "mlflow.source.git.commit" not in tags and "runner.code_version" not in tags

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "code.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "c")
    monkeypatch.chdir(repo)
    clean = client.get_run(run_experiment("toy", tracking_uri=tracking_uri,
                                          plugins=make_plugins()).run_id).data.tags
    commit = clean["mlflow.source.git.commit"]
    assert len(commit) == 40 and clean["runner.git.dirty"] == "false"
    assert clean["runner.code_version"] == commit
    (repo / "code.py").write_text("x = 2\n")
    dirty = client.get_run(run_experiment("toy", tracking_uri=tracking_uri,
                                          plugins=make_plugins()).run_id).data.tags
    assert dirty["runner.git.dirty"] == "true"
    assert dirty["runner.code_version"].startswith(f"{commit}+dirty.")


def test_config_artifact_is_complete_enough_to_rerun(make_plugins, tracking_uri):
    outcome = run_experiment("toy", {"steps": 2}, tracking_uri=tracking_uri, plugins=make_plugins())
    client = MlflowClient(tracking_uri)
    config = json.loads(open(client.download_artifacts(outcome.run_id, "config.json")).read())
    assert config["experiment_type"] == "toy"
    assert config["experiment"] == "toy-experiments"
    assert config["params"]["steps"] == 2
    assert config["params"]["dataset"] == {"name": "toy", "rows": 3}


def test_too_long_param_is_a_pointer_and_kept_whole_in_config(make_plugins, tracking_uri):
    note = "x" * (MAX_PARAM_LENGTH + 10)
    outcome = run_experiment("toy", {"note": note}, tracking_uri=tracking_uri, plugins=make_plugins())
    client = MlflowClient(tracking_uri)
    assert "see config.json" in client.get_run(outcome.run_id).data.params["note"]
    config = json.loads(open(client.download_artifacts(outcome.run_id, "config.json")).read())
    assert config["params"]["note"] == note


def test_long_curves_are_written_in_batches_not_per_step(make_plugins, tracking_uri, monkeypatch):
    from mlflow import MlflowClient as Client

    batches: list[int] = []
    original = Client.log_batch

    def counting(self, run_id, metrics=(), params=(), tags=(), **kwargs):  # type: ignore[no-untyped-def]
        batches.append(len(metrics))
        return original(self, run_id, metrics=metrics, params=params, tags=tags, **kwargs)

    def forbidden(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a metric was logged with one MLflow call")

    monkeypatch.setattr(Client, "log_batch", counting)
    monkeypatch.setattr(Client, "log_metric", forbidden)
    steps = 2 * FLUSH_POINTS + 10
    outcome = run_experiment("toy", {"steps": steps}, tracking_uri=tracking_uri, plugins=make_plugins())
    history = MlflowClient(tracking_uri).get_metric_history(outcome.run_id, "loss")
    assert len(history) == steps
    from runner.builtin.ledger import LEDGER_METRICS

    # every point, the two final metrics and the cost ledger, each written once
    assert sum(batches) == steps + 2 + len(LEDGER_METRICS)
    assert len([b for b in batches if b]) <= steps // 1000 + 4  # full chunks of 1,000


def test_writes_retry_what_parallel_writers_run_into():
    from mlflow.exceptions import MlflowException

    from runner.store.mlflow_store import is_transient, retry_locked

    assert is_transient(MlflowException("(sqlite3.OperationalError) database is locked"))
    assert is_transient(MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.digest"))
    assert not is_transient(MlflowException("Changing param values is not allowed"))
    calls: list[int] = []

    @retry_locked
    def insert_dataset() -> str:
        calls.append(1)
        if len(calls) == 1:  # a parallel run inserted the same dataset between check and insert
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.digest")
        return "reused"

    assert insert_dataset() == "reused" and len(calls) == 2


def test_params_that_take_no_effect_are_not_mlflow_params_but_stay_in_config(make_plugins, tracking_uri):
    client = MlflowClient(tracking_uri)
    quiet = run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins())
    assert "note" not in client.get_run(quiet.run_id).data.params
    config = json.loads(open(client.download_artifacts(quiet.run_id, "config.json")).read())
    assert config["params"]["note"] == ""
    noted = run_experiment("toy", {"note": "hi"}, tracking_uri=tracking_uri, plugins=make_plugins())
    assert client.get_run(noted.run_id).data.params["note"] == "hi"


def test_default_run_names_say_what_ran(make_plugins, tracking_uri, tmp_path):
    from runner.config import resolve
    from runner.registry import load_registry
    from runner.runs import execute

    registry = tmp_path / "registry.yaml"
    registry.write_text("experiments:\n  toy-fast:\n    type: toy\n    params: {lr: 0.5}\n")
    plugins = make_plugins()
    client = MlflowClient(tracking_uri)

    def name_of(name, overrides=(), **kwargs):
        resolved = resolve(name, overrides, plugins=plugins, registry=load_registry(registry))
        return client.get_run(execute(resolved, plugins, tracking_uri=tracking_uri, **kwargs).run_id).info.run_name

    assert name_of("toy-fast") == "toy-fast"
    assert name_of("toy-fast", ["lr=0.5"]) == "toy-fast"  # the same as the entry: no difference
    assert name_of("toy-fast", ["lr=0.2", "dataset.rows=4"]) == "toy-fast lr=0.2 dataset.rows=4"
    assert name_of("toy", {"note": "x" * 200}).endswith("…")
    assert len(name_of("toy", {"note": "x" * 200})) == 80
    assert name_of("toy-fast", ["lr=0.2"], run_name="mine") == "mine"  # --run-name wins


def test_two_runs_open_at_once_in_one_process_do_not_mix(make_plugins, tracking_uri):
    """No fluent "active run": two runs interleave in one process (a warm worker runs many)."""
    import threading

    from runner import hookimpl

    both_started = threading.Barrier(2, timeout=60)

    class Interleave:
        @hookimpl
        def runner_execute(self, ctx):  # type: ignore[no-untyped-def]
            both_started.wait()  # both MLflow runs exist now
            with ctx.trace("call", inputs={"lr": ctx.params.lr}) as span:
                span.set_outputs({"lr": ctx.params.lr})

    plugins = make_plugins(("interleave", Interleave()))
    outcomes: dict[float, object] = {}

    def run(lr: float, experiment: str) -> None:
        outcomes[lr] = run_experiment("toy", {"lr": lr}, tracking_uri=tracking_uri,
                                      experiment_name=experiment, plugins=plugins)

    threads = [threading.Thread(target=run, args=(0.1, "first")),
               threading.Thread(target=run, args=(0.3, "second"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    import mlflow

    mlflow.flush_trace_async_logging()
    client = MlflowClient(tracking_uri)
    for lr, experiment in ((0.1, "first"), (0.3, "second")):
        run = client.get_run(outcomes[lr].run_id)
        assert run.info.status == "FINISHED"
        assert run.info.experiment_id == client.get_experiment_by_name(experiment).experiment_id
        assert run.data.params["lr"] == str(lr)
        assert run.data.metrics["accuracy"] == pytest.approx(1 - lr)
        (trace,) = mlflow.search_traces(run_id=run.info.run_id, locations=[run.info.experiment_id],
                                        return_type="list")
        assert trace.data.spans[0].outputs == {"lr": lr}


def test_a_drivers_code_version_wins_on_workers(make_plugins, tracking_uri, monkeypatch):
    """Ray workers on other hosts record the driver's code version (same content key)."""
    monkeypatch.setenv("RUNNER_CODE_VERSION", "abc123+dirty.0f0f")
    outcome = run_experiment("toy", tracking_uri=tracking_uri, plugins=make_plugins())
    tags = MlflowClient(tracking_uri).get_run(outcome.run_id).data.tags
    assert tags["runner.code_version"] == "abc123+dirty.0f0f"
