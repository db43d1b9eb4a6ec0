"""Pydantic validation errors rendered as one line a person can act on."""

from __future__ import annotations

from pydantic import ValidationError

_FRIENDLY = {"extra_forbidden": "unknown key", "missing": "required"}


def describe_validation_error(error: ValidationError, prefix: str | None = None) -> str:
    """``entry.field: problem; other: problem`` for every field pydantic rejected.

    :param prefix: a leading location segment to drop (e.g. ``experiments`` for the registry).
    """
    parts = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        if prefix and loc and loc[0] == prefix:
            loc = loc[1:]
        message = _FRIENDLY.get(item["type"], item["msg"])
        if item["type"] not in _FRIENDLY and "input" in item and not isinstance(item["input"], dict):
            message += f" (got {item['input']!r})"
        parts.append(f"{'.'.join(loc) or '(root)'}: {message}")
    return "; ".join(parts)
