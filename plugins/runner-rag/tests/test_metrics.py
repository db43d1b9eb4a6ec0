"""Metric definitions on hand-checked cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from runner_rag import metrics


def test_retrieval_scores_by_hand() -> None:
    scores = metrics.retrieval_scores(["x", "a", "y", "b", "a"], ["a", "b", "c"])
    assert scores["hit_rate_at_k"] == 1.0
    assert scores["mrr"] == pytest.approx(1 / 2)
    assert scores["context_recall"] == pytest.approx(2 / 3)
    miss = metrics.retrieval_scores(["x", "y"], ["a"])
    assert miss == {"hit_rate_at_k": 0.0, "mrr": 0.0, "context_recall": 0.0}


@pytest.mark.parametrize(("n", "gold", "k"), [(6, 1, 2), (7, 2, 3), (5, 3, 3), (4, 0, 2)])
def test_random_hit_rate_matches_enumeration(n: int, gold: int, k: int) -> None:
    combos = list(itertools.combinations(range(n), k))
    expected = sum(any(i < gold for i in c) for c in combos) / len(combos)
    assert metrics.random_hit_rate(n, gold, k) == pytest.approx(expected)


def test_faithfulness_counts_supported_content_tokens() -> None:
    context = "The heap queue keeps the smallest item at index zero."
    assert metrics.faithfulness("the smallest item", context) == 1.0
    assert metrics.faithfulness("smallest banana", context) == pytest.approx(0.5)
    assert metrics.faithfulness("the of and", context) == 0.0  # no content token
    assert metrics.faithfulness("", context) == 0.0


def test_answer_relevance_is_clipped_cosine() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    b = np.array([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]])
    assert metrics.answer_relevance(a, b).tolist() == pytest.approx([1.0, 0.8, 0.0])
