"""The plugin declaration: cheap to import, registered through the entry point, UI names."""

from __future__ import annotations

import subprocess
import sys

from runner.plugins import load_plugins
from runner_llm.params import PromptParams

from runner_rag.params import RagParams


def test_plugin_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, runner_rag.plugin; "
        "print(','.join(m for m in ('numpy', 'pandas', 'torch', 'sklearn', 'mlflow', "
        "'sentence_transformers', 'bm25s', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_rag_type_is_registered_with_ui_names() -> None:
    exp_type, plugin = load_plugins().experiment_type("rag")
    assert exp_type.experiment_name == "rag-experiments"
    assert exp_type.primary is not None and exp_type.primary.name == "answer_relevance"
    names = {m.name for m in exp_type.metrics}
    assert {
        "answer_relevance",
        "latency_sec",
        "tokens_used",
        "hit_rate_at_k",
        "mrr",
        "context_recall",
        "faithfulness",
        "index_build_sec",
        "ndcg_at_k",
        "map_at_k",
        "recall_at_k",
        "precision_at_k",
    } <= names
    fields = RagParams.model_fields
    assert {"chunk_size", "retriever", "embedding_model", "llm_model", "top_k"} <= set(fields)
    assert all(f.description for f in fields.values())
    defaults = RagParams()
    assert (defaults.chunk_size, defaults.retriever, defaults.embedding_model) == (
        512,
        "dense",
        "all-MiniLM-L6-v2",
    )


def test_prompt_fields_come_from_runner_llm_with_the_rag_prompt_by_default() -> None:
    assert issubclass(RagParams, PromptParams)
    shared = set(PromptParams.model_fields)
    assert shared <= set(RagParams.model_fields)
    def declared(model: type[PromptParams], name: str) -> tuple[object, str | None]:
        info = model.model_fields[name]
        return info.default, info.description

    overridden = {n for n in shared if declared(RagParams, n) != declared(PromptParams, n)}
    assert overridden == {"prompt_name"}
    assert (RagParams().prompt_name, RagParams().prompt_version) == ("rag", 1)


def test_extractive_runs_leave_every_llm_field_inactive() -> None:
    inactive = RagParams().inactive_params()  # extractive, dense
    assert set(PromptParams.model_fields) | {"rrf_k"} == inactive
    assert {"llm_model", "prompt_version", "backend", "temperature", "seed"} <= inactive
    # the extractive generator and answer_relevance embed: these always apply
    assert {"embedding_model", "embedding_batch_size", "chunk_size", "retriever"}.isdisjoint(
        RagParams(retriever="bm25").inactive_params()
    )


def test_llm_runs_leave_only_what_the_backend_ignores_inactive() -> None:
    local = RagParams(generator="llm", retriever="hybrid").inactive_params()
    assert local == {"base_url", "api_key_env", "timeout_sec", "max_retries", "seed",
                     "usd_per_hour"}
    api = RagParams(generator="llm", backend="openai", retriever="bm25").inactive_params()
    assert api == {"usd_per_hour", "rrf_k"}
    assert RagParams().inactive_params() <= set(RagParams.model_fields)


def test_question_set_applies_only_to_the_shipped_questions() -> None:
    assert RagParams().question_set == "all"
    assert "question_set" not in RagParams(question_set="hard").inactive_params()
    assert "question_set" in RagParams(questions_path="my.jsonl").inactive_params()
