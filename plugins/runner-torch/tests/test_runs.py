"""Real torch-mlp runs through the core, read back from MLflow (marked slow)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from runner import InputError
from runner.runs import run_experiment
from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import DatasetParams
from runner_torch.plugin import EXPERIMENT_TYPE

pytestmark = pytest.mark.slow

CURVES = ("loss", "val_loss", "val_accuracy")


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    """A fresh store (the core keeps its artifacts in mlartifacts/ beside the database)."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_run_logs_curves_metrics_model_and_dataset(tracking_uri):
    outcome = run_experiment("torch-mlp", {"epochs": 6, "hidden_units": [16]},
                             tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "nn-experiments"
    assert run.data.params["hidden_units"] == "[16]"
    assert run.data.params["epochs"] == "6" and run.data.params["optimizer"] == "adam"
    assert run.data.metrics["epochs_run"] == 6
    for key in CURVES:
        history = client.get_metric_history(outcome.run_id, key)
        assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(1, 7))
    for key in ("accuracy", "f1_macro", "roc_auc"):
        assert 0.0 <= run.data.metrics[key] <= 1.0
    assert run.data.metrics["train_time_sec"] > 0
    declared = {m.name for m in EXPERIMENT_TYPE.metrics}
    assert set(run.data.metrics) <= declared, set(run.data.metrics) - declared
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "wine"
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"loss_curve.png", "confusion_matrix.png", "classification_report.txt"} <= artifacts

    # The logged model takes raw float32 features and reproduces the logged test accuracy.
    data = load_dataset(DatasetParams())
    labels = data.target.map({label: i for i, label in enumerate(data.classes)})
    parts = split(data.features, labels, 0.2, 42)
    X_test = parts.X_test.to_numpy(np.float32)
    for uri in (run.data.tags["runner.model_uri.model"], f"runs:/{outcome.run_id}/model"):
        proba = np.asarray(mlflow.pyfunc.load_model(uri).predict(X_test))
        assert proba.shape == (len(X_test), 3)
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        accuracy = float(np.mean(proba.argmax(axis=1) == parts.y_test.to_numpy()))
        assert accuracy == pytest.approx(run.data.metrics["accuracy"])


def test_same_seed_same_params_same_metrics(tracking_uri):
    overrides = {"epochs": 5, "dropout": 0.2, "hidden_units": [24, 12], "seed": 3}
    first, again = (run_experiment("torch-mlp", overrides, tracking_uri=tracking_uri)
                    for _ in range(2))
    other = run_experiment("torch-mlp", {**overrides, "seed": 4}, tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)

    def results(run_id: str) -> tuple[dict, list]:
        metrics = dict(client.get_run(run_id).data.metrics)
        metrics.pop("train_time_sec")
        curves = [(m.step, m.value) for key in CURVES
                  for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]
        return metrics, curves

    assert results(first.run_id) == results(again.run_id)
    assert results(first.run_id)[1] != results(other.run_id)[1]


def test_early_stopping_history_length_is_epochs_run(tracking_uri):
    outcome = run_experiment(
        "torch-mlp",
        {"epochs": 300, "lr": 0.05, "early_stopping_patience": 3, "dataset": {"name": "iris"}},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    epochs_run = int(outcome.metrics["epochs_run"])
    assert epochs_run < 300
    client = MlflowClient(tracking_uri)
    for key in CURVES:
        assert len(client.get_metric_history(outcome.run_id, key)) == epochs_run


def test_csv_dataset_run(tracking_uri, tmp_path):
    data = load_dataset(DatasetParams(name="breast_cancer"))
    path = tmp_path / "tumours.csv"
    data.features.assign(diagnosis=[data.class_names[i] for i in data.target]).to_csv(
        path, index=False
    )
    outcome = run_experiment(
        "torch-mlp", {"epochs": 3, "dataset": {"path": str(path), "target": "diagnosis"}},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    run = MlflowClient(tracking_uri).get_run(outcome.run_id)
    assert run.data.params["dataset.path"] == str(path)
    assert run.inputs.dataset_inputs[0].dataset.name == "tumours"
    report = mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/classification_report.txt")
    assert "malignant" in report and "benign" in report


def test_bad_dataset_creates_no_run(tracking_uri, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,x,0\n2,y,1\n")
    with pytest.raises(InputError, match="not numeric"):
        run_experiment("torch-mlp", {"dataset": {"path": str(path)}}, tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="no such file"):
        run_experiment("torch-mlp", {"dataset": {"path": str(tmp_path / "nope.csv")}},
                       tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("nn-experiments")
    assert experiment is None or not client.search_runs([experiment.experiment_id])
