"""What every LLM backend shares: its params, its answer (Completion), its interface and errors.

Backends are contributed through the entry-point group ``runner_llm.backends`` (name = backend
name, value = ``"module:Factory"``), the way llm's ``register_models`` works: runner-llm
registers ``local`` and ``openai`` in its own ``pyproject.toml`` exactly as a third party would
register ``llama-cpp``, vLLM or a company gateway. Discovery reads package metadata only; a
backend's module is imported when a run needs it (:func:`runner_llm.backends.get_backend`).

Light on purpose (pydantic and stdlib only): ``plugin.py`` and other plugins' params models import
:class:`BackendParams` without loading torch, transformers or httpx.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runner import RunnerError

#: The entry-point group backends register in: ``name = "package.module:Factory"``.
ENTRY_POINT_GROUP = "runner_llm.backends"

DEFAULT_MODEL = "SmolLM2-135M-Instruct"

#: The former default of ``usd_per_hour`` (deprecated: the core's cost ledger prices compute).
DEFAULT_USD_PER_HOUR = 0.10

#: The fields of :class:`BackendParams` a first-party backend never reads (not MLflow params
#: of its runs; ``config.json`` keeps them). A backend other packages register reads them all,
#: as far as runner-llm knows.
UNUSED_BY_BACKEND: dict[str, frozenset[str]] = {
    "local": frozenset({"base_url", "api_key_env", "timeout_sec", "max_retries"}),
    "openai": frozenset(),
}

#: Fields no backend reads any more (kept so the config.json of earlier runs still loads).
DEPRECATED_FIELDS = frozenset({"usd_per_hour"})


@functools.cache
def backend_entry_points() -> dict[str, EntryPoint]:
    """Installed backends, name -> entry point (read once per process; nothing is imported).

    When two distributions register one name, the first found on ``sys.path`` wins.
    """
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def backend_names() -> list[str]:
    """The names ``--set backend=...`` accepts, sorted."""
    return sorted(backend_entry_points())


def _backend_choices(schema: dict[str, Any]) -> None:
    """JSON schema of ``backend``: the installed names as an ``enum``, computed when asked."""
    schema["enum"] = backend_names()


class BackendParams(BaseModel):
    """Which LLM answers and how: shared by every experiment type that calls an LLM."""

    # strict: a boolean is not a number and a number is not a boolean (``--set max_tokens=true``
    # is an error, not 1); a float field still takes an int.
    model_config = ConfigDict(extra="forbid", strict=True)

    backend: str = Field(
        "local",
        description="LLM backend: 'local' (transformers, offline) or 'openai' (any "
        "OpenAI-compatible chat-completions endpoint), or one another package registers in the "
        f"entry-point group {ENTRY_POINT_GROUP!r}.",
        json_schema_extra=_backend_choices,
    )
    llm_model: str = Field(
        DEFAULT_MODEL,
        description="Model: 'SmolLM2-135M-Instruct' (bundled GGUF), a local HF folder or .gguf "
        "path for local, or the endpoint's model name for openai.",
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
        description="Deprecated, takes no effect: the compute cost of every run is the core's "
        "cost ledger (wall time x $RUNNER_USD_PER_HOUR); kept so earlier runs' config.json "
        "still load.",
    )
    pricing_file: str | None = Field(
        None,
        description="YAML/JSON file of extra prices (USD per 1M input/output tokens per model), "
        "merged over the built-in table.",
    )

    def inactive_params(self) -> set[str]:
        """The fields that take no effect with these values, so they are not MLflow params:
        the HTTP settings of an API for ``local``, the sampling ``seed`` of a greedy
        (``temperature=0``) local model, and the deprecated ``usd_per_hour``."""
        unused = set(UNUSED_BY_BACKEND.get(self.backend, ())) | DEPRECATED_FIELDS
        if self.backend == "local" and self.temperature == 0:
            unused.add("seed")
        return unused

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in backend_entry_points():
            known = ", ".join(backend_names()) or "none installed"
            raise ValueError(f"unknown backend {value!r}; choose one of {known}")
        return value


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


class Backend(Protocol):
    """Answers one chat request (a list of ``{"role": ..., "content": ...}`` messages).

    An entry point of group ``runner_llm.backends`` names a factory (usually the class) that
    takes the run's :class:`BackendParams` and returns one of these. Set the class attribute
    ``local = True`` when the model runs on this machine: its cost is then the run's compute
    time, which the core's cost ledger prices (plus a per-token price only if the pricing table
    names the model); a backend without the attribute is an API, priced per token from the
    table (an unknown price warns and tags the run). A backend whose answers depend on local files
    (model weights) may expose them as ``files`` (a file or folder): runs digest them into their
    content key; one that holds credentials exposes their values as ``secrets``, which runs
    mask in everything they write (:func:`runner_llm.calls.declare_backend`).
    """

    name: str
    model: str
    local: ClassVar[bool]

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
