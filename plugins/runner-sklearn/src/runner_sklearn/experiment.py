"""The ``sklearn`` experiment: load and split, fit (and cross-validate), score, hand over."""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from runner import InputError, RunContext, hookimpl
from runner_sklearn.data import Split, TabularData, load_dataset, split
from runner_sklearn.metrics import classification_metrics
from runner_sklearn.models import build_estimator, min_rows_per_class
from runner_sklearn.params import ClassifierParams

log = logging.getLogger(__name__)

#: What only ``runner_log`` needs (skops, matplotlib: ~1.9 s of imports), imported there, not
#: with this module: a sweep's driver, which checks every point's inputs with this module, never
#: loads them, and its workers import them while the driver checks (see
#: ``runner.executors.base.import_worker_modules``).
WORKER_IMPORTS = ("runner_sklearn.persistence", "runner_sklearn.reports")

#: Rows of the test split logged as the model's input example.
EXAMPLE_ROWS = 5


class SklearnExperiment:
    """Lifecycle hooks of one ``sklearn`` run (a fresh instance per run).

    What one phase hands the next lives on the instance. After a failed or interrupted
    ``runner_execute`` the core still calls ``runner_evaluate`` and ``runner_log`` with
    ``ctx.partial`` set: they score and log what exists, and do nothing without a fitted model.
    """

    def __init__(self) -> None:
        self.data: TabularData | None = None
        self.split: Split | None = None
        #: Set once ``fit`` has returned: never a half-fitted model.
        self.estimator: Any | None = None
        self.predictions: np.ndarray | None = None
        #: Per fold scores of the cross-validation (``cv_folds`` >= 2): the run's items.
        self.folds: dict[str, list[Any]] | None = None

    @hookimpl
    def runner_prepare(self, ctx: RunContext[ClassifierParams]) -> None:
        """Load the dataset, split it and check that cross-validation fits the data."""
        params = ctx.params
        data = load_dataset(params.dataset)
        parts = split(data.features, data.target, params.test_size, params.seed)
        smallest = int(parts.y_train.value_counts().min())
        if smallest < min_rows_per_class(params):
            raise InputError(
                f"the smallest class of the training split has {smallest} rows; cv_folds="
                f"{params.cv_folds} (or SVC probability calibration) needs "
                f"{min_rows_per_class(params)}"
            )
        self.data, self.split = data, parts
        ctx.log_dataset(data.frame, name=data.name, source=data.source, targets=data.target_name)

    @hookimpl
    def runner_execute(self, ctx: RunContext[ClassifierParams]) -> None:
        """Fit on the training split; cross-validate there too when ``cv_folds`` >= 2."""
        params = ctx.params
        assert self.split is not None  # set by runner_prepare
        parts = self.split
        estimator = build_estimator(params)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            started = time.perf_counter()
            estimator.fit(parts.X_train, parts.y_train)
            ctx.log_metric("fit_time_sec", time.perf_counter() - started)
            # Fitted: a failure in cross-validation still leaves this model to score and log.
            self.estimator = estimator
            if params.cv_folds:
                self.folds = _cross_validate(estimator, parts, params.cv_folds, params.seed)
                ctx.log_metrics(_fold_summary(self.folds))
        _report_convergence(ctx, caught)

    @hookimpl
    def runner_evaluate(self, ctx: RunContext[ClassifierParams]) -> None:
        """Score the fitted model on the test split (nothing to score before a fit finished)."""
        if self.estimator is None or self.split is None:
            return
        parts, estimator = self.split, self.estimator
        predictions = estimator.predict(parts.X_test)
        has_proba = hasattr(estimator, "predict_proba")
        proba = estimator.predict_proba(parts.X_test) if has_proba else None
        self.predictions = predictions
        ctx.log_metrics(
            classification_metrics(parts.y_test, predictions, proba, estimator.classes_)
        )

    @hookimpl
    def runner_log(self, ctx: RunContext[ClassifierParams]) -> None:
        """Hand over the model, the confusion matrix and the classification report."""
        if self.estimator is None or self.split is None or self.data is None:
            return
        from runner_sklearn.persistence import skops_trusted_types
        from runner_sklearn.reports import classification_report_text, confusion_matrix_figure

        data, parts, estimator = self.data, self.split, self.estimator
        if self.folds is not None:  # folds are the items `runner compare` pairs between runs
            ctx.log_items(self.folds, key="fold", output="cv_accuracy",
                          scores=["cv_accuracy", "cv_f1_macro"])
        predictions = self.predictions  # None when scoring failed: log the model alone
        trusted = skops_trusted_types(estimator)
        ctx.log_model(
            estimator,
            flavor="sklearn",
            name="model",
            input_example=parts.X_test.iloc[:EXAMPLE_ROWS],
            output_example=None if predictions is None else predictions[:EXAMPLE_ROWS],
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            # Passed to mlflow.sklearn.log_model; trees and calibrators need it to save and load.
            **({"skops_trusted_types": trusted} if trusted else {}),
        )
        if predictions is None:
            return
        ctx.log_figure(
            confusion_matrix_figure(parts.y_test, predictions, data.classes, data.class_names),
            "confusion_matrix.png",
        )
        ctx.log_text(
            classification_report_text(parts.y_test, predictions, data.classes, data.class_names),
            "classification_report.txt",
        )


def _cross_validate(estimator: Any, parts: Split, folds: int, seed: int) -> dict[str, list[Any]]:
    """Accuracy and macro F1 of each of ``folds`` stratified folds of the training split.

    The folds depend only on the data and the seed, so two runs with the same ones (another
    model, another C) are scored on the same items and compare pairs them fold by fold.
    """
    from sklearn.model_selection import StratifiedKFold, cross_validate

    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_validate(
        clone(estimator), parts.X_train, parts.y_train, cv=cv, scoring=("accuracy", "f1_macro")
    )
    return {"fold": list(range(1, folds + 1)),
            **{f"cv_{name}": [float(v) for v in scores[f"test_{name}"]]
               for name in ("accuracy", "f1_macro")}}


def _fold_summary(folds: dict[str, list[Any]]) -> dict[str, float]:
    """``cv_<score>_mean`` and ``cv_<score>_std`` over the folds."""
    result: dict[str, float] = {}
    for name in ("cv_accuracy", "cv_f1_macro"):
        values = np.asarray(folds[name])
        result[f"{name}_mean"] = float(values.mean())
        result[f"{name}_std"] = float(values.std())
    return result


def _report_convergence(ctx: RunContext, caught: list[warnings.WarningMessage]) -> None:
    """Tag a run whose solver stopped at ``max_iter`` and say so once, not once per fold."""
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    ctx.set_tag("converged", "false" if messages else "true")
    if messages:
        first_line = messages[0].splitlines()[0]
        log.warning("the solver did not converge (raise max_iter?): %s", first_line)
