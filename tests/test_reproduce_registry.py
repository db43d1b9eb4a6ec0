"""Every deterministic registry entry reproduces exactly from its logged config."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.plugins import load_plugins
from runner.reproduction import reproduce
from runner.runs import run_experiment

pytestmark = pytest.mark.slow
REGISTRY = Path(__file__).resolve().parents[1] / "registry.yaml"

# Registry entries, trimmed only where a full run would make the suite slow.
CASES = {
    "ml-baseline": {},
    "ml-improved": {"cv_folds": 3},
    "nn-baseline": {"epochs": 8},
    "llm-prompt": {"max_items": 3, "max_tokens": 8},
    "rag-config": {"max_questions": 20},
    "rag-llm": {"max_questions": 2, "max_tokens": 8},
}


@pytest.mark.parametrize("case", list(CASES))
def test_registry_entry_reproduces_exactly(case, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    plugins = load_plugins()
    original = run_experiment(case, CASES[case], tracking_uri=uri, registry_path=REGISTRY,
                              plugins=plugins)
    assert original.status == "FINISHED", original.error
    result = reproduce(original.run_id, plugins, tracking_uri=uri, tolerance=0.0)
    checked = [m for m in result.metrics if m.checked]
    assert checked, "a reproduction that checks no metric proves nothing"
    assert result.reproduced, [m for m in checked if m.difference != 0]
