"""LLM backends: a small registry of name -> implementation, built lazily and cached per process.

Importing this package loads no model and no heavy library; :func:`get_backend` imports the
chosen backend's module only when a run needs it.
"""

from __future__ import annotations

import importlib
import threading

from runner_llm.backends.base import (
    BACKENDS,
    DEFAULT_MODEL,
    DEFAULT_USD_PER_HOUR,
    Backend,
    BackendAuthError,
    BackendError,
    BackendParams,
    BackendUnavailableError,
    Completion,
    MalformedResponseError,
    register_backend,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "DEFAULT_USD_PER_HOUR",
    "Backend",
    "BackendAuthError",
    "BackendError",
    "BackendParams",
    "BackendUnavailableError",
    "Completion",
    "MalformedResponseError",
    "get_backend",
    "register_backend",
]

_LOCK = threading.Lock()
_CACHE: dict[tuple[tuple[str, object], ...], Backend] = {}

#: Fields that decide which backend object answers; anything else (e.g. pricing) does not.
_BACKEND_FIELDS = (
    "backend",
    "llm_model",
    "temperature",
    "max_tokens",
    "seed",
    "base_url",
    "api_key_env",
    "timeout_sec",
    "max_retries",
)


def get_backend(params: BackendParams) -> Backend:
    """Return the backend for ``params``, built once per process.

    Heavy state (model weights) is cached per model inside each backend module, so two params
    that differ only in e.g. ``temperature`` share one loaded model.

    :raises runner.InputError: unknown model, or an optional dependency is missing.
    """
    key = tuple((name, getattr(params, name)) for name in _BACKEND_FIELDS)
    with _LOCK:
        backend = _CACHE.get(key)
        if backend is None:
            module_name, _, attr = BACKENDS[params.backend].partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
            backend = factory(params)
            _CACHE[key] = backend
        return backend
