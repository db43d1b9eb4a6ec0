"""Declares the ``rag`` experiment type. Imports only the pydantic params model (cheap)."""

from __future__ import annotations

from collections.abc import Callable

from runner import ExperimentType, MetricSpec, hookimpl

from runner_llm.calls import CALL_STEP_METRICS

from runner_rag.params import RagParams

METRICS = (
    MetricSpec(
        "answer_relevance", "maximize", "mean max(0, cosine) of answer vs reference embeddings"
    ),
    MetricSpec(
        "hit_rate_at_k", "maximize", "share of questions with a gold document in the top_k chunks"
    ),
    MetricSpec("mrr", "maximize", "mean reciprocal rank of the first chunk from a gold document"),
    MetricSpec(
        "context_recall", "maximize", "mean share of gold documents found in the top_k chunks"
    ),
    MetricSpec(
        "faithfulness",
        "maximize",
        "mean share of answer content tokens found in the retrieved context",
    ),
    MetricSpec("token_f1", "maximize", "mean SQuAD token F1 of answer vs reference"),
    MetricSpec("rouge_l", "maximize", "mean ROUGE-L F-measure of answer vs reference"),
    MetricSpec("latency_sec", "minimize", "mean per-question latency, retrieval + generation", deterministic=False),
    MetricSpec("retrieval_latency_sec", "minimize", "mean per-question retrieval latency", deterministic=False),
    MetricSpec("generation_latency_sec", "minimize", "mean per-question generation latency", deterministic=False),
    MetricSpec(
        "index_build_sec", "minimize", "seconds to build the index (embeddings computed or loaded)"
    , deterministic=False),
    MetricSpec(
        "tokens_used",
        "minimize",
        "LLM prompt + completion tokens over all questions (0 if extractive)",
    ),
    MetricSpec("cost_usd", "minimize", "LLM cost by runner-llm's accounting (0 if extractive)", deterministic=False),
    *(
        MetricSpec(f"{base}_{q}_sec", "minimize", f"{q} of per-question {base.replace('_', ' ')}",
                   deterministic=False)
        for base in ("latency", "retrieval_latency", "generation_latency")
        for q in ("p50", "p95")
    ),
    MetricSpec(
        "embedding_cache_hit",
        "maximize",
        "1 when chunk embeddings came from the disk cache (dense/hybrid)",
        deterministic=False,
    ),
    *CALL_STEP_METRICS,  # logged when generator=llm, through runner-llm's calls
)


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Register ``rag``."""
    register(
        ExperimentType(
            id="rag",
            params=RagParams,
            implementation="runner_rag.experiment:RagExperiment",
            experiment_name="rag-experiments",
            description="Retrieval-augmented QA: chunk, index (bm25/tfidf/dense/hybrid), "
            "answer (extractive or LLM), score",
            metrics=METRICS,
        )
    )
