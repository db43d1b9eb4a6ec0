"""What MLflow's default (skops) serialization must be told to trust for one of our models.

MLflow saves scikit-learn models with skops, which refuses to load types outside its default
allow-list: the trees of random forests and gradient boosting, the calibration parts of SVC with
probabilities. The model was built in this process from scikit-learn classes, so its own
scikit-learn types are trusted explicitly; anything else is left untrusted and fails loudly.

Importing ``skops.io`` imports torch when it is installed (1-2 s a run, for nothing): skops
builds its allow-list from ``sklearn.utils.all_estimators()``, whose package walk imports every
scikit-learn subpackage, among them the array-API shim ``sklearn.externals.array_api_compat.torch``
that imports torch. :func:`_import_skops_io` hides that one shim during the walk, so skops is
imported exactly as on a machine without torch (``all_estimators`` skips ``externals`` anyway,
so the allow-list is the same). MLflow's later ``import skops.io`` reuses the module.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

#: scikit-learn's array-API shim for torch: importing it imports torch.
TORCH_SHIM = "sklearn.externals.array_api_compat.torch"


def _import_skops_io() -> ModuleType:
    """``import skops.io`` without importing torch (unless torch is already loaded)."""
    if "skops.io" in sys.modules or "torch" in sys.modules or TORCH_SHIM in sys.modules:
        import skops.io

        return skops.io
    sys.modules[TORCH_SHIM] = None  # type: ignore[assignment]  # "not importable": walk skips it
    try:
        import skops.io
    finally:
        if TORCH_SHIM in sys.modules and sys.modules[TORCH_SHIM] is None:
            del sys.modules[TORCH_SHIM]
    return skops.io


# Imported with the module, which ``runner_sklearn.experiment`` imports only to log a model (and
# names in its ``WORKER_IMPORTS``, so a sweep's workers load it before their first point).
skops_io = _import_skops_io()


def skops_trusted_types(estimator: Any) -> list[str]:
    """The scikit-learn types in ``estimator`` that skops does not trust by default."""
    untrusted = skops_io.get_untrusted_types(data=skops_io.dumps(estimator))
    return sorted(name for name in untrusted if name.startswith("sklearn."))
