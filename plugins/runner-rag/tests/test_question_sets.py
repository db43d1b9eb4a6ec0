"""The shipped question sets: the hard one separates the retrievers, the basic one does not.

Real retrieval on the shipped corpus (512-character chunks, top 5) with the bundled embedding
model, scored by the run's own metric functions (hit rate, and ranx's nDCG@5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner_rag import metrics
from runner_rag.chunking import chunk_documents
from runner_rag.data import corpus_digest, load_corpus, load_questions, shipped_corpus_dir
from runner_rag.data import shipped_questions_path
from runner_rag.embeddings import Embedder, EmbeddingCache
from runner_rag.index import build_index

pytestmark = pytest.mark.slow

RETRIEVERS = ("bm25", "tfidf", "dense", "hybrid")
TOP_K = 5


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, float]]:
    """(question set, retriever) -> mean hit_rate_at_k and ndcg_at_k over the set."""
    docs = load_corpus(shipped_corpus_dir())
    chunks = chunk_documents(docs, 512, 64)
    embedder = Embedder("all-MiniLM-L6-v2")
    key = EmbeddingCache.key(corpus_digest(docs), 512, 64, embedder.model_id)
    cache = EmbeddingCache(Path(tmp_path_factory.mktemp("embeddings")))
    means = {}
    for retriever in RETRIEVERS:
        index = build_index(retriever, chunks, embedder=embedder, cache_key=key, cache=cache)
        for name in ("basic", "hard"):
            questions = load_questions(shipped_questions_path(name))
            retrieved = [
                [chunks[i].doc_id for i, _ in index.retriever.search(q.question, TOP_K)]
                for q in questions
            ]
            gold = [q.doc_ids for q in questions]
            ndcg = metrics.standard_retrieval_scores(retrieved, gold, TOP_K)
            means[name, retriever] = {
                "hit_rate_at_k": float(
                    np.mean([metrics.retrieval_scores(r, g)["hit_rate_at_k"]
                             for r, g in zip(retrieved, gold)])
                ),
                "ndcg_at_k": float(np.mean([s["ndcg_at_k"] for s in ndcg])),
            }
    return means


def test_basic_set_does_not_separate_retrievers(scores: dict) -> None:
    assert all(scores["basic", r]["hit_rate_at_k"] >= 0.95 for r in RETRIEVERS)


def test_hard_set_is_harder_for_every_retriever(scores: dict) -> None:
    for r in RETRIEVERS:
        assert scores["hard", r]["ndcg_at_k"] < scores["basic", r]["ndcg_at_k"] - 0.05, r


def test_hard_set_separates_dense_from_lexical_retrievers(scores: dict) -> None:
    """Paraphrases share few words with their document: embeddings find what BM25/TF-IDF miss."""
    ndcg = {r: scores["hard", r]["ndcg_at_k"] for r in RETRIEVERS}
    for semantic in ("dense", "hybrid"):
        for lexical in ("bm25", "tfidf"):
            assert ndcg[semantic] >= ndcg[lexical] + 0.05, (semantic, lexical, ndcg)
