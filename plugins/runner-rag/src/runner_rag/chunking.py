"""Split documents into overlapping chunks measured in characters, cut at whitespace.

The unit is characters, not tokens: a chunk is at most ``chunk_size`` characters of the original
text, ending at a word boundary (a single word longer than that is cut hard). The next chunk
starts at the first word that begins within the last ``chunk_overlap`` characters of the
previous chunk, so consecutive chunks share about ``chunk_overlap`` characters of whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runner_rag.data import Document

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """A piece of one document: ``chunk_id`` is ``<doc_id>#<n>``; ``start`` a character offset."""

    chunk_id: str
    doc_id: str
    text: str
    start: int


def _word_spans(text: str, size: int) -> list[tuple[int, int]]:
    """Offsets of the words of ``text``; words longer than ``size`` are split into pieces."""
    spans = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        while end - start > size:
            spans.append((start, start + size))
            start += size
        spans.append((start, end))
    return spans


def chunk_text(text: str, size: int, overlap: int) -> list[tuple[int, str]]:
    """``(start, text)`` windows of at most ``size`` characters overlapping by ~``overlap``."""
    if overlap >= size:
        raise ValueError("overlap must be smaller than size")
    spans = _word_spans(text, size)
    chunks: list[tuple[int, str]] = []
    i = 0
    while i < len(spans):
        start = spans[i][0]
        j = i
        while j + 1 < len(spans) and spans[j + 1][1] - start <= size:
            j += 1
        end = spans[j][1]
        chunks.append((start, text[start:end]))
        if j == len(spans) - 1:
            break
        # Next chunk: the first word starting at or after ``end - overlap`` (always moves on).
        nxt = j + 1
        while nxt - 1 > i and spans[nxt - 1][0] >= end - overlap:
            nxt -= 1
        i = nxt
    return chunks


def chunk_documents(docs: list[Document], size: int, overlap: int) -> list[Chunk]:
    """Chunk every document; ids keep the document order, so results are deterministic."""
    chunks = []
    for doc in docs:
        for n, (start, text) in enumerate(chunk_text(doc.text, size, overlap)):
            chunks.append(Chunk(f"{doc.doc_id}#{n}", doc.doc_id, text, start))
    return chunks
