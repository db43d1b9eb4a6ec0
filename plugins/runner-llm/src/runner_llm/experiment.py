"""The ``llm-prompt`` run: render a prompt version over an input set, ask the LLM, score answers.

prepare: load template + items (every item must fill every placeholder, every check must be
valid), build the backend (a local model's files are checked, not loaded: the weights load on
the first answer the cache does not have), open the response cache. execute: register the template in the Prompt
Registry, answer item by item (one trace span per call; a cached answer is replayed), score and
check each answer, each result kept on the instance as it arrives. evaluate: usage, cost,
quality means, ``pass_rate`` and ``cache_hits`` (the run metrics). log: prompt.txt, response.txt
and items.json, the per-item table with each item's latency, tokens, scores and checks. If a call
fails mid-way, the core still calls evaluate and log (``ctx.partial``), so what was answered is
scored and logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runner import RunContext, hookimpl

from runner_llm import prompts
from runner_llm.backends import Backend, Completion, get_backend, is_local
from runner_llm.cache import ResponseCache
from runner_llm.calls import (
    iter_calls,
    declare_backend,
    log_usage_metrics,
    tag_items_answered,
)
from runner_llm.checks import Answer, failures, require_price
from runner_llm.data import Item, load_items
from runner_llm.params import LlmPromptParams
from runner_llm.pricing import cost_usd, load_prices
from runner_llm.quality import SCORERS, score_all

#: Per-item columns besides the scorers that ``runner compare`` tests pairwise.
USAGE_SCORES = ("latency_sec", "prompt_tokens", "completion_tokens")


@dataclass(frozen=True)
class ItemResult:
    """One answered item with its scores (empty when the item has no ``expected``), why it
    failed its checks (empty when it passed or has none) and whether the answer was replayed
    from the response cache."""

    item: Item
    rendered: str
    completion: Completion
    scores: dict[str, float]
    failures: tuple[str, ...] = ()
    cached: bool = False


def _cell(value: Any) -> Any:
    """Strings (and None) as they are; lists and other values as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


class LlmPromptExperiment:
    """Implementation of the ``llm-prompt`` experiment type (a fresh instance per run)."""

    def __init__(self) -> None:
        self.template: prompts.PromptTemplate | None = None
        self.items: list[Item] = []
        self.backend: Backend | None = None
        self.cache: ResponseCache | None = None
        #: Answered items, appended as they arrive (kept when a later call fails).
        self.results: list[ItemResult] = []

    @hookimpl
    def runner_prepare(self, ctx: RunContext[LlmPromptParams]) -> None:
        """Check template, items, checks and pricing file; build the backend (a local model's
        files are resolved, its weights load on the first cache miss); open the response cache
        (``ctx.use_cache`` False: write only)."""
        params = ctx.params
        self.template = prompts.load_template(
            params.prompt_name, params.prompt_version, params.prompts_dir
        )
        self.items, source = load_items(params, self.template)
        load_prices(params.pricing_file)
        require_price([check for item in self.items for check in item.checks], params)
        self.backend = get_backend(params)
        self.cache = ResponseCache(self.backend, params, read=ctx.use_cache)
        ctx.log_input("prompt", text=self.template.text)  # the text is in the content key
        declare_backend(ctx, self.backend)
        ctx.set_tag("runner.llm.prompt_file", self.template.path)
        ctx.set_tag("runner.llm.input_source", source)
        self._log_dataset(ctx, self.items, source)

    @staticmethod
    def _log_dataset(ctx: RunContext[LlmPromptParams], items: list[Item], source: str) -> None:
        import pandas as pd

        rows = [
            {**{k: _cell(v) for k, v in item.variables.items()}, "expected": _cell(item.expected)}
            for item in items
        ]
        frame = pd.DataFrame(rows)
        has_expected = frame["expected"].notna().any()
        name = source.rsplit("/", 1)[-1]
        ctx.log_dataset(
            frame, name=name, source=source, targets="expected" if has_expected else None,
            context="evaluation",
        )

    @hookimpl
    def runner_execute(self, ctx: RunContext[LlmPromptParams]) -> None:
        """Register the prompt, then answer (or replay) every item, scoring and checking each
        answer and keeping each result as it arrives."""
        assert self.template is not None and self.backend is not None  # set by runner_prepare
        params, template, backend = ctx.params, self.template, self.backend

        ref = ctx.register_prompt(template.name, template.text)
        ctx.log_param("prompt_uri", ref.uri)
        ctx.set_tag("runner.llm.prompt_registry_version", ref.version)
        ctx.set_tag("runner.llm.backend_model", backend.model)

        rendered = [prompts.render(template, item.variables) for item in self.items]
        requests = [[{"role": "user", "content": text}] for text in rendered]
        for call in iter_calls(
            ctx, backend, requests, span_name=f"{template.name}-v{template.version}",
            description=f"{params.backend}:{params.llm_model}", total=len(requests),
            cache=self.cache,
        ):
            item, completion = self.items[call.index], call.completion
            scores = score_all(completion.text, item.expected) if item.expected is not None else {}
            failed = failures(item.checks, self._answer(params, completion), item.expected) \
                if item.checks else []
            self.results.append(ItemResult(
                item, rendered[call.index], completion, scores, tuple(failed), call.cached
            ))

    @staticmethod
    def _answer(params: LlmPromptParams, completion: Completion) -> Answer:
        """What checks look at, with the call's API price (``None`` when the model has none)."""
        return Answer(completion.text, completion.latency_sec, cost_usd(params, completion))

    @hookimpl
    def runner_evaluate(self, ctx: RunContext[LlmPromptParams]) -> None:
        """Usage metrics (latency, tokens, cost), the mean of each quality score, the share of
        items that passed their checks and the number of replayed answers."""
        tag_items_answered(ctx, len(self.results), len(self.items))
        if not self.results:  # partial results of a run that answered nothing
            return
        ctx.log_metric("items", len(self.results))
        ctx.log_metric("cache_hits", sum(r.cached for r in self.results))
        if self._checked(self.items):
            ctx.log_metric("pass_rate", _mean([float(not r.failures) for r in self.results]))
        log_usage_metrics(ctx, ctx.params, [r.completion for r in self.results],
                          local=self.backend is not None and is_local(self.backend))
        scored = [r.scores for r in self.results if r.scores]
        if scored:
            ctx.log_metrics({name: _mean([s[name] for s in scored]) for name in SCORERS})
            ctx.log_metric("items_with_expected", len(scored))

    @hookimpl
    def runner_log(self, ctx: RunContext[LlmPromptParams]) -> None:
        """prompt.txt (template + rendered example), response.txt, items.json table."""
        template, results = self.template, self.results
        if template is None or not results:  # partial results of a run that answered nothing
            return
        ctx.log_text(
            f"# prompt {template.name} v{template.version} ({template.path.name})\n"
            f"{template.text}\n\n# rendered example (item 0)\n{results[0].rendered}\n",
            "prompt.txt",
        )
        ctx.log_text(
            "".join(f"### item {i}\n{r.completion.text}\n\n" for i, r in enumerate(results)),
            "response.txt",
        )
        checked = self._checked(self.items)
        scores = [*USAGE_SCORES, *(SCORERS if any(r.scores for r in results) else ())]
        ctx.log_items(self._table(results, checked), key="input", output="response",
                      scores=[*scores, *(["passed"] if checked else [])])

    @staticmethod
    def _checked(items: list[Item]) -> bool:
        """Whether the run checks answers: an item has checks (its own or the run's)."""
        return any(item.checks for item in items)

    @staticmethod
    def _table(results: list[ItemResult], checked: bool) -> dict[str, list[Any]]:
        """One row per item: input, rendered prompt, response, tokens, latency, scores,
        ``cached``, and with checks ``passed`` and ``failure`` (why not; empty when passed)."""
        columns: dict[str, list[Any]] = {
            "index": [], "input": [], "rendered_prompt": [], "response": [], "expected": [],
            "prompt_tokens": [], "completion_tokens": [], "latency_sec": [],
            **{name: [] for name in SCORERS}, "cached": [],
            **({"passed": [], "failure": []} if checked else {}),
        }
        for i, r in enumerate(results):
            columns["index"].append(i)
            columns["input"].append(json.dumps(r.item.variables, ensure_ascii=False))
            columns["rendered_prompt"].append(r.rendered)
            columns["response"].append(r.completion.text)
            columns["expected"].append(_cell(r.item.expected))
            columns["prompt_tokens"].append(r.completion.prompt_tokens)
            columns["completion_tokens"].append(r.completion.completion_tokens)
            columns["latency_sec"].append(round(r.completion.latency_sec, 4))
            for name in SCORERS:
                columns[name].append(r.scores.get(name))
            columns["cached"].append(r.cached)
            if checked:
                columns["passed"].append(not r.failures)
                columns["failure"].append("; ".join(r.failures))
        return columns
