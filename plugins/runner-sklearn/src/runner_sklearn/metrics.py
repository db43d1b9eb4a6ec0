"""Test-split metrics of a classifier: the same names for every tabular plugin."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray | None = None, classes: Any = None
) -> dict[str, float]:
    """``accuracy``, ``f1_macro``, ``precision_macro``, ``recall_macro``; ``roc_auc`` if defined.

    :param proba: class probabilities, columns in the order of ``classes``; without them (or when
        the test split lacks a class) ``roc_auc`` is left out rather than guessed.
    """
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "f1_macro": skm.f1_score(y_true, y_pred, average="macro", zero_division=0),
        "precision_macro": skm.precision_score(y_true, y_pred, average="macro", zero_division=0),
        "recall_macro": skm.recall_score(y_true, y_pred, average="macro", zero_division=0),
    }
    auc = roc_auc(y_true, proba, classes) if proba is not None else None
    if auc is not None:
        result["roc_auc"] = auc
    return {key: float(value) for key, value in result.items()}


def roc_auc(y_true: Any, proba: np.ndarray, classes: Any) -> float | None:
    """ROC AUC: binary on the positive class, multiclass one-vs-rest; ``None`` when undefined."""
    classes = np.asarray(classes)
    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) < len(classes):
        return None  # a class absent from the test split: AUC is undefined for it
    if len(classes) == 2:
        return float(skm.roc_auc_score(y_true == classes[1], proba[:, 1]))
    return float(skm.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
