"""Sparse retrievers on the shipped data (no model needed): far better than random."""

from __future__ import annotations

import numpy as np
import pytest

from runner_rag import metrics
from runner_rag.chunking import chunk_documents
from runner_rag.data import load_corpus, load_questions, shipped_corpus_dir, shipped_questions_path
from runner_rag.retrievers import BM25Retriever, TfidfRetriever, rrf_scores, top_k


@pytest.fixture(scope="module")
def shipped():  # noqa: ANN201
    docs = load_corpus(shipped_corpus_dir())
    return chunk_documents(docs, 512, 64), load_questions(shipped_questions_path())


@pytest.mark.parametrize("kind", [BM25Retriever, TfidfRetriever])
def test_sparse_retrievers_beat_random_clearly(shipped, kind) -> None:  # noqa: ANN001
    chunks, questions = shipped
    retriever = kind([c.text for c in chunks])
    k = 5
    hits = [
        metrics.retrieval_scores(
            [chunks[i].doc_id for i, _ in retriever.search(q.question, k)], q.doc_ids
        )
        for q in questions
    ]
    hit_rate = np.mean([h["hit_rate_at_k"] for h in hits])
    per_doc = {}
    for c in chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    random_rate = np.mean(
        [
            metrics.random_hit_rate(len(chunks), sum(per_doc[d] for d in q.doc_ids), k)
            for q in questions
        ]
    )
    assert hit_rate >= 0.8
    assert hit_rate > 4 * random_rate


def test_bm25_ranks_the_matching_chunk_first() -> None:
    texts = ["cats sit on mats", "heap queue priority algorithm", "dogs bark loudly"]
    found = BM25Retriever(texts).search("priority heap", 2)
    assert found[0][0] == 1 and found[0][1] > found[1][1]


def test_top_k_orders_by_score_then_index() -> None:
    assert top_k(np.array([0.1, 0.5, 0.5, 0.9]), 3) == [(3, 0.9), (1, 0.5), (2, 0.5)]
    assert top_k(np.array([0.3]), 5) == [(0, 0.3)]


def test_rrf_scores_follow_rank() -> None:
    scores = rrf_scores(np.array([0.2, 0.9, 0.5]), 60)
    assert scores.tolist() == pytest.approx([1 / 63, 1 / 61, 1 / 62])
