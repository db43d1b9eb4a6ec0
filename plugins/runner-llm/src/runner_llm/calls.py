"""Run chat requests through a backend with one trace span per call, and log usage metrics.

Shared by every experiment type that calls an LLM (llm-prompt, RAG), so tracing, per-item
metrics, latency percentiles and cost are recorded the same way everywhere.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner import MetricSpec

from runner_llm.backends.base import Backend, BackendParams, Completion
from runner_llm.pricing import UsageTotals, cost_usd

if TYPE_CHECKING:
    from runner import RunContext

#: The per-call curves :func:`iter_calls` logs (step = item index); every experiment type that
#: uses it declares these in its metrics contract.
CALL_STEP_METRICS = (
    MetricSpec("item_latency_sec", "minimize", "Seconds of call N (step = item index).",
               per_step=True, deterministic=False),
    MetricSpec("item_prompt_tokens", "minimize", "Prompt tokens of call N.", per_step=True),
    MetricSpec("item_completion_tokens", "minimize", "Completion tokens of call N.", per_step=True),
)

Messages = list[dict[str, str]]

#: Write buffered per-item metrics at least this often, so a live run shows progress and a
#: crash loses little.
FLUSH_EVERY_SEC = 5.0

#: Tag set when the model has no known price (``cost_usd`` is then not logged).
PRICE_UNKNOWN_TAG = "runner.llm.price_unknown"

#: MLflow's span attribute for token usage (shown in the trace UI).
TOKEN_USAGE_ATTRIBUTE = "mlflow.chat.tokenUsage"


@dataclass(frozen=True)
class CallResult:
    """One answered request: its position, what was sent and what came back."""

    index: int
    messages: Messages
    completion: Completion


def iter_calls(
    ctx: RunContext,
    backend: Backend,
    requests: Iterable[Messages],
    *,
    span_name: str = "chat",
    description: str = "LLM calls",
    total: int | None = None,
    step_metrics: bool = True,
) -> Iterator[CallResult]:
    """Answer ``requests`` one by one, yielding each result as soon as it is ready.

    Each call runs inside ``ctx.trace(span_name, "LLM")`` carrying the messages, the answer and
    token usage. With ``step_metrics`` the per-item values ``item_latency_sec``,
    ``item_prompt_tokens`` and ``item_completion_tokens`` are logged with ``step=index`` and
    flushed every few seconds. A failing call raises (the span records the error); results
    yielded before it are the caller's to keep.
    """
    last_flush = time.monotonic()
    for index, messages in enumerate(ctx.progress(requests, description, total=total)):
        with ctx.trace(span_name, span_type="LLM", inputs={"messages": messages}) as span:
            completion = backend.complete(messages)
            span.set_attributes(
                {
                    TOKEN_USAGE_ATTRIBUTE: {
                        "input_tokens": completion.prompt_tokens,
                        "output_tokens": completion.completion_tokens,
                        "total_tokens": completion.total_tokens,
                    },
                    "mlflow.llm.model": completion.model,
                    "llm.backend": backend.name,
                    "llm.prompt_tokens": completion.prompt_tokens,
                    "llm.completion_tokens": completion.completion_tokens,
                    "llm.latency_sec": completion.latency_sec,
                    "llm.finish_reason": completion.finish_reason or "",
                }
            )
            span.set_outputs(
                {"choices": [{"message": {"role": "assistant", "content": completion.text}}]}
            )
        if step_metrics:
            ctx.log_metrics(
                {
                    "item_latency_sec": completion.latency_sec,
                    "item_prompt_tokens": completion.prompt_tokens,
                    "item_completion_tokens": completion.completion_tokens,
                },
                step=index,
            )
            if time.monotonic() - last_flush >= FLUSH_EVERY_SEC:
                ctx.flush()
                last_flush = time.monotonic()
        yield CallResult(index, messages, completion)


def run_calls(
    ctx: RunContext, backend: Backend, requests: Sequence[Messages], **kwargs: Any
) -> list[CallResult]:
    """All of :func:`iter_calls` as a list (partial results are lost if a call fails)."""
    return list(iter_calls(ctx, backend, requests, total=len(requests), **kwargs))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class UsageSummary:
    """Aggregate usage of a run's calls."""

    calls: int
    latency_sec: float
    latency_p50_sec: float
    latency_p95_sec: float
    prompt_tokens: int
    completion_tokens: int
    tokens_used: int
    tokens_per_sec: float
    cost_usd: float | None


def summarize(params: BackendParams, completions: Iterable[Completion]) -> UsageSummary:
    """Mean/percentile latency, token totals, generation throughput and cost."""
    items = list(completions)
    latencies = [c.latency_sec for c in items]
    totals = UsageTotals.of(items)
    return UsageSummary(
        calls=len(items),
        latency_sec=sum(latencies) / len(items) if items else math.nan,
        latency_p50_sec=percentile(latencies, 50),
        latency_p95_sec=percentile(latencies, 95),
        prompt_tokens=totals.prompt_tokens,
        completion_tokens=totals.completion_tokens,
        tokens_used=totals.prompt_tokens + totals.completion_tokens,
        tokens_per_sec=(
            totals.completion_tokens / totals.latency_sec if totals.latency_sec > 0 else 0.0
        ),
        cost_usd=cost_usd(params, totals),
    )


def log_usage_metrics(
    ctx: RunContext, params: BackendParams, completions: Iterable[Completion]
) -> UsageSummary:
    """Log latency_sec (+p50/p95), tokens_used (+prompt/completion), tokens_per_sec, cost_usd.

    An unknown price logs no ``cost_usd``: it warns and sets the tag ``runner.llm.price_unknown``
    to the model name instead.
    """
    summary = summarize(params, completions)
    if summary.calls == 0:
        return summary
    ctx.log_metrics(
        {
            "latency_sec": summary.latency_sec,
            "latency_p50_sec": summary.latency_p50_sec,
            "latency_p95_sec": summary.latency_p95_sec,
            "tokens_used": summary.tokens_used,
            "prompt_tokens": summary.prompt_tokens,
            "completion_tokens": summary.completion_tokens,
            "tokens_per_sec": summary.tokens_per_sec,
        }
    )
    if summary.cost_usd is None:
        warnings.warn(
            f"no price for model {params.llm_model!r}: cost_usd not logged "
            "(add it to a pricing_file to get a cost)",
            RuntimeWarning,
            stacklevel=2,
        )
        ctx.set_tag(PRICE_UNKNOWN_TAG, params.llm_model)
    else:
        ctx.log_metric("cost_usd", summary.cost_usd)
    return summary
