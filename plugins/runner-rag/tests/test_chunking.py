"""Character chunking: bounded size, real overlap, full coverage, deterministic ids."""

from __future__ import annotations

import pytest

from runner_rag.chunking import chunk_documents, chunk_text
from runner_rag.data import Document, load_corpus, shipped_corpus_dir


@pytest.mark.parametrize(("size", "overlap"), [(64, 0), (128, 32), (512, 64), (1024, 200)])
def test_chunks_are_bounded_cover_every_word_and_overlap(size: int, overlap: int) -> None:
    text = (shipped_corpus_dir() / "socketserver.txt").read_text(encoding="utf-8")
    chunks = chunk_text(text, size, overlap)
    assert all(len(t) <= size for _, t in chunks)
    covered = set()
    for start, t in chunks:
        assert text[start : start + len(t)] == t
        covered.update(range(start, start + len(t)))
    words = [i for i, ch in enumerate(text) if not ch.isspace()]
    assert set(words) <= covered
    starts = [s for s, _ in chunks]
    assert starts == sorted(set(starts))
    shared = [max(0, (s0 + len(t0)) - s1) for (s0, t0), (s1, _) in zip(chunks, chunks[1:])]
    if overlap == 0:
        assert max(shared) == 0
    else:
        assert max(shared) > 0 and max(shared) <= overlap + 40


def test_long_words_are_cut_and_ids_follow_documents() -> None:
    docs = [Document("a", "x" * 25 + " tail"), Document("b", "short text")]
    chunks = chunk_documents(docs, 10, 2)
    assert [c.chunk_id for c in chunks] == ["a#0", "a#1", "a#2", "b#0"]
    assert all(len(c.text) <= 10 for c in chunks)


def test_smaller_chunks_mean_more_chunks() -> None:
    docs = load_corpus(shipped_corpus_dir())
    counts = [len(chunk_documents(docs, size, size // 8)) for size in (128, 256, 512, 1024)]
    assert counts == sorted(counts, reverse=True) and counts[0] > 4 * counts[-1]


def test_overlap_must_be_below_size() -> None:
    with pytest.raises(ValueError):
        chunk_text("a b c", 10, 10)
