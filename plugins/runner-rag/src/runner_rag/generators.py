"""Turn a question and its retrieved chunks into an answer: extractive (no LLM) or an LLM.

The LLM path reuses runner-llm: its prompt templates (``{{variable}}`` files, rendered with
:func:`runner_llm.prompts.render`), its cached backends and :func:`runner_llm.calls.iter_calls`,
which wraps each request in an ``LLM`` trace span with token usage.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
from runner import InputError
from runner_llm import prompts
from runner_llm.backends import Backend, Completion
from runner_llm.calls import iter_calls

from runner_rag.chunking import Chunk

if TYPE_CHECKING:
    from runner import RunContext

    from runner_rag.embeddings import Embedder

#: Sentence boundaries inside a block: end punctuation followed by space and a capital/digit.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(`*])")
#: A line that starts a new block: a list bullet, a numbered item or a "name -- text" entry.
_BLOCK_START = re.compile(r"^\s*([-*+\u2022]\s|\d+[.)]\s|\S+(\(\))?\s+--\s)")
#: Fragments shorter than this many words are not offered as answers.
MIN_SENTENCE_WORDS = 3


@dataclass(frozen=True)
class Generation:
    """An answer, the input the generator saw (``prompt``) and how long it took."""

    text: str
    prompt: str
    latency_sec: float
    completion: Completion | None = None


#: One question with its retrieved chunks, best first.
Item = tuple[str, list[Chunk]]


class Generator(Protocol):
    """Answers questions from their retrieved chunks."""

    def answers(self, ctx: RunContext, items: list[Item]) -> Iterator[Generation]:
        """One answer per item, in order, each yielded as soon as it is ready."""
        ...


def format_context(chunks: list[Chunk]) -> str:
    """Numbered passages ``[1] (doc_id) text``, separated by blank lines."""
    return "\n\n".join(
        f"[{n}] ({c.doc_id}) {c.text.strip()}" for n, c in enumerate(chunks, start=1)
    )


def _blocks(text: str) -> list[str]:
    """Group lines into blocks: a blank line, a list item or a line after a colon starts one."""
    blocks: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if not line.strip():
            previous = ""
            continue
        if (
            not blocks
            or not previous
            or previous.rstrip().endswith(":")
            or _BLOCK_START.match(line)
        ):
            blocks.append([])
        blocks[-1].append(line.strip())
        previous = line
    return [" ".join(b) for b in blocks]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (list items and lines ending in ':' end one); under 3 words dropped."""
    sentences = (s.strip() for block in _blocks(text) for s in _SENTENCE_END.split(block))
    return [s for s in sentences if len(s.split()) >= MIN_SENTENCE_WORDS]


class ExtractiveGenerator:
    """No LLM: answer with the retrieved sentence whose embedding is closest to the question's."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def generate(self, question: str, chunks: list[Chunk]) -> Generation:
        started = time.perf_counter()
        sentences = list(dict.fromkeys(s for c in chunks for s in split_sentences(c.text)))
        answer = ""
        if sentences:
            scores = self.embedder.encode(sentences) @ self.embedder.encode_one(question)
            answer = sentences[int(np.argmax(scores))]
        prompt = f"Question: {question}\n\nContext:\n{format_context(chunks)}"
        return Generation(answer, prompt, time.perf_counter() - started)

    def answers(self, ctx: RunContext, items: list[Item]) -> Iterator[Generation]:
        for q, chunks in ctx.progress(items, "extracting answers", total=len(items)):
            yield self.generate(q, chunks)


def builtin_prompts_dir() -> Path:
    """The folder of RAG prompts shipped with runner_rag."""
    return Path(str(files("runner_rag") / "prompts"))


def load_prompt(name: str, version: int, user_dir: str | None = None) -> prompts.PromptTemplate:
    """Template ``<name>/v<version>.txt`` from ``user_dir`` first, then this package's prompts.

    :raises InputError: no such prompt or version, or it lacks ``{{question}}``/``{{context}}``.
    """
    template: prompts.PromptTemplate | None = None
    if user_dir:
        try:
            template = prompts.load_template(name, version, user_dir)
        except InputError:
            if not Path(user_dir).expanduser().is_dir():
                raise
    if template is None:
        template = prompts.load_template(name, version, builtin_prompts_dir())
    missing = [v for v in ("question", "context") if v not in template.variables]
    if missing:
        raise InputError(
            f"prompt {name!r} v{version} ({template.path}) lacks the placeholder "
            f"{{{{{missing[0]}}}}}"
        )
    return template


class LLMGenerator:
    """Ask the runner-llm backend, with the versioned RAG prompt filled with the passages."""

    def __init__(self, backend: Backend, template: prompts.PromptTemplate) -> None:
        self.backend = backend
        self.template = template

    def messages(self, question: str, chunks: list[Chunk]) -> list[dict[str, str]]:
        """The chat request: one user message, the rendered template."""
        variables = {"question": question, "context": format_context(chunks)}
        return [{"role": "user", "content": prompts.render(self.template, variables)}]

    def answers(self, ctx: RunContext, items: list[Item]) -> Iterator[Generation]:
        """Answer item by item through :func:`runner_llm.calls.iter_calls` (one LLM span each).

        ``latency_sec`` is the backend's own measure of the call, without tracing overhead. A
        failing call raises after the answers before it were yielded.
        """
        requests = [self.messages(q, chunks) for q, chunks in items]
        for r in iter_calls(
            ctx,
            self.backend,
            requests,
            span_name="rag_answer",
            description="generating answers",
            total=len(requests),
        ):
            yield Generation(
                r.completion.text, r.messages[0]["content"], r.completion.latency_sec, r.completion
            )
