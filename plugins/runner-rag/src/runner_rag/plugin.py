"""Declares the ``rag`` experiment type. Imports only the pydantic params model (cheap)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from runner import UNIT_INTERVAL, ExperimentType, MetricSpec, hookimpl

from runner_llm.metric_specs import TOKEN_USAGE_METRICS

from runner_rag.params import RagParams

#: Logged only when an LLM answers.
WITH_LLM = "generator=llm"

#: runner-llm's token accounting; extractive answers log tokens_used 0. (cost_usd is the core's
#: cost ledger on every run: compute time plus the LLM's API price, reported with ctx.add_cost.)
_USAGE_CONDITIONS: dict[str, str | None] = {"tokens_used": None}

# The answer and retrieval scores are means over questions of per-question scores in [0, 1]
# (runner_rag.metrics, runner_llm.quality; answer_relevance is clipped to [0, 1] there):
# bounds=UNIT_INTERVAL keeps their --repeat confidence intervals inside [0, 1].
METRICS = (
    MetricSpec(
        "answer_relevance", "maximize", "mean max(0, cosine) of answer vs reference embeddings",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "hit_rate_at_k", "maximize", "share of questions with a gold document in the top_k chunks",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "mrr", "maximize", "mean reciprocal rank of the first chunk from a gold document",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "context_recall", "maximize", "mean share of gold documents found in the top_k chunks",
        bounds=UNIT_INTERVAL,
    ),
    # ranx, on the document ranking (chunks collapsed to their documents), k = top_k
    MetricSpec(
        "ndcg_at_k", "maximize", "mean nDCG@top_k of the retrieved documents (ranx)",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "map_at_k", "maximize", "mean average precision@top_k (ranx)", bounds=UNIT_INTERVAL
    ),
    MetricSpec(
        "recall_at_k", "maximize", "mean share of gold documents in the top_k (ranx)",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "precision_at_k",
        "maximize",
        "mean share of the top_k places held by gold documents (ranx)",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "faithfulness",
        "maximize",
        "mean share of answer content tokens found in the retrieved context",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec(
        "token_f1", "maximize", "mean SQuAD token F1 of answer vs reference", bounds=UNIT_INTERVAL
    ),
    MetricSpec(
        "rouge_l", "maximize", "mean ROUGE-L F-measure of answer vs reference", bounds=UNIT_INTERVAL
    ),
    *(
        MetricSpec(f"{base}_sec", "minimize", f"mean per-question {what}", deterministic=False)
        for base, what in (
            ("latency", "latency, retrieval + generation"),
            ("retrieval_latency", "retrieval latency"),
            ("generation_latency", "generation latency"),
        )
    ),
    MetricSpec(
        "index_build_sec",
        "minimize",
        "seconds to build the index (embeddings computed or loaded)",
        deterministic=False,
    ),
    MetricSpec(
        "hit_rate_at_k_random",
        "maximize",
        "hit rate a retriever picking top_k chunks at random would get (a baseline, not a goal)",
        bounds=UNIT_INTERVAL,
    ),
    MetricSpec("num_documents", "maximize", "documents in the corpus"),
    MetricSpec("num_chunks", "maximize", "chunks the corpus was split into"),
    MetricSpec("num_questions", "maximize", "questions asked (after max_questions)"),
    # tokens_used is 0 for the extractive generator; the rest only with an LLM.
    *(replace(m, condition=_USAGE_CONDITIONS.get(m.name, WITH_LLM)) for m in TOKEN_USAGE_METRICS),
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
        condition="retriever=dense or retriever=hybrid",
    ),
)
# Per-question scores, latencies and tokens are not run metrics: they are columns of the
# per-question table (items.json, MLflow's evaluation view); the run metric of the same name is
# their mean, and `runner compare` tests the per-question differences.


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
            experiment_kind="genai_development",
        )
    )
