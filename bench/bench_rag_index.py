"""RAG index build: warm embedding cache vs cold, and query latency per retriever.

1. Dense index build on the shipped corpus (61 documents) with an empty embedding cache (cold:
   every chunk is embedded, then saved) vs the same build again (warm: the .npy is loaded).
   Target: warm >= 10x faster. The embedding model is loaded once beforehand and not timed
   (a run loads it once per process either way).
2. Query latency of each retriever over the 70 shipped questions (top_k 5), ratio to bm25.

Run: .venv/bin/python bench/bench_rag_index.py [--chunk-size 512] [--chunk-overlap 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from runner_rag.chunking import chunk_documents
from runner_rag.data import (
    corpus_digest,
    load_corpus,
    load_questions,
    shipped_corpus_dir,
    shipped_questions_path,
)
from runner_rag.embeddings import Embedder, EmbeddingCache
from runner_rag.index import build_index

RETRIEVERS = ("bm25", "tfidf", "dense", "hybrid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--chunk-overlap", type=int, default=64)
    parser.add_argument(
        "--repeats", type=int, default=3, help="cold/warm builds to take the median of"
    )
    args = parser.parse_args()

    docs = load_corpus(shipped_corpus_dir())
    questions = load_questions(shipped_questions_path())
    chunks = chunk_documents(docs, args.chunk_size, args.chunk_overlap)
    embedder = Embedder("all-MiniLM-L6-v2")
    embedder.model  # noqa: B018 - load once, outside every timing
    key = EmbeddingCache.key(
        corpus_digest(docs), args.chunk_size, args.chunk_overlap, embedder.model_id
    )
    print(
        f"corpus: {len(docs)} documents, {len(chunks)} chunks of <= {args.chunk_size} chars; "
        f"{len(questions)} questions"
    )

    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cache = EmbeddingCache(Path(tmp))
            first = build_index("dense", chunks, embedder=embedder, cache_key=key, cache=cache)
            second = build_index("dense", chunks, embedder=embedder, cache_key=key, cache=cache)
            assert first.embedding_cache_hit is False and second.embedding_cache_hit is True
            cold.append(first.build_sec)
            warm.append(second.build_sec)
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"\n1. dense index build (median of {args.repeats})")
    print(f"{'cache':<8}{'seconds':>12}")
    print(f"{'cold':<8}{cold_s:>12.4f}")
    print(f"{'warm':<8}{warm_s:>12.4f}")
    ratio = cold_s / warm_s
    print(
        f"warm is {ratio:,.0f}x faster than cold (target >= 10x): "
        f"{'PASS' if ratio >= 10 else 'FAIL'}"
    )

    print(f"\n2. query latency over {len(questions)} questions, top_k 5 (warm cache)")
    print(f"{'retriever':<10}{'build s':>10}{'mean ms':>10}{'p95 ms':>10}{'vs bm25':>10}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        cache = EmbeddingCache(Path(tmp))
        build_index(
            "dense", chunks, embedder=embedder, cache_key=key, cache=cache
        )  # fill the cache
        for kind in RETRIEVERS:
            fresh = Embedder("all-MiniLM-L6-v2")  # same loaded model, empty query memo
            index = build_index(kind, chunks, embedder=fresh, cache_key=key, cache=cache)
            retriever = index.retriever
            retriever.search("warm-up query", 5)  # first call allocates
            times = []
            for q in questions:
                started = time.perf_counter()
                retriever.search(q.question, 5)
                times.append((time.perf_counter() - started) * 1000)
            mean = statistics.fmean(times)
            p95 = statistics.quantiles(times, n=20)[-1]
            base = base or mean
            print(
                f"{kind:<10}{index.build_sec:>10.4f}{mean:>10.2f}{p95:>10.2f}{mean / base:>9.1f}x"
            )
    print(
        "(dense/hybrid build = loading cached embeddings; their query time is mostly embedding "
        "the question with the model)"
    )


if __name__ == "__main__":
    main()
