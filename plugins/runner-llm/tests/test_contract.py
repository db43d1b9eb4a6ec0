"""runner's plugin contract for ``llm-prompt`` (the conformance kit's checks, each a test)."""

from __future__ import annotations

import pytest
from runner.testing import ExperimentTypeContract

pytestmark = pytest.mark.slow


class TestLlmPromptContract(ExperimentTypeContract):
    """The real local SmolLM2 (greedy, deterministic) on two items, a few tokens each."""

    experiment_type = "llm-prompt"
    params = {"max_items": 2, "max_tokens": 8}
    wrong_type = ("max_items", "true")  # a boolean is not a number
