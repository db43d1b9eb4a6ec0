"""Declares the ``llm-prompt`` experiment type (imports only the pydantic params model)."""

from __future__ import annotations

from collections.abc import Callable

from runner import ExperimentType, MetricSpec, hookimpl

from runner_llm.calls import CALL_STEP_METRICS
from runner_llm.params import LlmPromptParams

EXPERIMENT_NAME = "llm-experiments"

METRICS = (
    MetricSpec("token_f1", "maximize", "Mean token F1 of answers vs 'expected' (SQuAD style)."),
    MetricSpec("latency_sec", "minimize", "Mean wall-clock seconds per LLM call.", deterministic=False),
    MetricSpec("tokens_used", "minimize", "Prompt + completion tokens over all calls."),
    MetricSpec("cost_usd", "minimize", "USD: token prices (API) or compute time x usd_per_hour.", deterministic=False),
    MetricSpec("tokens_per_sec", "maximize", "Completion tokens per second of generation time.", deterministic=False),
    MetricSpec("exact_match", "maximize", "Share of answers equal to 'expected' (normalized)."),
    MetricSpec("contains_match", "maximize", "Share of answers containing 'expected' as words."),
    MetricSpec("rouge_l", "maximize", "Mean ROUGE-L F-measure of answers vs 'expected'."),
    MetricSpec("latency_p50_sec", "minimize", "Median seconds per call.", deterministic=False),
    MetricSpec("latency_p95_sec", "minimize", "95th percentile seconds per call.", deterministic=False),
    MetricSpec("prompt_tokens", "minimize", "Prompt tokens over all calls."),
    MetricSpec("completion_tokens", "minimize", "Completion tokens over all calls."),
    MetricSpec("items", "maximize", "Items answered."),
    *CALL_STEP_METRICS,
    MetricSpec("item_token_f1", "maximize", "Token F1 of item N (step = item index).", True),
)


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Register ``llm-prompt``."""
    register(
        ExperimentType(
            id="llm-prompt",
            params=LlmPromptParams,
            implementation="runner_llm.experiment:LlmPromptExperiment",
            experiment_name=EXPERIMENT_NAME,
            description="Evaluate a versioned prompt template with an LLM (local SmolLM2, "
            "llama.cpp or an OpenAI-compatible API): quality, latency, tokens, cost.",
            metrics=METRICS,
        )
    )
