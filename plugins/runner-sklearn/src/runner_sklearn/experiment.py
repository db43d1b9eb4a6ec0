"""The ``sklearn`` experiment: load and split, fit (and cross-validate), score, hand results over."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_validate

from runner import InputError, RunContext, hookimpl
from runner_sklearn.data import Split, TabularData, load_dataset, split
from runner_sklearn.metrics import classification_metrics
from runner_sklearn.models import build_estimator
from runner_sklearn.params import ClassifierParams
from runner_sklearn.reports import classification_report_text, confusion_matrix_figure

log = logging.getLogger(__name__)

#: Rows of the test split logged as the model's input example.
EXAMPLE_ROWS = 5


class SklearnExperiment:
    """Lifecycle hooks of one ``sklearn`` run; objects pass between phases in ``ctx.state``."""

    @hookimpl
    def runner_prepare(self, ctx: RunContext) -> None:
        """Load the dataset, split it and check that cross-validation fits the data."""
        params: ClassifierParams = ctx.params  # type: ignore[assignment]
        data = load_dataset(params.dataset)
        parts = split(data.features, data.target, params.test_size, params.seed)
        if params.cv_folds:
            smallest = int(parts.y_train.value_counts().min())
            if params.cv_folds > smallest:
                raise InputError(
                    f"cv_folds={params.cv_folds} exceeds the smallest class in the training "
                    f"split ({smallest} rows)"
                )
        ctx.state["data"] = data
        ctx.state["split"] = parts
        ctx.log_dataset(data.frame, name=data.name, source=data.source, targets=data.target_name)

    @hookimpl
    def runner_execute(self, ctx: RunContext) -> None:
        """Fit on the training split; cross-validate there too when ``cv_folds`` >= 2."""
        params: ClassifierParams = ctx.params  # type: ignore[assignment]
        parts: Split = ctx.state["split"]
        estimator = build_estimator(params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            started = time.perf_counter()
            estimator.fit(parts.X_train, parts.y_train)
            ctx.log_metric("fit_time_sec", time.perf_counter() - started)
            if params.cv_folds:
                ctx.log_metrics(_cross_validate(estimator, parts, params.cv_folds, params.seed))
        _report_convergence(ctx, caught)
        ctx.state["estimator"] = estimator

    @hookimpl
    def runner_evaluate(self, ctx: RunContext) -> None:
        """Score the fitted model on the test split."""
        parts: Split = ctx.state["split"]
        estimator = ctx.state["estimator"]
        predictions = estimator.predict(parts.X_test)
        proba = estimator.predict_proba(parts.X_test) if hasattr(estimator, "predict_proba") else None
        ctx.state["predictions"] = predictions
        ctx.log_metrics(classification_metrics(parts.y_test, predictions, proba, estimator.classes_))

    @hookimpl
    def runner_log(self, ctx: RunContext) -> None:
        """Hand over the model, the confusion matrix and the classification report."""
        data: TabularData = ctx.state["data"]
        parts: Split = ctx.state["split"]
        predictions: np.ndarray = ctx.state["predictions"]
        estimator = ctx.state["estimator"]
        ctx.log_model(
            estimator,
            flavor="sklearn",
            name="model",
            input_example=parts.X_test.iloc[:EXAMPLE_ROWS],
            output_example=predictions[:EXAMPLE_ROWS],
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
        ctx.log_figure(
            confusion_matrix_figure(parts.y_test, predictions, data.classes, data.class_names),
            "confusion_matrix.png",
        )
        ctx.log_text(
            classification_report_text(parts.y_test, predictions, data.classes, data.class_names),
            "classification_report.txt",
        )


def _cross_validate(estimator: Any, parts: Split, folds: int, seed: int) -> dict[str, float]:
    """Mean and std of accuracy and macro F1 over stratified k folds of the training split."""
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_validate(
        clone(estimator), parts.X_train, parts.y_train, cv=cv, scoring=("accuracy", "f1_macro")
    )
    result: dict[str, float] = {}
    for name in ("accuracy", "f1_macro"):
        values = pd.Series(scores[f"test_{name}"])
        result[f"cv_{name}_mean"] = float(values.mean())
        result[f"cv_{name}_std"] = float(values.std(ddof=0))
    return result


def _report_convergence(ctx: RunContext, caught: list[warnings.WarningMessage]) -> None:
    """Tag a run whose solver stopped at ``max_iter`` and say so once, not once per fold."""
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    ctx.set_tag("converged", "false" if messages else "true")
    if messages:
        log.warning("the solver did not converge (raise max_iter?): %s", messages[0].splitlines()[0])
