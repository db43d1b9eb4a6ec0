"""The ``rag`` experiment: chunk a corpus, index it, answer questions, score retrieval and answers.

Phases: ``runner_prepare`` loads and checks data, model names and the prompt (bad input is one
``InputError`` line and no run); ``runner_execute`` chunks, builds the index (embeddings cached on
disk), retrieves for every question and generates answers, keeping each on the instance as it
arrives; ``runner_evaluate`` scores them; ``runner_log`` hands over the per-question table,
``prompt.txt`` and ``response.txt``. If generation fails mid-way, the core still calls evaluate
and log (``ctx.partial``), so the questions answered before the failure are scored and logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from runner import RunContext, hookimpl
from runner_llm import quality
from runner_llm.backends import Backend, get_backend, is_local
from runner_llm.calls import (
    latency_summary,
    declare_backend,
    log_token_usage,
    tag_items_answered,
)
from runner_llm.prompts import PromptTemplate

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
    shipped_question_paths,
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
from runner_rag.retrievers import Retriever


#: Per-question seconds: columns of the per-question table that ``runner compare`` tests (lower
#: is better, as the run metrics of the same names declare).
LATENCY_COLUMNS = ("latency_sec", "retrieval_latency_sec", "generation_latency_sec")


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

    @property
    def latencies(self) -> dict[str, float]:
        """The :data:`LATENCY_COLUMNS` of this question, in seconds."""
        return {
            "latency_sec": self.latency_sec,
            "retrieval_latency_sec": self.retrieval_sec,
            "generation_latency_sec": self.generation.latency_sec,
        }


class RagExperiment:
    """Hook implementation registered for the duration of one ``rag`` run (fresh per run)."""

    def __init__(self) -> None:
        self.docs: list[Document] = []
        self.questions: list[Question] = []
        self.digest = ""
        self.embedder: Embedder | None = None
        self.generator: Generator | None = None
        #: The LLM backend and prompt template (``generator='llm'`` only).
        self.backend: Backend | None = None
        self.template: PromptTemplate | None = None
        self.chunks: list[Chunk] = []
        self.retriever: Retriever | None = None
        #: Answered questions, appended as they arrive (kept when a later LLM call fails).
        self.answered: list[Answered] = []

    # --- prepare ---------------------------------------------------------------------------

    @hookimpl
    def runner_prepare(self, ctx: RunContext[RagParams]) -> None:
        """Load corpus and questions, resolve models and prompt; reject bad input early."""
        params = ctx.params
        corpus_dir = (
            Path(params.corpus_dir).expanduser() if params.corpus_dir else shipped_corpus_dir()
        )
        question_paths = (
            [Path(params.questions_path).expanduser()]
            if params.questions_path
            else shipped_question_paths(params.question_set)
        )
        self.docs = load_corpus(corpus_dir)
        self.questions = [q for path in question_paths for q in load_questions(path)]
        self.questions = self.questions[: params.max_questions]
        check_gold_ids(self.questions, self.docs)
        self.embedder = Embedder(params.embedding_model, params.embedding_batch_size)
        if params.generator == "llm":
            self.template = load_prompt(
                params.prompt_name, params.prompt_version, params.prompts_dir
            )
            self.backend = get_backend(params)
            self.generator = LLMGenerator(self.backend, self.template)
            ctx.log_input("prompt", text=self.template.text)  # in the content key
            declare_backend(ctx, self.backend)
        else:
            self.generator = ExtractiveGenerator(self.embedder)
        ctx.log_input("embedding_model", path=self.embedder.folder)
        self.digest = corpus_digest(self.docs)
        # the dataset's source is digested into the content key: the file, or the shipped
        # data folder that holds every file of question_set 'all'
        source = question_paths[0] if len(question_paths) == 1 else question_paths[0].parent
        self._log_inputs(ctx, corpus_dir, source)

    def _log_inputs(
        self, ctx: RunContext[RagParams], corpus_dir: Path, questions_source: Path
    ) -> None:
        import pandas as pd

        docs, questions = self.docs, self.questions
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
            source=str(questions_source),
            targets="answer",
            context="evaluation",
        )
        ctx.set_tag("rag.corpus_digest", self.digest[:16])
        ctx.set_tag("rag.chunk_unit", "characters")

    # --- execute ---------------------------------------------------------------------------

    @hookimpl
    def runner_execute(self, ctx: RunContext[RagParams]) -> None:
        """Chunk, index, retrieve for every question, then answer them one by one.

        Answers land in ``self.answered`` as they arrive; if the LLM fails on question N, the
        core still evaluates and logs questions 1..N-1 (``ctx.partial``) before the run ends.
        """
        assert self.generator is not None  # set by runner_prepare
        params = ctx.params
        self.chunks = chunk_documents(self.docs, params.chunk_size, params.chunk_overlap)
        ctx.log_metrics(
            {
                "num_documents": len(self.docs),
                "num_chunks": len(self.chunks),
                "num_questions": len(self.questions),
            }
        )
        self._build_index(ctx)
        hits, retrieval_secs = self._retrieve_all(ctx)
        if self.template is not None:
            prompt = ctx.register_prompt(params.prompt_name, self.template.text)
            ctx.log_param("prompt_uri", prompt.uri)
        items = [(q.question, [c for c, _ in h]) for q, h in zip(self.questions, hits)]
        generations = self.generator.answers(ctx, items)
        for q, h, sec, g in zip(self.questions, hits, retrieval_secs, generations):
            self.answered.append(Answered(q, h, sec, g))

    def _build_index(self, ctx: RunContext[RagParams]) -> None:
        assert self.embedder is not None  # set by runner_prepare
        params = ctx.params
        key = EmbeddingCache.key(
            self.digest, params.chunk_size, params.chunk_overlap, self.embedder.model_id
        )
        index = build_index(
            params.retriever, self.chunks, embedder=self.embedder, cache_key=key,
            rrf_k=params.rrf_k,
        )
        self.retriever = index.retriever
        ctx.log_metric("index_build_sec", index.build_sec)
        if index.embedding_cache_hit is not None:
            ctx.log_metric("embedding_cache_hit", float(index.embedding_cache_hit))
            ctx.set_tag("rag.embedding_cache", "hit" if index.embedding_cache_hit else "miss")
            ctx.set_tag("rag.embedding_cache_file", str(index.cache_path))

    def _retrieve_all(
        self, ctx: RunContext[RagParams]
    ) -> tuple[list[list[tuple[Chunk, float]]], list[float]]:
        """Top-k chunks per question, in one trace with a RETRIEVER span per question."""
        assert self.retriever is not None  # set by _build_index
        params, chunks, questions = ctx.params, self.chunks, self.questions
        all_hits, seconds = [], []
        with ctx.trace(
            "retrieval", "CHAIN", inputs={"retriever": params.retriever, "top_k": params.top_k}
        ):
            for q in ctx.progress(questions, "retrieving", total=len(questions)):
                with ctx.trace("retrieve", "RETRIEVER", inputs={"query": q.question}) as span:
                    started = time.perf_counter()
                    found = self.retriever.search(q.question, params.top_k)
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
    def runner_evaluate(self, ctx: RunContext[RagParams]) -> None:
        """Per-question scores, then their means, latency percentiles, tokens and cost."""
        tag_items_answered(ctx, len(self.answered), len(self.questions))
        answered, embedder = self.answered, self.embedder
        if not answered or embedder is None:  # partial results of a run that answered nothing
            return
        relevance = self._answer_relevance(embedder, answered)
        retrieved = [[c.doc_id for c in a.chunks] for a in answered]
        standard = metrics.standard_retrieval_scores(
            retrieved, [a.question.doc_ids for a in answered], ctx.params.top_k
        )
        for item, doc_ids, ranx_scores, rel in zip(answered, retrieved, standard, relevance):
            answer = item.generation.text
            context = "\n".join(c.text for c in item.chunks)
            item.scores = {
                **metrics.retrieval_scores(doc_ids, item.question.doc_ids),
                **ranx_scores,
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
        ctx.log_metric("hit_rate_at_k_random", self._random_hit_rate(ctx.params.top_k))
        self._log_usage(ctx)

    @staticmethod
    def _answer_relevance(embedder: Embedder, answered: list[Answered]) -> np.ndarray:
        """max(0, cosine) of answer and reference embeddings; 0 for an empty answer."""
        answers = [a.generation.text for a in answered]
        references = [a.question.answer for a in answered]
        scores = metrics.answer_relevance(embedder.encode(answers), embedder.encode(references))
        return np.where([bool(t.strip()) for t in answers], scores, 0.0)

    def _random_hit_rate(self, top_k: int) -> float:
        """The hit rate a retriever picking top_k chunks at random would get on average."""
        per_doc: dict[str, int] = {}
        for c in self.chunks:
            per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
        return float(
            np.mean(
                [
                    metrics.random_hit_rate(
                        len(self.chunks), sum(per_doc.get(d, 0) for d in a.question.doc_ids), top_k
                    )
                    for a in self.answered
                ]
            )
        )

    def _log_usage(self, ctx: RunContext[RagParams]) -> None:
        """LLM tokens by runner-llm's accounting, which reports the API price to the core's cost
        ledger (``cost_usd``); no LLM (extractive) uses 0 tokens."""
        completions = [a.generation.completion for a in self.answered if a.generation.completion]
        if completions:
            local = self.backend is not None and is_local(self.backend)
            log_token_usage(ctx, ctx.params, completions, local=local)
        else:
            ctx.log_metric("tokens_used", 0)

    # --- log -------------------------------------------------------------------------------

    @hookimpl
    def runner_log(self, ctx: RunContext[RagParams]) -> None:
        """The per-question table, every prompt the generator saw and every answer."""
        answered = self.answered
        if not answered:  # partial results of a run that answered nothing
            return
        ctx.log_items(
            per_question_table(answered),
            key="question",
            output="answer",
            scores=[*answered[0].scores, *LATENCY_COLUMNS],
        )
        ctx.log_text(prompt_text(self.template, answered), "prompt.txt")
        ctx.log_text(
            "".join(f"## {a.question.qid}\n{a.generation.text}\n\n" for a in answered),
            "response.txt",
        )


def per_question_table(answered: list[Answered]) -> dict[str, list[Any]]:
    """Columns: question, retrieved chunk ids with scores, answer, reference, every score,
    latencies and (``generator=llm``) tokens: what is per question is here, not a run metric."""
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
    for column in LATENCY_COLUMNS:
        table[column] = [a.latencies[column] for a in answered]
    completions = [a.generation.completion for a in answered]
    if any(c is not None for c in completions):  # an LLM answered: its tokens per question
        table["prompt_tokens"] = [c.prompt_tokens if c else None for c in completions]
        table["completion_tokens"] = [c.completion_tokens if c else None for c in completions]
    return table


def prompt_text(template: PromptTemplate | None, answered: list[Answered]) -> str:
    """``prompt.txt``: the template (llm) or a note (extractive), then each question's input."""
    if template is not None:
        head = f"# template {template.name} v{template.version}\n{template.text}\n"
    else:
        head = "# extractive generator: no LLM prompt; each answer is a sentence of this input\n"
    body = "".join(f"\n## {a.question.qid}\n{a.generation.prompt}\n" for a in answered)
    return head + body
