"""The ``rag`` experiment: chunk a corpus, index it, answer questions, score retrieval and answers.

Phases: ``runner_prepare`` loads and checks data, model names and the prompt (bad input is one
``InputError`` line and no run); ``runner_execute`` chunks, builds the index (embeddings cached on
disk), retrieves for every question and generates answers; ``runner_evaluate`` scores them;
``runner_log`` hands over the per-question table, ``prompt.txt`` and ``response.txt``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from runner import RunContext, hookimpl
from runner_llm import quality
from runner_llm.backends import get_backend
from runner_llm.calls import keep_partial_results, latency_summary, log_token_usage

from runner_rag import metrics
from runner_rag.chunking import Chunk, chunk_documents
from runner_rag.data import (
    Document,
    Question,
    check_gold_ids,
    corpus_digest,
    load_corpus,
    load_questions,
    shipped_corpus_dir,
    shipped_questions_path,
)
from runner_rag.embeddings import Embedder, EmbeddingCache
from runner_rag.generators import (
    ExtractiveGenerator,
    Generation,
    Generator,
    LLMGenerator,
    load_prompt,
)
from runner_rag.index import build_index
from runner_rag.params import RagParams

@dataclass
class Answered:
    """One question after retrieval and generation."""

    question: Question
    hits: list[tuple[Chunk, float]]
    retrieval_sec: float
    generation: Generation
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def chunks(self) -> list[Chunk]:
        return [chunk for chunk, _ in self.hits]

    @property
    def latency_sec(self) -> float:
        """End to end: retrieval plus generation."""
        return self.retrieval_sec + self.generation.latency_sec


class RagExperiment:
    """Hook implementation registered for the duration of one ``rag`` run."""

    # --- prepare ---------------------------------------------------------------------------

    @hookimpl
    def runner_prepare(self, ctx: RunContext) -> None:
        """Load corpus and questions, resolve models and prompt; reject bad input early."""
        params: RagParams = ctx.params  # type: ignore[assignment]
        corpus_dir = (
            Path(params.corpus_dir).expanduser() if params.corpus_dir else shipped_corpus_dir()
        )
        questions_path = (
            Path(params.questions_path).expanduser()
            if params.questions_path
            else shipped_questions_path()
        )
        docs = load_corpus(corpus_dir)
        questions = load_questions(questions_path, params.max_questions)
        check_gold_ids(questions, docs)
        embedder = Embedder(params.embedding_model, params.embedding_batch_size)
        generator: Generator
        if params.generator == "llm":
            template = load_prompt(params.prompt_name, params.prompt_version, params.prompts_dir)
            generator = LLMGenerator(get_backend(params), template)
            ctx.state["template"] = template
        else:
            generator = ExtractiveGenerator(embedder)
        digest = corpus_digest(docs)
        ctx.state.update(
            docs=docs, questions=questions, embedder=embedder, generator=generator, digest=digest
        )
        self._log_inputs(ctx, docs, questions, corpus_dir, questions_path, digest)

    @staticmethod
    def _log_inputs(
        ctx: RunContext,
        docs: list[Document],
        questions: list[Question],
        corpus_dir: Path,
        questions_path: Path,
        digest: str,
    ) -> None:
        import pandas as pd

        ctx.log_dataset(
            pd.DataFrame({"doc_id": [d.doc_id for d in docs], "text": [d.text for d in docs]}),
            name="corpus",
            source=str(corpus_dir),
            context="retrieval",
        )
        ctx.log_dataset(
            pd.DataFrame(
                {
                    "question": [q.question for q in questions],
                    "answer": [q.answer for q in questions],
                    "doc_ids": [",".join(q.doc_ids) for q in questions],
                }
            ),
            name="questions",
            source=str(questions_path),
            targets="answer",
            context="evaluation",
        )
        ctx.set_tag("rag.corpus_digest", digest[:16])
        ctx.set_tag("rag.chunk_unit", "characters")

    # --- execute ---------------------------------------------------------------------------

    @hookimpl
    def runner_execute(self, ctx: RunContext) -> None:
        """Chunk, index, retrieve for every question, then answer them one by one.

        Answers land in ``ctx.state["answered"]`` as they arrive; if the LLM fails on question N,
        questions 1..N-1 are still scored and logged before the error ends the run.
        """
        params: RagParams = ctx.params  # type: ignore[assignment]
        state = ctx.state
        chunks = chunk_documents(state["docs"], params.chunk_size, params.chunk_overlap)
        state["chunks"] = chunks
        ctx.log_metrics(
            {
                "num_documents": len(state["docs"]),
                "num_chunks": len(chunks),
                "num_questions": len(state["questions"]),
            }
        )
        self._build_index(ctx, params, chunks)
        hits, retrieval_secs = self._retrieve_all(ctx, params, chunks)
        if "template" in state:
            template = state["template"]
            prompt = ctx.register_prompt(params.prompt_name, template.text)
            ctx.log_param("prompt_uri", prompt.uri)
        questions: list[Question] = state["questions"]
        items = [(q.question, [c for c, _ in h]) for q, h in zip(questions, hits)]
        answered: list[Answered] = state.setdefault("answered", [])

        def log_partial() -> None:  # a failed LLM call: keep scores and artifacts of answers
            self.runner_evaluate(ctx)
            self.runner_log(ctx)

        with keep_partial_results(ctx, answered, len(questions), log_partial):
            generations = state["generator"].answers(ctx, items)
            for q, h, sec, g in zip(questions, hits, retrieval_secs, generations):
                answered.append(Answered(q, h, sec, g))

    @staticmethod
    def _build_index(ctx: RunContext, params: RagParams, chunks: list[Chunk]) -> None:
        embedder: Embedder = ctx.state["embedder"]
        key = EmbeddingCache.key(
            ctx.state["digest"], params.chunk_size, params.chunk_overlap, embedder.model_id
        )
        index = build_index(
            params.retriever, chunks, embedder=embedder, cache_key=key, rrf_k=params.rrf_k
        )
        ctx.state["retriever"] = index.retriever
        ctx.log_metric("index_build_sec", index.build_sec)
        if index.embedding_cache_hit is not None:
            ctx.log_metric("embedding_cache_hit", float(index.embedding_cache_hit))
            ctx.set_tag("rag.embedding_cache", "hit" if index.embedding_cache_hit else "miss")
            ctx.set_tag("rag.embedding_cache_file", str(index.cache_path))

    @staticmethod
    def _retrieve_all(
        ctx: RunContext, params: RagParams, chunks: list[Chunk]
    ) -> tuple[list[list[tuple[Chunk, float]]], list[float]]:
        """Top-k chunks per question, in one trace with a RETRIEVER span per question."""
        retriever = ctx.state["retriever"]
        questions: list[Question] = ctx.state["questions"]
        all_hits, seconds = [], []
        with ctx.trace(
            "retrieval", "CHAIN", inputs={"retriever": params.retriever, "top_k": params.top_k}
        ):
            for q in ctx.progress(questions, "retrieving", total=len(questions)):
                with ctx.trace("retrieve", "RETRIEVER", inputs={"query": q.question}) as span:
                    started = time.perf_counter()
                    found = retriever.search(q.question, params.top_k)
                    seconds.append(time.perf_counter() - started)
                    hits = [(chunks[i], score) for i, score in found]
                    span.set_outputs(
                        [
                            {
                                "page_content": c.text,
                                "metadata": {"chunk_id": c.chunk_id, "score": s},
                            }
                            for c, s in hits
                        ]
                    )
                all_hits.append(hits)
        return all_hits, seconds

    # --- evaluate --------------------------------------------------------------------------

    @hookimpl
    def runner_evaluate(self, ctx: RunContext) -> None:
        """Per-question scores, then their means, latency percentiles, tokens and cost."""
        params: RagParams = ctx.params  # type: ignore[assignment]
        answered: list[Answered] = ctx.state["answered"]
        embedder: Embedder = ctx.state["embedder"]
        relevance = self._answer_relevance(embedder, answered)
        for item, rel in zip(answered, relevance):
            answer = item.generation.text
            context = "\n".join(c.text for c in item.chunks)
            item.scores = {
                **metrics.retrieval_scores([c.doc_id for c in item.chunks], item.question.doc_ids),
                "answer_relevance": float(rel),
                "faithfulness": metrics.faithfulness(answer, context),
                "token_f1": quality.token_f1(answer, item.question.answer),
                "rouge_l": quality.rouge_l(answer, item.question.answer),
            }
        means = {k: float(np.mean([a.scores[k] for a in answered])) for k in answered[0].scores}
        ctx.log_metrics(means)
        ctx.log_metrics(latency_summary("latency", [a.latency_sec for a in answered]))
        ctx.log_metrics(latency_summary("retrieval_latency", [a.retrieval_sec for a in answered]))
        ctx.log_metrics(
            latency_summary("generation_latency", [a.generation.latency_sec for a in answered])
        )
        ctx.log_metric("hit_rate_at_k_random", self._random_hit_rate(ctx, params, answered))
        self._log_usage(ctx, params, answered)

    @staticmethod
    def _answer_relevance(embedder: Embedder, answered: list[Answered]) -> np.ndarray:
        """max(0, cosine) of answer and reference embeddings; 0 for an empty answer."""
        answers = [a.generation.text for a in answered]
        references = [a.question.answer for a in answered]
        scores = metrics.answer_relevance(embedder.encode(answers), embedder.encode(references))
        return np.where([bool(t.strip()) for t in answers], scores, 0.0)

    @staticmethod
    def _random_hit_rate(ctx: RunContext, params: RagParams, answered: list[Answered]) -> float:
        """The hit rate a retriever picking top_k chunks at random would get on average."""
        chunks: list[Chunk] = ctx.state["chunks"]
        per_doc: dict[str, int] = {}
        for c in chunks:
            per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
        return float(
            np.mean(
                [
                    metrics.random_hit_rate(
                        len(chunks),
                        sum(per_doc.get(d, 0) for d in a.question.doc_ids),
                        params.top_k,
                    )
                    for a in answered
                ]
            )
        )

    @staticmethod
    def _log_usage(ctx: RunContext, params: RagParams, answered: list[Answered]) -> None:
        """LLM tokens and cost by runner-llm's accounting; no LLM (extractive) costs 0."""
        completions = [a.generation.completion for a in answered if a.generation.completion]
        if completions:
            log_token_usage(ctx, params, completions)
        else:
            ctx.log_metrics({"tokens_used": 0, "cost_usd": 0.0})

    # --- log -------------------------------------------------------------------------------

    @hookimpl
    def runner_log(self, ctx: RunContext) -> None:
        """The per-question table, every prompt the generator saw and every answer."""
        answered: list[Answered] = ctx.state["answered"]
        ctx.log_items(per_question_table(answered), key="question", output="answer")
        ctx.log_text(prompt_text(ctx, answered), "prompt.txt")
        ctx.log_text(
            "".join(f"## {a.question.qid}\n{a.generation.text}\n\n" for a in answered),
            "response.txt",
        )


def per_question_table(answered: list[Answered]) -> dict[str, list[Any]]:
    """Columns: question, retrieved chunk ids with scores, answer, reference, every score."""
    table: dict[str, list[Any]] = {
        "qid": [a.question.qid for a in answered],
        "question": [a.question.question for a in answered],
        "retrieved_chunk_ids": [", ".join(c.chunk_id for c in a.chunks) for a in answered],
        "retrieved_scores": [", ".join(f"{s:.4f}" for _, s in a.hits) for a in answered],
        "gold_doc_ids": [", ".join(a.question.doc_ids) for a in answered],
        "answer": [a.generation.text for a in answered],
        "reference": [a.question.answer for a in answered],
    }
    for key in answered[0].scores if answered else ():
        table[key] = [a.scores[key] for a in answered]
    table["retrieval_latency_sec"] = [a.retrieval_sec for a in answered]
    table["generation_latency_sec"] = [a.generation.latency_sec for a in answered]
    return table


def prompt_text(ctx: RunContext, answered: list[Answered]) -> str:
    """``prompt.txt``: the template (llm) or a note (extractive), then each question's input."""
    template = ctx.state.get("template")
    if template is not None:
        head = f"# template {template.name} v{template.version}\n{template.text}\n"
    else:
        head = "# extractive generator: no LLM prompt; each answer is a sentence of this input\n"
    body = "".join(f"\n## {a.question.qid}\n{a.generation.prompt}\n" for a in answered)
    return head + body
