"""Real training runs through the core, read back from MLflow (marked slow)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from runner import InputError
from runner.runs import run_experiment
from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import DatasetParams
from runner_sklearn.plugin import EXPERIMENT_TYPE

DECLARED = {m.name for m in EXPERIMENT_TYPE.metrics}

pytestmark = pytest.mark.slow


@pytest.fixture
def tracking_uri(tmp_path: Path) -> str:
    """A fresh store (the core keeps its artifacts in mlartifacts/ beside the database)."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def load_logged_model(client: MlflowClient, run_id: str):
    """The model as a user gets it: the URI the core tags, and the classic runs:/ URI."""
    uri = client.get_run(run_id).data.tags["runner.model_uri.model"]
    assert mlflow.pyfunc.load_model(f"runs:/{run_id}/model") is not None
    return mlflow.pyfunc.load_model(uri)


def test_baseline_run_is_complete_in_mlflow(tracking_uri):
    outcome = run_experiment("sklearn", {"C": 1.0, "max_iter": 100}, tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "ml-experiments"
    assert run.data.params["C"] == "1.0" and run.data.params["max_iter"] == "100"
    assert run.data.params["model"] == "logistic_regression"
    assert run.data.params["dataset.name"] == "wine"
    for key in ("accuracy", "f1_macro", "precision_macro", "recall_macro", "roc_auc"):
        assert 0.0 <= run.data.metrics[key] <= 1.0
    assert run.data.metrics["fit_time_sec"] > 0
    assert run.data.metrics["accuracy"] > 0.8  # wine is easy; a broken pipeline is not
    assert run.data.tags["converged"] == "true"

    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "wine"
    assert "target" in dataset_input.dataset.schema

    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"confusion_matrix.png", "classification_report.txt"} <= artifacts
    report = mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/classification_report.txt")
    assert "class_0" in report

    # The logged model reproduces the logged accuracy on the same test split.
    data = load_dataset(DatasetParams())
    parts = split(data.features, data.target, 0.2, 42)
    predictions = load_logged_model(client, outcome.run_id).predict(parts.X_test)
    accuracy = float(np.mean(np.asarray(predictions) == parts.y_test.to_numpy()))
    assert accuracy == pytest.approx(run.data.metrics["accuracy"])


@pytest.mark.parametrize(
    ("overrides", "dataset"),
    [
        ({"model": "random_forest", "n_estimators": 20, "max_depth": 4, "cv_folds": 3}, "iris"),
        ({"model": "gradient_boosting", "n_estimators": 20}, "breast_cancer"),
        ({"model": "svc", "kernel": "rbf", "C": 2.0}, "digits"),
        ({"C": 0.3, "max_iter": 1000, "scale": False}, "wine"),
    ],
)
def test_each_classifier_trains_logs_and_loads(tracking_uri, overrides, dataset):
    outcome = run_experiment(
        "sklearn", {**overrides, "dataset": {"name": dataset}}, tracking_uri=tracking_uri
    )
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.params["model"] == overrides.get("model", "logistic_regression")
    assert run.data.params["dataset.name"] == dataset
    assert "roc_auc" in run.data.metrics
    if overrides.get("cv_folds"):
        for key in ("cv_accuracy_mean", "cv_accuracy_std", "cv_f1_macro_mean", "cv_f1_macro_std"):
            assert key in run.data.metrics
    else:
        assert "cv_accuracy_mean" not in run.data.metrics
    assert set(run.data.metrics) <= DECLARED, set(run.data.metrics) - DECLARED
    data = load_dataset(DatasetParams(name=dataset))
    predictions = load_logged_model(client, outcome.run_id).predict(data.features.iloc[:7])
    assert set(np.asarray(predictions)) <= set(data.classes)


def test_a_solver_stopped_by_max_iter_is_tagged(tracking_uri):
    outcome = run_experiment("sklearn", {"max_iter": 3, "scale": False},
                             tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    assert MlflowClient(tracking_uri).get_run(outcome.run_id).data.tags["converged"] == "false"


def test_csv_dataset_run(tracking_uri, tmp_path):
    data = load_dataset(DatasetParams(name="iris"))
    frame = data.features.assign(species=[data.class_names[i] for i in data.target])
    path = tmp_path / "flowers.csv"
    frame.to_csv(path, index=False)
    outcome = run_experiment(
        "sklearn",
        {"dataset": {"path": str(path), "target": "species"}, "C": 0.5},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.params["dataset.name"] == "csv"
    assert run.data.params["dataset.path"] == str(path)
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "flowers"
    assert str(path) in dataset_input.dataset.source
    predictions = load_logged_model(client, outcome.run_id).predict(frame.drop(columns="species"))
    assert set(predictions) <= {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"dataset": {"name": "mnist"}}, "dataset.name"),
        ({"dataset": {"path": "/nonexistent/data.csv"}}, "no such file"),
        ({"model": "logistic_regression", "n_estimators": 5}, "n_estimators: unknown key"),
        ({"cv_folds": 100}, "cv_folds=100"),
    ],
)
def test_bad_input_creates_no_run(tracking_uri, overrides, fragment):
    with pytest.raises(InputError, match=fragment):
        run_experiment("sklearn", overrides, tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("ml-experiments")
    assert experiment is None or not client.search_runs([experiment.experiment_id])


def test_bad_csv_columns_create_no_run(tracking_uri, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "city": list("abab"), "y": [0, 1, 0, 1]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="not numeric"):
        run_experiment("sklearn", {"dataset": {"path": str(path), "target": "y"}},
                       tracking_uri=tracking_uri)
    with pytest.raises(InputError, match="no column 'label'"):
        run_experiment("sklearn", {"dataset": {"path": str(path), "target": "label"}},
                       tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("ml-experiments")
    assert experiment is None or not client.search_runs([experiment.experiment_id])
