"""Build the scikit-learn estimator a run's params describe.

Each estimator's module is imported only when chosen: ``sklearn.ensemble`` alone costs a
noticeable share of a logistic-regression run's start-up.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from runner_sklearn.params import (
    ClassifierParams,
    GradientBoostingParams,
    LogisticRegressionParams,
    RandomForestParams,
    SVCParams,
)

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

#: Folds of the probability calibration around SVC (``probability=true``).
CALIBRATION_FOLDS = 5


def build_estimator(params: ClassifierParams) -> ClassifierMixin | Pipeline:
    """The classifier, behind a StandardScaler when ``params.scale`` is on.

    The scaler lives inside the pipeline so the logged model takes raw features.
    """
    classifier = build_classifier(params)
    return make_pipeline(StandardScaler(), classifier) if params.scale else classifier


def build_classifier(params: ClassifierParams) -> ClassifierMixin:
    """One unfitted classifier, seeded with ``params.seed`` where the algorithm is random."""
    if isinstance(params, LogisticRegressionParams):
        return _logistic_regression(params)
    if isinstance(params, RandomForestParams):
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            min_samples_split=params.min_samples_split,
            min_samples_leaf=params.min_samples_leaf,
            max_features=None if params.max_features == "all" else params.max_features,
            random_state=params.seed,
        )
    if isinstance(params, GradientBoostingParams):
        from sklearn.ensemble import GradientBoostingClassifier

        return GradientBoostingClassifier(
            n_estimators=params.n_estimators,
            learning_rate=params.learning_rate,
            max_depth=params.max_depth,
            subsample=params.subsample,
            min_samples_leaf=params.min_samples_leaf,
            random_state=params.seed,
        )
    if isinstance(params, SVCParams):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import SVC

        svc = SVC(
            C=params.C,
            kernel=params.kernel,
            gamma=params.gamma,
            degree=params.degree,
            max_iter=params.max_iter,
            random_state=params.seed,
        )
        # SVC(probability=True) is deprecated since scikit-learn 1.9; this is its replacement.
        return (
            CalibratedClassifierCV(svc, cv=CALIBRATION_FOLDS, ensemble=False)
            if params.probability
            else svc
        )
    raise TypeError(f"no estimator for {type(params).__name__}")


def min_rows_per_class(params: ClassifierParams) -> int:
    """Rows the smallest class of the training split needs for the folds this model uses."""
    calibration = CALIBRATION_FOLDS if isinstance(params, SVCParams) and params.probability else 0
    return max(params.cv_folds, calibration, 1)


def _logistic_regression(params: LogisticRegressionParams) -> LogisticRegression:
    """Map ``penalty`` onto ``l1_ratio``/``C``, the spelling scikit-learn >= 1.8 asks for."""
    from sklearn.linear_model import LogisticRegression

    l1_ratio = {"l2": 0.0, "l1": 1.0, "none": 0.0, "elasticnet": params.l1_ratio}[params.penalty]
    return LogisticRegression(
        C=math.inf if params.penalty == "none" else params.C,
        l1_ratio=l1_ratio,
        max_iter=params.max_iter,
        solver=params.solver,
        random_state=params.seed,
    )
