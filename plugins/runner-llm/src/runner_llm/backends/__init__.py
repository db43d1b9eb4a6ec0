"""LLM backends, found through the entry-point group ``runner_llm.backends``, built lazily.

Importing this package loads no model and no heavy library: :func:`get_backend` imports the
chosen backend's module (``entry_point.load()``) only when a run needs it, and caches the
backend per process.

A package adds a backend with an entry point, like runner-llm's own ``local`` and ``openai``::

    [project.entry-points."runner_llm.backends"]
    vllm = "my_package.vllm_backend:VllmBackend"   # a callable: BackendParams -> Backend
"""

from __future__ import annotations

import threading

from runner import InputError

from runner_llm.backends.base import (
    DEFAULT_MODEL,
    DEFAULT_USD_PER_HOUR,
    ENTRY_POINT_GROUP,
    Backend,
    BackendAuthError,
    BackendError,
    BackendParams,
    BackendUnavailableError,
    Completion,
    MalformedResponseError,
    backend_entry_points,
    backend_names,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_USD_PER_HOUR",
    "ENTRY_POINT_GROUP",
    "Backend",
    "BackendAuthError",
    "BackendError",
    "BackendParams",
    "BackendUnavailableError",
    "Completion",
    "MalformedResponseError",
    "backend_entry_points",
    "backend_names",
    "get_backend",
    "is_local",
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

    :raises runner.InputError: the backend's module cannot be imported, an unknown model, or
        a missing optional dependency.
    """
    key = tuple((name, getattr(params, name)) for name in _BACKEND_FIELDS)
    with _LOCK:
        backend = _CACHE.get(key)
        if backend is None:
            entry_point = backend_entry_points()[params.backend]
            try:
                factory = entry_point.load()
            except Exception as exc:  # noqa: BLE001 - a broken third-party backend is one line
                raise InputError(
                    f"backend {params.backend!r} ({entry_point.value}) cannot be loaded: "
                    f"{type(exc).__name__}: {exc}".splitlines()[0]
                ) from exc
            backend = factory(params)
            _CACHE[key] = backend
        return backend


def is_local(backend: Backend) -> bool:
    """Whether ``backend`` runs on this machine (its class sets ``local = True``)."""
    return bool(getattr(backend, "local", False))
