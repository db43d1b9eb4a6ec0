"""What a tracking URI is and whether it can be reached, without importing MLflow.

Light on purpose: a sweep's driver asks these questions before it imports MLflow, so that a
Ray cluster can start while that import runs, and a server that is down is one line at once.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

from runner.errors import InputError


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, else ``None``."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    return Path(tracking_uri.removeprefix("sqlite:///"))


def is_local_only(tracking_uri: str) -> str | None:
    """Why workers on other hosts cannot use ``tracking_uri`` (a file, or this host by a
    loopback name), or ``None`` when they can."""
    if sqlite_path(tracking_uri) is not None or tracking_uri.startswith("sqlite:"):
        return "a sqlite file on this machine, which workers on other hosts cannot write"
    parsed = urlparse(tracking_uri)
    if parsed.scheme in ("", "file"):
        return "a folder on this machine, which workers on other hosts cannot write"
    if parsed.hostname in ("localhost", "::1") or (parsed.hostname or "").startswith("127."):
        return f"{parsed.hostname}, which names each worker's own host, not this one"
    return None


def server_reachable(tracking_uri: str, timeout: float = 5.0) -> None:
    """Connect to a tracking server once, so an unreachable one is one line, not a hang of
    MLflow's retries: an ``InputError`` when the connection is refused or times out. Other
    URIs (files, databases) are left to the store to open."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme not in ("http", "https"):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "localhost", port), timeout=timeout):
            pass
    except OSError as exc:
        raise InputError(f"tracking server {tracking_uri}: cannot connect ({exc.strerror or exc}); "
                         "is it running? (`runner server ...`)") from None
