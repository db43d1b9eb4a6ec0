"""Metric names and when roc_auc is defined; the report and figure name every class."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from runner_sklearn.metrics import classification_metrics
from runner_sklearn.reports import classification_report_text, confusion_matrix_figure

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2, 1])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2, 1])


def one_hot_proba(pred: np.ndarray, k: int) -> np.ndarray:
    proba = np.full((len(pred), k), 0.1)
    proba[np.arange(len(pred)), pred] = 1.0
    return proba / proba.sum(axis=1, keepdims=True)


def test_multiclass_metrics_agree_with_sklearn():
    proba = one_hot_proba(Y_PRED, 3)
    result = classification_metrics(Y_TRUE, Y_PRED, proba, [0, 1, 2])
    assert result == {
        "accuracy": accuracy_score(Y_TRUE, Y_PRED),
        "f1_macro": f1_score(Y_TRUE, Y_PRED, average="macro"),
        "precision_macro": precision_score(Y_TRUE, Y_PRED, average="macro"),
        "recall_macro": recall_score(Y_TRUE, Y_PRED, average="macro"),
        "roc_auc": roc_auc_score(Y_TRUE, proba, multi_class="ovr"),
    }


def test_roc_auc_left_out_without_probabilities_or_with_a_missing_class():
    assert "roc_auc" not in classification_metrics(Y_TRUE, Y_PRED)
    two_classes = Y_TRUE[Y_TRUE < 2]
    proba = one_hot_proba(two_classes, 3)
    assert "roc_auc" not in classification_metrics(two_classes, two_classes, proba, [0, 1, 2])


def test_binary_roc_auc_uses_the_positive_column():
    y = np.array(["no", "yes", "yes", "no"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    assert classification_metrics(y, y, proba, ["no", "yes"])["roc_auc"] == 1.0
    assert classification_metrics(y, y, proba[:, ::-1], ["no", "yes"])["roc_auc"] == 0.0


def test_report_and_figure_name_every_class(tmp_path):
    names = ["alpha", "beta", "gamma"]
    text = classification_report_text(Y_TRUE, Y_PRED, [0, 1, 2], names)
    assert all(name in text for name in names)
    figure = confusion_matrix_figure(Y_TRUE, Y_PRED, [0, 1, 2], names)
    labels = [t.get_text() for t in figure.axes[0].get_xticklabels()]
    assert labels == names
    figure.savefig(tmp_path / "cm.png")
    assert (tmp_path / "cm.png").stat().st_size > 1000
