"""Run chat requests through a backend with one trace span per call, and log usage metrics.

Shared by every experiment type that calls an LLM (llm-prompt, RAG), so tracing, latency
percentiles and cost are recorded the same way everywhere. Per-call values (latency, tokens,
scores) are not run metrics: each type puts them in its per-item table (``ctx.log_items``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner_llm.backends.base import Backend, BackendParams, Completion
from runner_llm.pricing import UsageTotals, cost_usd

if TYPE_CHECKING:
    from runner import RunContext

    from runner_llm.cache import ResponseCache

# cost_usd is the core's cost ledger on every run: compute time plus the API cost reported with
# ctx.add_cost (tokens x the pricing table), shown as api_cost_usd.

Messages = list[dict[str, str]]

#: Tag set when an API model has no known price (its calls then add nothing to ``cost_usd``).
PRICE_UNKNOWN_TAG = "runner.llm.price_unknown"

#: Tag set on the partial results of a run that stopped early: ``"<answered>/<total>"`` items.
ITEMS_ANSWERED_TAG = "runner.llm.items_answered"

#: MLflow's span attribute for token usage (shown in the trace UI).
TOKEN_USAGE_ATTRIBUTE = "mlflow.chat.tokenUsage"


@dataclass(frozen=True)
class CallResult:
    """One answered request: its position, what was sent and what came back (``cached``: a
    replay from the response cache, with the first call's tokens and latency)."""

    index: int
    messages: Messages
    completion: Completion
    cached: bool = False


def iter_calls(
    ctx: RunContext,
    backend: Backend,
    requests: Iterable[Messages],
    *,
    span_name: str = "chat",
    description: str = "LLM calls",
    total: int | None = None,
    cache: ResponseCache | None = None,
) -> Iterator[CallResult]:
    """Answer ``requests`` one by one, yielding each result as soon as it is ready.

    Each call runs inside ``ctx.trace(span_name, "LLM")`` carrying the messages, the answer and
    token usage. Nothing is logged as a run metric per call: the caller keeps each result (its
    latency and tokens go in the per-item table). A failing call raises (the span records the
    error); results yielded before it are the caller's to keep.

    :param cache: replay stored answers (``CallResult.cached``) and store fresh ones; the span
        of a replay has the attribute ``llm.cached``.
    """
    for index, messages in enumerate(ctx.progress(requests, description, total=total)):
        with ctx.trace(span_name, span_type="LLM", inputs={"messages": messages}) as span:
            completion = cache.get(messages) if cache is not None else None
            cached = completion is not None
            if completion is None:
                completion = backend.complete(messages)
                if cache is not None:
                    cache.put(messages, completion)
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
                    "llm.cached": cached,
                }
            )
            span.set_outputs(
                {"choices": [{"message": {"role": "assistant", "content": completion.text}}]}
            )
        yield CallResult(index, messages, completion, cached)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def latency_summary(base: str, values: Sequence[float]) -> dict[str, float]:
    """``<base>_sec`` (mean), ``<base>_p50_sec`` and ``<base>_p95_sec``; ``{}`` for no values."""
    if not values:
        return {}
    return {
        f"{base}_sec": sum(values) / len(values),
        f"{base}_p50_sec": percentile(values, 50),
        f"{base}_p95_sec": percentile(values, 95),
    }


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
    #: The API price of the calls (tokens x the pricing table); ``None`` when the table lacks
    #: the model.
    api_cost_usd: float | None


def summarize(params: BackendParams, completions: Iterable[Completion]) -> UsageSummary:
    """Mean/percentile latency, token totals, generation throughput and API cost."""
    items = list(completions)
    latency = latency_summary("latency", [c.latency_sec for c in items])
    totals = UsageTotals.of(items)
    return UsageSummary(
        calls=len(items),
        latency_sec=latency.get("latency_sec", math.nan),
        latency_p50_sec=latency.get("latency_p50_sec", math.nan),
        latency_p95_sec=latency.get("latency_p95_sec", math.nan),
        prompt_tokens=totals.prompt_tokens,
        completion_tokens=totals.completion_tokens,
        tokens_used=totals.prompt_tokens + totals.completion_tokens,
        tokens_per_sec=(
            totals.completion_tokens / totals.latency_sec if totals.latency_sec > 0 else 0.0
        ),
        api_cost_usd=cost_usd(params, totals),
    )


def log_token_usage(
    ctx: RunContext, params: BackendParams,
    completions: Iterable[Completion], *, local: bool = False,
) -> UsageSummary:
    """Log tokens_used (+prompt/completion) and tokens_per_sec of ``completions``, and report
    their API price to the core's cost ledger (``ctx.add_cost``: it logs ``api_cost_usd`` and
    ``cost_usd`` = compute + API cost on every run; plugins never log ``cost_usd``).

    An API model the pricing table lacks adds nothing, never a silent 0: it warns and sets the
    tag ``runner.llm.price_unknown`` to the model name. Nothing is logged for no calls.

    :param local: the backend runs on this machine (:func:`runner_llm.backends.is_local`): its
        cost is the compute time the ledger already prices, so no price is no warning.
    """
    summary = summarize(params, completions)
    if summary.calls == 0:
        return summary
    ctx.log_metrics(
        {
            "tokens_used": summary.tokens_used,
            "prompt_tokens": summary.prompt_tokens,
            "completion_tokens": summary.completion_tokens,
            "tokens_per_sec": summary.tokens_per_sec,
        }
    )
    if summary.api_cost_usd is not None:
        ctx.add_cost(summary.api_cost_usd)
    elif not local:
        warnings.warn(
            f"no price for model {params.llm_model!r}: its calls add nothing to cost_usd "
            "(add it to a pricing_file to get a cost)",
            RuntimeWarning,
            stacklevel=2,
        )
        ctx.set_tag(PRICE_UNKNOWN_TAG, params.llm_model)
    return summary


def log_usage_metrics(
    ctx: RunContext, params: BackendParams, completions: Iterable[Completion], *,
    local: bool = False,
) -> UsageSummary:
    """Per-call latency_sec (+p50/p95), then everything :func:`log_token_usage` logs."""
    items = list(completions)
    ctx.log_metrics(latency_summary("latency", [c.latency_sec for c in items]))
    return log_token_usage(ctx, params, items, local=local)


def declare_backend(ctx: RunContext, backend: Backend) -> None:
    """Tell the core what the backend brings to a run; call it in ``runner_prepare``.

    - its local files (``backend.files``, e.g. model weights) are a run input: their digest goes
      into the content key, so a changed model file is a different run (and ``runner
      reproduce`` reports it); backends without ``files`` (APIs) declare none;
    - its secrets (``backend.secrets``, e.g. the API key) are masked in everything the run
      writes, should an endpoint echo them.
    """
    files = getattr(backend, "files", None)
    if files is not None:
        ctx.log_input("llm_model", path=files)
    for secret in getattr(backend, "secrets", ()):
        ctx.add_secret(secret)


def tag_items_answered(ctx: RunContext, answered: int, total: int) -> None:
    """On partial results (``ctx.partial``), tag ``runner.llm.items_answered`` = ``"2/4"``.

    Call it first thing in ``runner_evaluate``: after a failed or interrupted
    ``runner_execute`` the core still calls evaluate and log, with ``ctx.partial`` set, so the
    items answered so far (kept on the implementation instance) are scored and logged.
    """
    if ctx.partial:
        ctx.set_tag(ITEMS_ANSWERED_TAG, f"{answered}/{total}")
