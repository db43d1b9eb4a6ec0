"""Real torch-mlp runs through the core, read back from MLflow (marked slow).

``tracking_uri`` is the core's fixture (``runner.testing``): a fresh store, cwd moved beside it.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import runner_torch.experiment as experiment
from runner import InputError
from runner.runs import run_experiment
from runner.store.names import FAILED_PHASE_TAG, MODEL_URI_TAG_PREFIX, PARTIAL_ERROR_TAG
from runner_sklearn.data import load_dataset, split
from runner_sklearn.params import DatasetParams

pytestmark = pytest.mark.slow

CURVES = ("loss", "val_loss", "val_accuracy")


def wine_test_split() -> tuple[np.ndarray, np.ndarray]:
    """The test rows of a default run (raw float32 features, class indices)."""
    data = load_dataset(DatasetParams())
    labels = data.target.map({label: i for i, label in enumerate(data.classes)})
    parts = split(data.features, labels, 0.2, 42)
    return np.array(parts.X_test, dtype=np.float32), parts.y_test.to_numpy()  # writable, for torch


def steps(client: MlflowClient, run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, key))


def only_run(client: MlflowClient):
    (run,) = client.search_runs([client.get_experiment_by_name("nn-experiments").experiment_id])
    return run


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
        assert steps(client, outcome.run_id, key) == list(range(1, 7))
    assert run.data.metrics["train_time_sec"] > 0
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "wine"
    artifacts = {a.path for a in client.list_artifacts(outcome.run_id)}
    assert {"loss_curve.png", "confusion_matrix.png", "classification_report.txt",
            "classes.json"} <= artifacts

    # The logged model takes raw float32 features; scikit-learn's own metric functions on its
    # probabilities give exactly the logged test metrics.
    X_test, y_test = wine_test_split()
    for uri in (run.data.tags[f"{MODEL_URI_TAG_PREFIX}model"], f"runs:/{outcome.run_id}/model"):
        proba = np.asarray(mlflow.pyfunc.load_model(uri).predict(X_test))
        assert proba.shape == (len(X_test), 3)
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
        predicted = proba.argmax(axis=1)
        assert accuracy_score(y_test, predicted) == run.data.metrics["accuracy"]
        assert f1_score(y_test, predicted, average="macro") == pytest.approx(
            run.data.metrics["f1_macro"], abs=1e-12
        )
        assert roc_auc_score(y_test, proba, multi_class="ovr") == pytest.approx(
            run.data.metrics["roc_auc"], abs=1e-6  # float32 probabilities from the export
        )


def test_early_stopping_stops_patience_epochs_after_the_best(tracking_uri):
    patience = 3
    outcome = run_experiment(
        "torch-mlp",
        {"epochs": 300, "lr": 0.05, "early_stopping_patience": patience,
         "dataset": {"name": "iris"}},
        tracking_uri=tracking_uri,
    )
    assert outcome.status == "FINISHED", outcome.error
    epochs_run = int(outcome.metrics["epochs_run"])
    assert epochs_run == outcome.metrics["best_epoch"] + patience
    assert epochs_run < 300
    client = MlflowClient(tracking_uri)
    for key in CURVES:
        assert steps(client, outcome.run_id, key) == list(range(1, epochs_run + 1))
    val_losses = [m.value for m in client.get_metric_history(outcome.run_id, "val_loss")]
    assert outcome.metrics["best_val_loss"] == min(val_losses)


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
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    if database.exists():  # opening a new store costs seconds; one never created has no run
        client = MlflowClient(tracking_uri)
        experiment_ = client.get_experiment_by_name("nn-experiments")
        assert experiment_ is None or not client.search_runs([experiment_.experiment_id])


# --- partial results: the core still evaluates and logs after a failed execute ----------------


def test_training_interrupted_midway_scores_and_logs_the_epochs_so_far(tracking_uri, monkeypatch):
    """Ctrl-C after epoch 3 of 10: KILLED, the 3 epochs' curves, and the model as it stands,
    scored on the test split and logged."""
    real_train = experiment.train

    def interrupted_after_epoch_3(model, params, train_rows, val_rows, epochs, on_epoch, history):
        def record(result):
            on_epoch(result)
            if result.epoch == 3:
                raise KeyboardInterrupt

        return real_train(model, params, train_rows, val_rows, epochs, record, history)

    monkeypatch.setattr(experiment, "train", interrupted_after_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("torch-mlp", {"epochs": 10}, tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri)
    run = only_run(client)
    run_id = run.info.run_id
    assert run.info.status == "KILLED"
    assert run.data.tags[FAILED_PHASE_TAG] == "execute"
    assert PARTIAL_ERROR_TAG not in run.data.tags
    for key in CURVES:
        assert steps(client, run_id, key) == [1, 2, 3]
    val_losses = [m.value for m in client.get_metric_history(run_id, "val_loss")]
    assert run.data.metrics["epochs_run"] == 3
    assert run.data.metrics["best_val_loss"] == min(val_losses)
    assert "train_time_sec" not in run.data.metrics  # training never finished
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"loss_curve.png", "confusion_matrix.png", "classification_report.txt"} <= artifacts
    X_test, y_test = wine_test_split()
    proba = np.asarray(
        mlflow.pyfunc.load_model(run.data.tags[f"{MODEL_URI_TAG_PREFIX}model"]).predict(X_test)
    )
    assert accuracy_score(y_test, proba.argmax(axis=1)) == run.data.metrics["accuracy"]


def test_a_failure_before_any_epoch_leaves_nothing_to_score(tracking_uri, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no model today")

    monkeypatch.setattr(experiment, "build_model", broken)
    outcome = run_experiment("torch-mlp", {"epochs": 3}, tracking_uri=tracking_uri)
    assert outcome.status == "FAILED"
    assert "no model today" in outcome.error
    run = MlflowClient(tracking_uri).get_run(outcome.run_id)
    assert run.data.tags[FAILED_PHASE_TAG] == "execute"
    assert PARTIAL_ERROR_TAG not in run.data.tags  # evaluate and log returned quietly
    assert not {"accuracy", "epochs_run", "loss"} & set(run.data.metrics)
    assert f"{MODEL_URI_TAG_PREFIX}model" not in run.data.tags
