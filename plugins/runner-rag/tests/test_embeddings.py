"""The bundled embedding model (offline), its once-per-process load, the disk cache, relevance."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from runner import InputError

from runner_rag import embeddings, metrics
from runner_rag.chunking import chunk_documents
from runner_rag.data import load_corpus, shipped_corpus_dir
from runner_rag.embeddings import Embedder
from runner_rag.generators import ExtractiveGenerator


def test_bundled_model_resolves_inside_site_packages() -> None:
    folder = embeddings.resolve_model("all-MiniLM-L6-v2")
    assert "site-packages" in str(folder) and (folder / "model.safetensors").is_file()


def test_unknown_model_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown embedding_model 'no-such-model'"):
        embeddings.resolve_model("no-such-model")
    with pytest.raises(InputError, match="unknown embedding_model"):
        embeddings.resolve_model(str(tmp_path))  # a folder without a model


def test_cache_round_trip_is_atomic_and_checks_rows(tmp_path: Path) -> None:
    cache = embeddings.EmbeddingCache(tmp_path)
    key = cache.key("digest", 512, 64, "model")
    assert key != cache.key("digest", 256, 64, "model") != cache.key("other", 512, 64, "model")
    array = np.arange(12, dtype=np.float32).reshape(4, 3)
    cache.save(key, array)
    assert np.array_equal(cache.load(key, 4), array)
    assert cache.load(key, 5) is None  # stale shape -> recompute
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.npy"]  # no temp file left
    cache.path(key).write_bytes(b"garbage")
    assert cache.load(key, 4) is None


@pytest.mark.slow
def test_model_loads_once_and_answer_relevance_ranks_right_above_wrong() -> None:
    embedder = Embedder("all-MiniLM-L6-v2")
    first = embedder.model
    assert Embedder("all-MiniLM-L6-v2").model is first
    assert embeddings.LOAD_COUNTS[str(embedder.folder.resolve())] == 1
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    reference = [
        "The period is 2**19937-1.",
        "heapify transforms a list into a heap in linear time.",
    ]
    right = [
        "The Mersenne Twister has a period of 2**19937-1.",
        "It turns the list into a heap in linear time.",
    ]
    wrong = ["Use the -v switch to get a verbose report.", "The default backup extension is .bak."]
    ref_vectors = embedder.encode(reference)
    right_scores = metrics.answer_relevance(embedder.encode(right), ref_vectors)
    wrong_scores = metrics.answer_relevance(embedder.encode(wrong), ref_vectors)
    assert np.all(right_scores > wrong_scores + 0.2)
    assert np.all((0 <= right_scores) & (right_scores <= 1))


@pytest.mark.slow
def test_extractive_generator_picks_the_sentence_that_answers() -> None:
    docs = [d for d in load_corpus(shipped_corpus_dir()) if d.doc_id in ("heapq", "time")]
    chunks = chunk_documents(docs, 512, 64)
    generation = ExtractiveGenerator(Embedder("all-MiniLM-L6-v2")).generate(
        "Which element of a heap is always its smallest element?", chunks
    )
    assert (
        generation.text
        == "The interesting property of a heap is that a[0] is always its smallest element."
    )
    assert generation.completion is None and "Context:" in generation.prompt
