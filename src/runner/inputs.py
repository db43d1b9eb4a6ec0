"""Digests of everything a run reads: files and folders byte for byte, and texts.

The content key (skip-if-done) and ``runner reproduce``'s drift report compare these, so a
change anywhere in an input — row 12,000 of a CSV, one word of a prompt template, a model
file — makes a different run. Files are hashed in a stream; the digest is cached by path, size
and modification time so a large file is not read again on every probe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from threading import Lock

from runner.cache import cache_dir

CHUNK = 1 << 20
_LOCK = Lock()
_MEMO: dict[str, str] = {}


def _cache_file() -> Path:
    return cache_dir("digests.json")


def _load_cache() -> dict[str, str]:
    with contextlib.suppress(OSError, ValueError):
        return dict(json.loads(_cache_file().read_text()))
    return {}


def _save_cache(entries: dict[str, str]) -> None:
    """Write the cache atomically (a temp file renamed into place); losing a race is harmless."""
    target = _cache_file()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".digests-", dir=target.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(entries, handle)
        os.replace(tmp, target)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, cached by (absolute path, size, mtime)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    with _LOCK:
        if key in _MEMO:
            return _MEMO[key]
        cached = _load_cache()
        if key in cached:
            _MEMO[key] = cached[key]
            return cached[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _LOCK:
        _MEMO[key] = value
        cached = _load_cache()
        cached[key] = value
        _save_cache(cached)
    return value


def path_digest(path: Path) -> str:
    """A file's digest, or for a folder one digest over every file's relative name and bytes."""
    if path.is_file():
        return file_digest(path)
    digest = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{child.relative_to(path).as_posix()}\0{file_digest(child)}\n".encode())
    return digest.hexdigest()


def text_digest(text: str) -> str:
    """SHA-256 of a text (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


def local_path(source: str) -> Path | None:
    """``source`` as an existing local file or folder (plain path or ``file://``), else None."""
    if "://" in source and not source.startswith("file://"):
        return None
    path = Path(source.removeprefix("file://")).expanduser()
    return path if path.exists() else None
