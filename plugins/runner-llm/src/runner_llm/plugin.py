"""Declares the ``llm-prompt`` experiment type (imports only the pydantic params model)."""

from __future__ import annotations

from collections.abc import Callable

from runner import UNIT_INTERVAL, ExperimentType, MetricSpec, hookimpl

from runner_llm.metric_specs import TOKEN_USAGE_METRICS
from runner_llm.params import LlmPromptParams

EXPERIMENT_NAME = "llm-experiments"

#: Answer-quality scores vs an item's ``expected`` (runner_llm.quality.SCORERS): name -> what.
QUALITY = {
    "token_f1": "token F1 of the answer vs 'expected' (SQuAD style)",
    "exact_match": "1 if the answer equals 'expected' (normalized)",
    "contains_match": "1 if the answer contains 'expected' as words",
    "rouge_l": "ROUGE-L F-measure of the answer vs 'expected'",
}

#: When the quality scores are logged: only items with an answer to score against count.
WITH_EXPECTED = "items have 'expected' (input_path rows or --set expected=...)"

#: When pass_rate is logged: some item is checked.
WITH_CHECKS = "items have 'checks' (input_path rows or --set checks=[...])"

METRICS = (
    # Every quality score is in [0, 1] (runner_llm.quality), and so is its mean over items.
    *(MetricSpec(name, "maximize", f"Mean over items: {what}.", condition=WITH_EXPECTED,
                 bounds=UNIT_INTERVAL)
      for name, what in QUALITY.items()),
    MetricSpec("latency_sec", "minimize", "Mean wall-clock seconds per LLM call.",
               deterministic=False),
    MetricSpec("latency_p50_sec", "minimize", "Median seconds per call.", deterministic=False),
    MetricSpec("latency_p95_sec", "minimize", "95th percentile seconds per call.",
               deterministic=False),
    *TOKEN_USAGE_METRICS,
    MetricSpec("items", "maximize", "Items answered."),
    MetricSpec("items_with_expected", "maximize", "Answered items that have an 'expected' "
               "answer (the quality means are over these).", condition=WITH_EXPECTED),
    MetricSpec("pass_rate", "maximize", "Share of answered items that passed all their checks "
               "(an item without checks passes).", condition=WITH_CHECKS, bounds=UNIT_INTERVAL),
    # Not a property of the answers: a cached and an uncached run give the same results.
    MetricSpec("cache_hits", "maximize", "Answers replayed from the response cache (their "
               "tokens, latency and cost are the first call's).", deterministic=False),
)
# Per-item scores, latency and tokens are not run metrics: they are columns of the per-item
# table (items.json, MLflow's evaluation view), one row per item.


@hookimpl
def runner_register_experiment_types(register: Callable[[ExperimentType], None]) -> None:
    """Register ``llm-prompt``."""
    register(
        ExperimentType(
            id="llm-prompt",
            params=LlmPromptParams,
            implementation="runner_llm.experiment:LlmPromptExperiment",
            experiment_name=EXPERIMENT_NAME,
            description="Evaluate a versioned prompt template with an LLM (local SmolLM2, an "
            "OpenAI-compatible API or any installed backend): quality, latency, tokens, cost.",
            metrics=METRICS,
            experiment_kind="genai_development",
        )
    )
