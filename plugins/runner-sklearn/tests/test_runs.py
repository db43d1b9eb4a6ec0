"""Real training runs through the core, read back from MLflow (marked slow).

``tracking_uri`` is the core's fixture (``runner.testing``): a fresh store, cwd moved beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from runner import InputError
from runner.runs import run_experiment
from runner.store.names import FAILED_PHASE_TAG, MODEL_URI_TAG_PREFIX, PARTIAL_ERROR_TAG
from runner.builtin.ledger import LEDGER_METRICS
from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import DatasetParams
from runner_sklearn.plugin import EXPERIMENT_TYPE

#: What a run may log: the type's declared metrics and the core's cost ledger.
DECLARED = {m.name for m in (*EXPERIMENT_TYPE.metrics, *LEDGER_METRICS)}
CV_METRICS = {"cv_accuracy_mean", "cv_accuracy_std", "cv_f1_macro_mean", "cv_f1_macro_std"}

pytestmark = pytest.mark.slow


def load_logged_model(client: MlflowClient, run_id: str):
    """The model as a user gets it: the URI the core tags, and the classic runs:/ URI."""
    uri = client.get_run(run_id).data.tags[f"{MODEL_URI_TAG_PREFIX}model"]
    assert mlflow.pyfunc.load_model(f"runs:/{run_id}/model") is not None
    return mlflow.pyfunc.load_model(uri)


def only_run(client: MlflowClient, experiment: str = "ml-experiments"):
    """The single run of ``experiment`` (for runs whose outcome was an exception)."""
    (run,) = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return run


def no_runs(tracking_uri: str) -> bool:
    """No run in the store (a store never created has none, and opening one costs seconds)."""
    if not Path(tracking_uri.removeprefix("sqlite:///")).exists():
        return True
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("ml-experiments")
    return experiment is None or not client.search_runs([experiment.experiment_id])


def test_baseline_run_is_complete_in_mlflow(tracking_uri):
    outcome = run_experiment("sklearn", {"C": 1.0, "max_iter": 100}, tracking_uri=tracking_uri)
    assert outcome.status == "FINISHED", outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "ml-experiments"
    assert run.data.params["C"] == "1.0" and run.data.params["max_iter"] == "100"
    assert run.data.params["model"] == "logistic_regression"
    assert run.data.params["dataset.name"] == "wine"
    assert run.data.tags["converged"] == "true"

    # The same model fitted here with scikit-learn alone, scored with its own metric functions.
    data = load_dataset(DatasetParams())
    parts = split(data.features, data.target, 0.2, 42)
    reference = make_pipeline(
        StandardScaler(), LogisticRegression(C=1.0, max_iter=100, random_state=42)
    ).fit(parts.X_train, parts.y_train)
    predicted = reference.predict(parts.X_test)
    expected = {
        "accuracy": accuracy_score(parts.y_test, predicted),
        "f1_macro": f1_score(parts.y_test, predicted, average="macro"),
        "precision_macro": precision_score(parts.y_test, predicted, average="macro"),
        "recall_macro": recall_score(parts.y_test, predicted, average="macro"),
        "roc_auc": roc_auc_score(
            parts.y_test, reference.predict_proba(parts.X_test), multi_class="ovr"
        ),
    }
    assert {key: run.data.metrics[key] for key in expected} == pytest.approx(expected, abs=1e-12)
    assert run.data.metrics["fit_time_sec"] > 0

    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "wine"
    assert "target" in dataset_input.dataset.schema

    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"confusion_matrix.png", "classification_report.txt"} <= artifacts
    report = mlflow.artifacts.load_text(f"runs:/{outcome.run_id}/classification_report.txt")
    assert "class_0" in report

    # The logged model predicts exactly what the reference does on the same test split.
    logged = np.asarray(load_logged_model(client, outcome.run_id).predict(parts.X_test))
    assert np.array_equal(logged, predicted)


@pytest.mark.parametrize(
    ("overrides", "dataset"),
    [
        ({"model": "random_forest", "n_estimators": 20, "max_depth": 4, "cv_folds": 3}, "iris"),
        ({"model": "gradient_boosting", "n_estimators": 20}, "breast_cancer"),
        ({"model": "svc", "kernel": "rbf", "C": 2.0}, "digits"),
        ({"model": "svc", "probability": False}, "iris"),
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
    # The conditional metrics are there exactly when their condition holds.
    has_proba = overrides.get("probability", True)
    assert ("roc_auc" in run.data.metrics) == has_proba
    assert CV_METRICS <= set(run.data.metrics) if overrides.get("cv_folds") else (
        not CV_METRICS & set(run.data.metrics)
    )
    assert set(run.data.metrics) <= DECLARED, set(run.data.metrics) - DECLARED
    # The model loads back (trees and calibrators need skops' trusted types) and scores the
    # logged accuracy on the run's test split.
    data = load_dataset(DatasetParams(name=dataset))
    parts = split(data.features, data.target, 0.2, 42)
    predictions = np.asarray(load_logged_model(client, outcome.run_id).predict(parts.X_test))
    assert accuracy_score(parts.y_test, predictions) == run.data.metrics["accuracy"]


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
        ({"max_iter": True}, "max_iter: Input should be a valid integer"),
    ],
)
def test_bad_input_creates_no_run(tracking_uri, overrides, fragment):
    with pytest.raises(InputError, match=fragment):
        run_experiment("sklearn", overrides, tracking_uri=tracking_uri)
    assert no_runs(tracking_uri)


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
    assert no_runs(tracking_uri)


# --- partial results: the core still evaluates and logs after a failed execute ----------------


def test_a_failure_after_the_fit_still_scores_and_logs_the_model(tracking_uri, monkeypatch):
    """Cross-validation fails after the fit: the fitted model is scored, logged, loadable."""

    def broken_cv(*args, **kwargs):
        raise RuntimeError("cross-validation broke")

    monkeypatch.setattr("runner_sklearn.experiment._cross_validate", broken_cv)
    outcome = run_experiment("sklearn", {"cv_folds": 3}, tracking_uri=tracking_uri)
    assert outcome.status == "FAILED"
    assert "cross-validation broke" in outcome.error
    client = MlflowClient(tracking_uri)
    run = client.get_run(outcome.run_id)
    assert run.data.tags[FAILED_PHASE_TAG] == "execute"
    assert PARTIAL_ERROR_TAG not in run.data.tags  # evaluate and log on partial results worked
    assert not CV_METRICS & set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"confusion_matrix.png", "classification_report.txt"} <= artifacts
    data = load_dataset(DatasetParams())
    parts = split(data.features, data.target, 0.2, 42)
    predictions = np.asarray(load_logged_model(client, outcome.run_id).predict(parts.X_test))
    assert accuracy_score(parts.y_test, predictions) == run.data.metrics["accuracy"]


def test_an_interrupted_fit_leaves_nothing_to_score(tracking_uri, monkeypatch):
    """Ctrl-C during the fit: the run is KILLED; evaluate and log find no model, quietly."""
    import runner_sklearn.experiment as experiment

    real_build = experiment.build_estimator

    def interrupted_fit(params):
        estimator = real_build(params)

        def fit(*args, **kwargs):
            raise KeyboardInterrupt

        estimator.fit = fit
        return estimator

    monkeypatch.setattr(experiment, "build_estimator", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("sklearn", {}, tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    run = only_run(client)
    assert run.info.status == "KILLED"
    assert run.data.tags[FAILED_PHASE_TAG] == "execute"
    assert PARTIAL_ERROR_TAG not in run.data.tags
    assert "accuracy" not in run.data.metrics
    assert f"{MODEL_URI_TAG_PREFIX}model" not in run.data.tags


# --- performance: a scikit-learn run never imports torch --------------------------------------

NO_TORCH_RUN = textwrap.dedent(
    """
    import json, sys
    from runner.runs import run_experiment

    outcome = run_experiment("sklearn", {"C": 1.0, "max_iter": 100}, tracking_uri=sys.argv[1])
    print(json.dumps({"status": outcome.status, "error": outcome.error,
                      "skops": "skops.io" in sys.modules, "torch": "torch" in sys.modules}))
    """
)


def test_a_sklearn_run_never_imports_torch(tracking_uri):
    """skops (MLflow's safe format) imports torch through scikit-learn's array-API shim unless
    runner_sklearn.persistence hides it: 1-2 s of every ``runner run ml-baseline``."""
    result = subprocess.run([sys.executable, "-c", NO_TORCH_RUN, tracking_uri],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"status": "FINISHED", "error": None, "skops": True, "torch": False}
    # The model was saved in skops format, and loads back.
    mlflow.set_tracking_uri(tracking_uri)  # what an in-process run does for the flavors
    client = MlflowClient(tracking_uri)
    uri = only_run(client).data.tags[f"{MODEL_URI_TAG_PREFIX}model"]
    assert mlflow.models.get_model_info(uri).flavors["sklearn"]["serialization_format"] == "skops"
    assert mlflow.pyfunc.load_model(uri) is not None


def test_cross_validation_folds_are_items_compare_pairs(tracking_uri):
    """Two models on the same folds (same data and seed): compare tests them fold by fold."""
    from runner.api import compare

    common = {"cv_folds": 5, "dataset": {"name": "breast_cancer"}}
    weak = run_experiment("sklearn", {**common, "C": 0.0001}, tracking_uri=tracking_uri)
    strong = run_experiment("sklearn", {**common, "C": 1.0, "max_iter": 2000},
                            tracking_uri=tracking_uri)
    comparison = compare([weak.run_id, strong.run_id], tracking_uri=tracking_uri)
    assert set(comparison.items) == {"1", "2", "3", "4", "5"}
    test = comparison.tests["cv_accuracy"][1]
    run = MlflowClient(tracking_uri).get_run(strong.run_id)
    assert test.n == 5 and test.mean_b == pytest.approx(run.data.metrics["cv_accuracy_mean"])
    assert test.difference > 0.02 and test.verdict == "B better", test
    assert comparison.tests["cv_f1_macro"][1].n == 5
