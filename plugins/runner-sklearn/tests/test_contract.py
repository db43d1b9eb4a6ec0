"""runner's plugin contract, checked by the core's conformance kit (one class, every check)."""

from __future__ import annotations

from runner.testing import ExperimentTypeContract


class TestSklearnContract(ExperimentTypeContract):
    experiment_type = "sklearn"
    # Logistic regression on wine, cross-validated so the conditional cv_* metrics are logged too.
    params = {"cv_folds": 3}
