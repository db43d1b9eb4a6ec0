"""runner's plugin contract for ``rag`` (the conformance kit's checks, each a test)."""

from __future__ import annotations

import pytest
from runner.testing import ExperimentTypeContract

pytestmark = pytest.mark.slow


class TestRagContract(ExperimentTypeContract):
    """bm25 retrieval and extractive answers on six shipped questions: no LLM, no index model."""

    experiment_type = "rag"
    params = {"retriever": "bm25", "generator": "extractive", "max_questions": 6, "top_k": 3}
    wrong_type = ("top_k", "true")  # a boolean is not a number
