"""Human-readable results of a classifier: confusion-matrix figure and classification report.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot), so nothing depends
on a display or a global backend and no figure is left open in pyplot's registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import classification_report, confusion_matrix


def confusion_matrix_figure(
    y_true: Any, y_pred: Any, classes: Sequence[Any] | np.ndarray, class_names: Sequence[str]
) -> Figure:
    """A labelled confusion matrix (rows: true class, columns: predicted class)."""
    matrix = confusion_matrix(y_true, y_pred, labels=list(classes))
    size = max(4.0, 0.5 * len(classes) + 2.5)
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=list(class_names), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(class_names))
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_title("Confusion matrix (test split)")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center",
                color="white" if count > threshold else "black")
    return figure


def classification_report_text(
    y_true: Any, y_pred: Any, classes: Sequence[Any] | np.ndarray, class_names: Sequence[str]
) -> str:
    """scikit-learn's per-class precision/recall/F1 table, as plain text."""
    return classification_report(
        y_true, y_pred, labels=list(classes), target_names=list(class_names), zero_division=0
    )
