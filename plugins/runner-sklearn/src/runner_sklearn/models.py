"""Build the scikit-learn estimator a run's params describe."""

from __future__ import annotations

import math

from sklearn.base import ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from runner_sklearn.params import (
    ClassifierParams,
    GradientBoostingParams,
    LogisticRegressionParams,
    RandomForestParams,
    SVCParams,
)


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
        return RandomForestClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            min_samples_split=params.min_samples_split,
            min_samples_leaf=params.min_samples_leaf,
            max_features=None if params.max_features == "all" else params.max_features,
            random_state=params.seed,
        )
    if isinstance(params, GradientBoostingParams):
        return GradientBoostingClassifier(
            n_estimators=params.n_estimators,
            learning_rate=params.learning_rate,
            max_depth=params.max_depth,
            subsample=params.subsample,
            min_samples_leaf=params.min_samples_leaf,
            random_state=params.seed,
        )
    if isinstance(params, SVCParams):
        return SVC(
            C=params.C,
            kernel=params.kernel,
            gamma=params.gamma,
            degree=params.degree,
            max_iter=params.max_iter,
            probability=params.probability,
            random_state=params.seed,
        )
    raise TypeError(f"no estimator for {type(params).__name__}")


def _logistic_regression(params: LogisticRegressionParams) -> LogisticRegression:
    """Map ``penalty`` onto ``l1_ratio``/``C``, the spelling scikit-learn >= 1.8 asks for."""
    l1_ratio = {"l2": 0.0, "l1": 1.0, "none": 0.0, "elasticnet": params.l1_ratio}[params.penalty]
    return LogisticRegression(
        C=math.inf if params.penalty == "none" else params.C,
        l1_ratio=l1_ratio,
        max_iter=params.max_iter,
        solver=params.solver,
        random_state=params.seed,
    )
