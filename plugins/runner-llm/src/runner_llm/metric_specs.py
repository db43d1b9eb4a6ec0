"""Metric declarations shared by every experiment type that calls an LLM through runner-llm.

Light on purpose (no pricing tables, no YAML): plugin modules import it at start-up.
"""

from __future__ import annotations

from runner import NON_NEGATIVE, MetricSpec

#: What :func:`runner_llm.calls.log_token_usage` logs; declared by every type that calls it.
TOKEN_USAGE_METRICS = (
    MetricSpec("tokens_used", "minimize", "Prompt + completion tokens over all LLM calls.",
               bounds=NON_NEGATIVE),
    MetricSpec("prompt_tokens", "minimize", "Prompt tokens over all LLM calls.",
               bounds=NON_NEGATIVE),
    MetricSpec("completion_tokens", "minimize", "Completion tokens over all LLM calls.",
               bounds=NON_NEGATIVE),
    MetricSpec("tokens_per_sec", "maximize", "Completion tokens per second of generation time.",
               deterministic=False),
)
