"""Entry point of runner-sklearn: declares the ``sklearn`` experiment type (pydantic only)."""

from __future__ import annotations

from collections.abc import Callable

from runner import ExperimentType, MetricSpec, hookimpl
from runner_sklearn.params import SklearnParams

EXPERIMENT_TYPE = ExperimentType(
    id="sklearn",
    params=SklearnParams,
    implementation="runner_sklearn.experiment:SklearnExperiment",
    experiment_name="ml-experiments",
    description="scikit-learn classifier (logistic regression, random forest, gradient "
    "boosting, SVC) on a bundled dataset or a CSV file",
    metrics=(
        MetricSpec("accuracy", "maximize", "Accuracy on the held-out test split."),
        MetricSpec("f1_macro", "maximize", "Macro-averaged F1 on the test split."),
        MetricSpec("precision_macro", "maximize", "Macro-averaged precision on the test split."),
        MetricSpec("recall_macro", "maximize", "Macro-averaged recall on the test split."),
        MetricSpec("roc_auc", "maximize", "ROC AUC (one-vs-rest when multiclass), if defined."),
        MetricSpec("fit_time_sec", "minimize", "Seconds to fit the model on the training split.", deterministic=False),
        MetricSpec("cv_accuracy_mean", "maximize", "Mean cross-validation accuracy (cv_folds>=2)."),
        MetricSpec("cv_accuracy_std", "minimize", "Std of cross-validation accuracy."),
        MetricSpec("cv_f1_macro_mean", "maximize", "Mean cross-validation macro F1 (cv_folds>=2)."),
        MetricSpec("cv_f1_macro_std", "minimize", "Std of cross-validation macro F1."),
    ),
)


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Offer the ``sklearn`` experiment type."""
    register(EXPERIMENT_TYPE)
