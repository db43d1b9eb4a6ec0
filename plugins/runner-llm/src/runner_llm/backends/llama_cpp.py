"""The ``llama-cpp`` backend: a GGUF model through llama-cpp-python (optional extra).

Install with ``pip install 'runner-llm[llama-cpp]'`` (compiles llama.cpp, ~9 minutes).
"""

from __future__ import annotations

import importlib.util
import threading
import time
from typing import Any

from runner import InputError

from runner_llm.backends.base import BackendParams, Completion, MalformedResponseError
from runner_llm.backends.models import resolve_model

_LOCK = threading.Lock()
_LOADED: dict[str, Any] = {}


def _llama(llm_model: str, seed: int) -> Any:
    """Load the GGUF once per process."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise InputError(
            "backend 'llama-cpp' needs llama-cpp-python: pip install 'runner-llm[llama-cpp]' "
            "(or use --set backend=local)"
        )
    source = resolve_model(llm_model)
    if source.gguf_path is None:
        raise InputError(f"backend 'llama-cpp' needs a .gguf model; {llm_model!r} is not one")
    with _LOCK:
        if llm_model not in _LOADED:
            from llama_cpp import Llama

            _LOADED[llm_model] = Llama(
                model_path=str(source.gguf_path), n_ctx=2048, seed=seed, verbose=False
            )
        return _LOADED[llm_model]


class LlamaCppBackend:
    """Chat completion through ``Llama.create_chat_completion`` (uses the GGUF's template)."""

    name = "llama-cpp"

    def __init__(self, params: BackendParams) -> None:
        self.params = params
        self.llama = _llama(params.llm_model, params.seed)
        self.model = resolve_model(params.llm_model).name

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """Generate one answer; usage comes from llama.cpp's response."""
        start = time.perf_counter()
        response = self.llama.create_chat_completion(
            messages=messages,
            temperature=self.params.temperature,
            max_tokens=self.params.max_tokens,
            seed=self.params.seed,
        )
        try:
            choice = response["choices"][0]
            usage = response["usage"]
            return Completion(
                text=(choice["message"]["content"] or "").strip(),
                prompt_tokens=int(usage["prompt_tokens"]),
                completion_tokens=int(usage["completion_tokens"]),
                latency_sec=time.perf_counter() - start,
                model=self.model,
                finish_reason=choice.get("finish_reason"),
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"llama.cpp returned no usable completion (missing {exc})"
            ) from exc
