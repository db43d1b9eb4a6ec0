"""The installed distribution is found through its entry point; the metric contract is honest."""

from __future__ import annotations

import numpy as np

from runner.plugins import load_plugins
from runner_sklearn.metric_specs import CLASSIFICATION_METRICS
from runner_sklearn.metrics import classification_metrics
from runner_sklearn.plugin import EXPERIMENT_TYPE


def test_entry_point_registers_the_sklearn_type():
    plugins = load_plugins()
    exp_type, plugin = plugins.experiment_type("sklearn")
    assert plugin.name == "sklearn"
    assert exp_type is EXPERIMENT_TYPE
    assert exp_type.experiment_name == "ml-experiments"
    assert exp_type.primary.name == "accuracy"


def test_shared_specs_name_exactly_what_classification_metrics_computes():
    y = np.array([0, 1, 2, 0, 1, 2])
    proba = np.eye(3)[y]
    computed = classification_metrics(y, y, proba, [0, 1, 2])
    assert [m.name for m in CLASSIFICATION_METRICS] == list(computed)
    assert EXPERIMENT_TYPE.metrics[: len(CLASSIFICATION_METRICS)] == CLASSIFICATION_METRICS



def test_declared_bounds_hold_what_classification_metrics_computes():
    # every shared spec is a score in [0, 1]; --repeat clips its confidence intervals to it
    assert {m.bounds for m in CLASSIFICATION_METRICS} == {(0.0, 1.0)}
    y = np.array([0, 1, 2, 0, 1, 2])
    for predicted, proba in ((y, np.eye(3)[y]), (np.array([1, 2, 0, 1, 2, 0]), np.eye(3)[::-1][y])):
        computed = classification_metrics(y, predicted, proba, [0, 1, 2])
        for spec in CLASSIFICATION_METRICS:
            low, high = spec.bounds
            assert low <= computed[spec.name] <= high
