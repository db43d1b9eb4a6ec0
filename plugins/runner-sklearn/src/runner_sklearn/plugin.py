"""Entry point of runner-sklearn: declares the ``sklearn`` experiment type (pydantic only)."""

from __future__ import annotations

from collections.abc import Callable

from runner import UNIT_INTERVAL, ExperimentType, MetricSpec, hookimpl
from runner_sklearn.metric_specs import CLASSIFICATION_METRICS
from runner_sklearn.params import SklearnParams

#: When the cross-validation metrics are logged.
CV_CONDITION = "cv_folds >= 2"

EXPERIMENT_TYPE = ExperimentType(
    id="sklearn",
    params=SklearnParams,
    implementation="runner_sklearn.experiment:SklearnExperiment",
    experiment_name="ml-experiments",
    description="scikit-learn classifier (logistic regression, random forest, gradient "
    "boosting, SVC) on a bundled dataset or a CSV file",
    metrics=(
        *CLASSIFICATION_METRICS,
        MetricSpec("fit_time_sec", "minimize", "Seconds to fit the model on the training split.",
                   deterministic=False),
        # Fold scores are in [0, 1], and so are their mean and (population) std.
        MetricSpec("cv_accuracy_mean", "maximize", "Mean cross-validation accuracy.",
                   condition=CV_CONDITION, bounds=UNIT_INTERVAL),
        MetricSpec("cv_accuracy_std", "minimize", "Std of cross-validation accuracy.",
                   condition=CV_CONDITION, bounds=UNIT_INTERVAL),
        MetricSpec("cv_f1_macro_mean", "maximize", "Mean cross-validation macro F1.",
                   condition=CV_CONDITION, bounds=UNIT_INTERVAL),
        MetricSpec("cv_f1_macro_std", "minimize", "Std of cross-validation macro F1.",
                   condition=CV_CONDITION, bounds=UNIT_INTERVAL),
    ),
)


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Offer the ``sklearn`` experiment type."""
    register(EXPERIMENT_TYPE)
