"""Secrets never reach a record: every write and every error line goes through :func:`redact`.

A secret is known in two ways: environment variables whose name says they hold one
(``OPENAI_API_KEY``, ``HF_TOKEN``, ``DB_PASSWORD``, ...) are picked up on first use, and a
plugin registers the values it uses (``ctx.add_secret(value)``, e.g. the key named by a
backend's ``api_key_env``). Wherever a secret's value appears — an error body that echoes the
Authorization header, a traceback, a trace span, a tag — it is replaced by ``***`` before the
store or the terminal sees it.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any

MASK = "***"
#: Environment variable names that hold a secret.
SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)
#: Values shorter than this are not treated as secrets (they would mask ordinary words).
MIN_LENGTH = 8

_LOCK = threading.Lock()
_values: set[str] = set()
_scanned_environment = False


def register(value: str | None) -> None:
    """Treat ``value`` as a secret from now on (in this process)."""
    if value and len(value) >= MIN_LENGTH:
        with _LOCK:
            _values.add(value)


def _known() -> list[str]:
    global _scanned_environment
    with _LOCK:
        if not _scanned_environment:
            _scanned_environment = True
            _values.update(value for name, value in os.environ.items()
                           if SECRET_NAME.search(name) and len(value) >= MIN_LENGTH)
        return sorted(_values, key=len, reverse=True)  # longest first: no partial leftovers


def redact(text: str) -> str:
    """``text`` with every known secret replaced by ``***``."""
    for value in _known():
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_value(value: Any) -> Any:
    """Strings redacted inside any nesting of dicts, lists and tuples; other values as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value
