"""Build the retrieval index a run asks for, timing it and reusing cached chunk embeddings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runner_rag import embeddings
from runner_rag.chunking import Chunk
from runner_rag.embeddings import Embedder
from runner_rag.retrievers import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    Retriever,
    TfidfRetriever,
)

#: Retrievers that need chunk embeddings.
DENSE_RETRIEVERS = ("dense", "hybrid")


@dataclass
class Index:
    """A built retriever with what it cost to build."""

    retriever: Retriever
    build_sec: float
    embedding_cache_hit: bool | None
    cache_path: Path | None


def chunk_embeddings(
    embedder: Embedder, chunks: list[Chunk], key: str, cache: embeddings.EmbeddingCache
) -> tuple[np.ndarray, bool]:
    """The chunks' embeddings from ``cache`` if present, else computed and saved; and if hit."""
    cached = cache.load(key, len(chunks))
    if cached is not None:
        return cached, True
    vectors = embeddings.encode(embedder.model, [c.text for c in chunks], embedder.batch_size)
    cache.save(key, vectors)
    return vectors, False


def build_index(
    kind: str,
    chunks: list[Chunk],
    *,
    embedder: Embedder | None,
    cache_key: str | None,
    cache: embeddings.EmbeddingCache | None = None,
    rrf_k: int = 60,
) -> Index:
    """Build retriever ``kind`` over ``chunks``; dense kinds need ``embedder`` and ``cache_key``.

    ``build_sec`` covers tokenizing/vectorizing and computing (or loading) chunk embeddings, not
    loading the embedding model, which happens once per process.
    """
    texts = [c.text for c in chunks]
    if kind in DENSE_RETRIEVERS:
        if embedder is None or cache_key is None:
            raise ValueError(f"retriever {kind!r} needs an embedder and a cache key")
        embedder.model  # noqa: B018 - load outside the timed section
    cache = cache or embeddings.EmbeddingCache()
    started = time.perf_counter()
    hit: bool | None = None
    retriever: Retriever
    if kind == "bm25":
        retriever = BM25Retriever(texts)
    elif kind == "tfidf":
        retriever = TfidfRetriever(texts)
    elif kind in DENSE_RETRIEVERS:
        assert embedder is not None and cache_key is not None
        vectors, hit = chunk_embeddings(embedder, chunks, cache_key, cache)
        dense = DenseRetriever(vectors, embedder.encode_one)
        retriever = (
            dense if kind == "dense" else HybridRetriever(BM25Retriever(texts), dense, rrf_k)
        )
    else:
        raise ValueError(f"unknown retriever {kind!r}")
    build_sec = time.perf_counter() - started
    cache_path = cache.path(cache_key) if hit is not None and cache_key is not None else None
    return Index(retriever, build_sec, hit, cache_path)
