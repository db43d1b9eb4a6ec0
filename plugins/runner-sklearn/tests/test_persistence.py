"""skops without torch: hiding scikit-learn's torch shim changes nothing skops trusts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from runner_sklearn.persistence import skops_trusted_types

ALLOW_LIST = """
import json, sys
{setup}
from skops.io import _trusted_types as t
print(json.dumps({{"torch": "torch" in sys.modules, "trusted": sorted(
    t.SKLEARN_ESTIMATOR_TYPE_NAMES + t.SKLEARN_INTERNAL_TYPE_NAMES)}}))
"""


def _allow_list(setup: str) -> dict:
    out = subprocess.run([sys.executable, "-c", ALLOW_LIST.format(setup=setup)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # two fresh interpreters importing scikit-learn and skops
def test_skops_imported_through_persistence_trusts_the_same_types_without_torch():
    plain = _allow_list("import skops.io")
    ours = _allow_list("import runner_sklearn.persistence")
    assert ours["torch"] is False
    assert ours["trusted"] == plain["trusted"]
    assert "sklearn.linear_model._logistic.LogisticRegression" in ours["trusted"]


def test_trees_are_trusted_explicitly():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    assert skops_trusted_types(DecisionTreeClassifier(max_depth=2).fit(X, y)) == [
        "sklearn.tree._tree.Tree"
    ]
