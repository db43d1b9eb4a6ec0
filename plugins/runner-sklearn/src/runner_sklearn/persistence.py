"""What MLflow's default (skops) serialization must be told to trust for one of our models.

MLflow saves scikit-learn models with skops, which refuses to load types outside its default
allow-list: the trees of random forests and gradient boosting, the calibration parts of SVC with
probabilities. The model was built in this process from scikit-learn classes, so its own
scikit-learn types are trusted explicitly; anything else is left untrusted and fails loudly.
"""

from __future__ import annotations

from typing import Any

# Imported with the module (not lazily) so a sweep's worker processes get it preloaded.
import skops.io


def skops_trusted_types(estimator: Any) -> list[str]:
    """The scikit-learn types in ``estimator`` that skops does not trust by default."""
    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(estimator))
    return sorted(name for name in untrusted if name.startswith("sklearn."))
