"""The test-split classification metrics every tabular plugin declares (light: no sklearn).

:func:`runner_sklearn.metrics.classification_metrics` computes exactly these names; a plugin
that scores a classifier with it declares them by reusing :data:`CLASSIFICATION_METRICS`::

    from runner_sklearn.metric_specs import CLASSIFICATION_METRICS

    ExperimentType(..., metrics=(*CLASSIFICATION_METRICS, MetricSpec("loss", ...)))

Plugin modules import this one, so it must import nothing heavy.
"""

from __future__ import annotations

from runner import UNIT_INTERVAL, MetricSpec

#: ``accuracy`` first: a plugin listing these first ranks its runs by test accuracy. All are in
#: [0, 1] (sklearn's scores; precision/recall/F1 with ``zero_division=0``).
CLASSIFICATION_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("accuracy", "maximize", "Accuracy on the held-out test split.",
               bounds=UNIT_INTERVAL),
    MetricSpec("f1_macro", "maximize", "Macro-averaged F1 on the test split.",
               bounds=UNIT_INTERVAL),
    MetricSpec("precision_macro", "maximize", "Macro-averaged precision on the test split.",
               bounds=UNIT_INTERVAL),
    MetricSpec("recall_macro", "maximize", "Macro-averaged recall on the test split.",
               bounds=UNIT_INTERVAL),
    MetricSpec(
        "roc_auc",
        "maximize",
        "ROC AUC on the test split (one-vs-rest when multiclass).",
        condition="the model gives class probabilities and every class is in the test split",
        bounds=UNIT_INTERVAL,
    ),
)
