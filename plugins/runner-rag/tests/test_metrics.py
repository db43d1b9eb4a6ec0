"""Metric definitions on hand-checked cases."""

from __future__ import annotations

import itertools
import math

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


def test_ranx_scores_equal_hand_computed_values_on_the_document_ranking() -> None:
    log2 = math.log2
    scores = metrics.standard_retrieval_scores(
        retrieved=[["x", "a", "a", "y", "b"], ["b", "b"], ["z"]],
        gold=[["a", "b", "c"], ["b"], ["a"]],
        k=5,
    )
    # question 0: documents x, a, y, b (a's second chunk is not a second hit): gold at 2 and 4
    assert scores[0] == pytest.approx(
        {
            "ndcg_at_k": (1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3) + 1 / log2(4)),
            "map_at_k": (1 / 2 + 2 / 4) / 3,  # over all 3 gold documents, as in TREC eval
            "recall_at_k": 2 / 3,
            "precision_at_k": 2 / 5,
        }
    )
    # question 1: one document from two chunks, ranked first
    assert scores[1] == pytest.approx(
        {"ndcg_at_k": 1.0, "map_at_k": 1.0, "recall_at_k": 1.0, "precision_at_k": 1 / 5}
    )
    assert set(scores[2].values()) == {0.0}  # a miss
    assert metrics.ranked_doc_ids(["x", "a", "a", "y", "x"]) == ["x", "a", "y"]


def test_ranx_scores_follow_rank_not_document_name() -> None:
    """Every document gets a distinct score from its rank, so names never reorder a ranking."""
    first, second = metrics.standard_retrieval_scores([["zz", "aa"], ["aa", "zz"]],
                                                      [["zz"], ["zz"]], k=2)
    assert (first["ndcg_at_k"], first["map_at_k"]) == (1.0, 1.0)
    assert second["map_at_k"] == pytest.approx(1 / 2)
    assert second["ndcg_at_k"] == pytest.approx(1 / math.log2(3))


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
