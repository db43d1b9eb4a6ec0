"""Retrievers over a list of chunk texts: BM25 (bm25s), TF-IDF (scikit-learn), dense, hybrid.

Each scores every chunk for a query and returns the ``k`` best as ``(chunk index, score)``, best
first; ties keep corpus order, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

Hits = list[tuple[int, float]]


def top_k(scores: np.ndarray, k: int) -> Hits:
    """The ``k`` highest scores as ``(index, score)``, best first, ties by lower index."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    return [(int(i), float(scores[i])) for i in order]


class Retriever(Protocol):
    """Finds the chunks most relevant to a query."""

    def search(self, query: str, k: int) -> Hits:
        """The ``k`` best chunks for ``query``, best first."""
        ...


class BM25Retriever:
    """Okapi BM25 over lower-cased word tokens with English stop words removed (bm25s)."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        self._bm25s = bm25s
        self._index = bm25s.BM25()
        self._index.index(self._tokenize(texts), show_progress=False)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return self._bm25s.tokenize(texts, stopwords="en", return_ids=False, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for ``query`` (0 for chunks sharing no term)."""
        return np.asarray(self._index.get_scores(self._tokenize([query])[0]), dtype=np.float64)

    def search(self, query: str, k: int) -> Hits:
        return top_k(self.scores(query), k)


class TfidfRetriever:
    """Cosine similarity of TF-IDF vectors (unigrams and bigrams, sublinear tf; scikit-learn)."""

    def __init__(self, texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._vectorizer = TfidfVectorizer(
            stop_words="english", ngram_range=(1, 2), sublinear_tf=True
        )
        self._matrix = self._vectorizer.fit_transform(texts)

    def search(self, query: str, k: int) -> Hits:
        query_vector = self._vectorizer.transform([query])
        scores = (self._matrix @ query_vector.T).toarray().ravel()
        return top_k(scores, k)


class DenseRetriever:
    """Cosine similarity of unit-length embeddings (chunk vectors computed or loaded beforehand)."""

    def __init__(self, embeddings: np.ndarray, embed_query: Callable[[str], np.ndarray]) -> None:
        self._embeddings = embeddings
        self._embed_query = embed_query

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of every chunk to ``query``."""
        return self._embeddings @ self._embed_query(query)

    def search(self, query: str, k: int) -> Hits:
        return top_k(self.scores(query), k)


def rrf_scores(scores: np.ndarray, rrf_k: int) -> np.ndarray:
    """Each item's reciprocal-rank contribution ``1 / (rrf_k + rank)``, ranks starting at 1."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    return 1.0 / (rrf_k + ranks)


class HybridRetriever:
    """Reciprocal-rank fusion of BM25 and dense rankings: score = sum of 1 / (rrf_k + rank).

    Ranks start at 1 and cover every chunk; a chunk with BM25 score 0 (no shared term) gets no
    BM25 contribution, so unrelated chunks are not promoted by their arbitrary BM25 rank.
    """

    def __init__(self, bm25: BM25Retriever, dense: DenseRetriever, rrf_k: int = 60) -> None:
        self._bm25 = bm25
        self._dense = dense
        self._rrf_k = rrf_k

    def _fused(self, query: str) -> np.ndarray:
        bm25 = self._bm25.scores(query)
        sparse = rrf_scores(bm25, self._rrf_k)
        sparse[bm25 <= 0] = 0.0
        return sparse + rrf_scores(self._dense.scores(query), self._rrf_k)

    def search(self, query: str, k: int) -> Hits:
        return top_k(self._fused(query), k)
