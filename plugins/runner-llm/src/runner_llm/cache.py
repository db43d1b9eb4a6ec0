"""A response cache for LLM calls: a replayed answer costs nothing and changes no result.

An answer is stored under a SHA-256 key of everything that determines it: the model's identity
(a local model's file digest; otherwise the backend, the model name and, for backends that read
it, the endpoint's base URL), the sampling params (``temperature``, ``max_tokens`` and always
``seed``, so repeats with ``seed``, ``seed+1``, ... are separate answers) and the messages sent.
A hit replays the :class:`~runner_llm.backends.Completion` as first recorded, with its token
counts and latency, so every metric, the API cost included, is the first run's.

The cache is one SQLite file, ``${RUNNER_CACHE_DIR:-~/.cache/runner}/llm/responses.sqlite3``
(``$RUNNER_LLM_RESPONSE_CACHE`` names another file), in WAL mode with a busy timeout, so
parallel sweep workers read and write it at once. Each operation opens its own short
connection: nothing is shared between threads or processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner import InputError
from runner.cache import cache_dir

from runner_llm.backends.base import UNUSED_BY_BACKEND, Backend, BackendParams, Completion

#: Names the cache file, instead of ``<runner cache>/llm/responses.sqlite3``.
CACHE_ENV = "RUNNER_LLM_RESPONSE_CACHE"

#: Part of every key: bump it when what a key covers or what an entry holds changes.
FORMAT = 1

#: Seconds a connection waits for another process's write lock before failing.
BUSY_TIMEOUT_SEC = 30.0

#: The params that, with the model and the messages, determine an answer.
SAMPLING_FIELDS = ("temperature", "max_tokens", "seed")

Messages = list[dict[str, str]]


def cache_path() -> Path:
    """``$RUNNER_LLM_RESPONSE_CACHE``, else ``<runner cache dir>/llm/responses.sqlite3``."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else cache_dir("llm", "responses.sqlite3")


def model_identity(backend: Backend, params: BackendParams) -> dict[str, Any]:
    """What identifies the model that answers: a local model by its files' digest (every byte,
    as ``ctx.log_input`` digests it), an endpoint by backend, model name and base URL."""
    from runner.inputs import path_digest

    identity: dict[str, Any] = {"backend": params.backend}
    files = getattr(backend, "files", None)
    if files is not None:
        identity["model_digest"] = path_digest(Path(files))
    else:
        identity["model"] = params.llm_model
    if "base_url" not in UNUSED_BY_BACKEND.get(params.backend, ()):
        identity["base_url"] = params.base_url.rstrip("/")
    return identity


class ResponseCache:
    """Answers of one backend with one set of sampling params, by the messages sent.

    :param read: ``False`` (``runner run --no-cache``) never replays; fresh answers are still
        stored, so the next run finds them.
    :raises runner.InputError: the cache file cannot be created or is not a cache (call it in
        ``runner_prepare``: one line, before a run exists).
    """

    def __init__(self, backend: Backend, params: BackendParams, *, read: bool = True,
                 path: Path | None = None) -> None:
        self.path = path or cache_path()
        self.read = read
        self._scope = {
            "format": FORMAT,
            **model_identity(backend, params),
            **{name: getattr(params, name) for name in SAMPLING_FIELDS},
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS responses ("
                    "key TEXT PRIMARY KEY, completion TEXT NOT NULL, created REAL NOT NULL)"
                )
        except (OSError, sqlite3.Error) as exc:
            raise InputError(
                f"response cache {self.path} cannot be opened ({exc}); point ${CACHE_ENV} at "
                "a writable file"
            ) from None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode, closed on exit."""
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SEC, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    def key(self, messages: Messages) -> str:
        """SHA-256 of the model identity, sampling params and messages (canonical JSON)."""
        text = json.dumps({**self._scope, "messages": messages}, sort_keys=True,
                          ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, messages: Messages) -> Completion | None:
        """The stored answer to ``messages``, or ``None`` (always ``None`` when not reading)."""
        if not self.read:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT completion FROM responses WHERE key = ?", (self.key(messages),)
            ).fetchone()
        return Completion(**json.loads(row[0])) if row else None

    def put(self, messages: Messages, completion: Completion) -> None:
        """Store ``completion`` as the answer to ``messages`` (replacing an older one)."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO responses (key, completion, created) VALUES (?, ?, ?)",
                (self.key(messages), json.dumps(dataclasses.asdict(completion)), time.time()),
            )
