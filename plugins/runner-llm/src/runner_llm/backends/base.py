"""What every LLM backend shares: its params, its answer (Completion), its interface and errors.

Light on purpose (pydantic and stdlib only): ``plugin.py`` and other plugins' params models import
:class:`BackendParams` without loading torch, transformers or httpx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runner import RunnerError

#: Backend names and the "module:factory" that builds each; see :func:`register_backend`.
BACKENDS: dict[str, str] = {
    "local": "runner_llm.backends.local:LocalBackend",
    "llama-cpp": "runner_llm.backends.llama_cpp:LlamaCppBackend",
    "openai": "runner_llm.backends.openai:OpenAIBackend",
}

DEFAULT_MODEL = "SmolLM2-135M-Instruct"

#: Local compute cost when the user does not set one: roughly a 2-vCPU cloud instance.
DEFAULT_USD_PER_HOUR = 0.10


def register_backend(name: str, factory: str) -> None:
    """Add a backend (``"package.module:Class"`` taking a :class:`BackendParams`).

    Call it at import time of the module that declares it, before params are validated.
    """
    BACKENDS[name] = factory


class BackendParams(BaseModel):
    """Which LLM answers and how: shared by every experiment type that calls an LLM."""

    model_config = ConfigDict(extra="forbid")

    backend: str = Field(
        "local",
        description="LLM backend: 'local' (transformers, offline), 'llama-cpp' (needs "
        "llama-cpp-python) or 'openai' (any OpenAI-compatible chat-completions endpoint).",
        json_schema_extra={"enum": sorted(BACKENDS)},
    )
    llm_model: str = Field(
        DEFAULT_MODEL,
        description="Model: 'SmolLM2-135M-Instruct' (bundled GGUF), a local HF folder or .gguf "
        "path for local/llama-cpp, or the endpoint's model name for openai.",
    )
    temperature: float = Field(
        0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 means greedy (deterministic)."
    )
    max_tokens: int = Field(64, ge=1, le=8192, description="Maximum new tokens per answer.")
    seed: int = Field(0, description="Random seed for sampling when temperature > 0.")
    base_url: str = Field(
        "https://api.openai.com/v1",
        description="openai backend: base URL of the API (the part before /chat/completions).",
    )
    api_key_env: str | None = Field(
        "OPENAI_API_KEY",
        description="openai backend: NAME of the environment variable holding the API key "
        "(the key itself is never a param and never logged); unset variable = no auth header.",
    )
    timeout_sec: float = Field(
        60.0, gt=0, description="openai backend: timeout of one HTTP request, in seconds."
    )
    max_retries: int = Field(
        3, ge=0, le=10, description="openai backend: retries on 429/5xx/timeouts, with backoff."
    )
    usd_per_hour: float = Field(
        DEFAULT_USD_PER_HOUR,
        ge=0.0,
        description="local/llama-cpp: compute cost in USD per hour of generation time.",
    )
    pricing_file: str | None = Field(
        None,
        description="YAML/JSON file of extra prices (USD per 1M input/output tokens per model), "
        "merged over the built-in table.",
    )

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(BACKENDS)}")
        return value

    @property
    def is_local(self) -> bool:
        """True when the model runs on this machine (cost = compute time x usd_per_hour)."""
        return self.backend in ("local", "llama-cpp")


@dataclass(frozen=True)
class Completion:
    """One chat answer with its token usage and wall-clock latency."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_sec: float
    model: str
    finish_reason: str | None = None

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class Backend(Protocol):
    """Answers one chat request (a list of ``{"role": ..., "content": ...}`` messages)."""

    name: str
    model: str

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """Return the assistant's answer to ``messages``."""
        ...


class BackendError(RunnerError):
    """An LLM call failed; the message is one line and never contains an API key."""


class BackendUnavailableError(BackendError):
    """The endpoint could not be reached, timed out or kept failing (5xx/429) after retries."""


class BackendAuthError(BackendError):
    """The endpoint refused the credentials (401/403)."""


class MalformedResponseError(BackendError):
    """The endpoint answered something that is not a chat completion."""
