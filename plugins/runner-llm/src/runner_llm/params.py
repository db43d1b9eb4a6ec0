"""Params of the ``llm-prompt`` experiment type: a backend, a prompt version, an input set.

:class:`PromptParams` (backend + which prompt template version) is the base of every params
model that renders a versioned prompt for an LLM: ``llm-prompt`` here, ``rag`` in runner-rag.
"""

from __future__ import annotations

from pydantic import Field

from runner_llm.backends.base import BackendParams
from runner_llm.checks import Check


class PromptParams(BackendParams):
    """An LLM backend and a versioned prompt template ``<prompts_dir>/<name>/v<N>.txt``."""

    prompt_name: str = Field(
        "qa", description="Prompt template name: the folder <prompts_dir>/<prompt_name>/."
    )
    prompt_version: int = Field(
        1, ge=1, description="Template version: selects the file v<prompt_version>.txt."
    )
    prompts_dir: str | None = Field(
        None,
        description="Your own prompts folder (<name>/v<N>.txt), searched before the bundled one.",
    )


class LlmPromptParams(PromptParams):
    """Evaluate one version of a prompt template over an input set (or one input)."""

    input_path: str | None = Field(
        None,
        description="JSONL input set: one object of template variables per line, optionally "
        "with 'expected' (string or list of accepted answers). Default: the bundled "
        "24-question qa_facts.jsonl.",
    )
    input: str | None = Field(
        None,
        description="Run a single input instead of input_path: the value of the template's "
        "only variable, or a JSON object of variables.",
    )
    expected: str | None = Field(
        None, description="Expected answer for the single `input` (enables quality metrics)."
    )
    max_items: int | None = Field(
        None, ge=1, description="Use only the first N items of the input set."
    )
    checks: list[Check] = Field(
        default_factory=list,
        description="Checks applied to every item, before the item's own 'checks': a list of "
        "{type, value, threshold}; type is equals, contains, icontains, regex, is-json, "
        "json-schema, levenshtein, rouge-l, latency or cost, 'not-' negates it. Items pass "
        "or fail (pass_rate).",
    )

    def inactive_params(self) -> set[str]:
        """Fields that take no effect, so they are not MLflow params (``config.json`` keeps
        them): the backend's unused settings; ``input_path`` and ``max_items`` when one
        ``input`` runs; ``input`` and ``expected`` when the input set does; ``checks`` when
        there are none."""
        unused = super().inactive_params()
        if not self.checks:
            unused.add("checks")
        if self.input is not None:
            unused |= {"input_path", "max_items"}
        else:
            unused |= {"input", "expected"}
        return unused
