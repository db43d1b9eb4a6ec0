"""Where plugins keep what is expensive to rebuild (converted models, embeddings)."""

from __future__ import annotations

import os
from pathlib import Path

#: Overrides the cache folder (default ``~/.cache/runner``).
CACHE_ENV = "RUNNER_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """``$RUNNER_CACHE_DIR/<parts>`` (default ``~/.cache/runner/<parts>``), not created here."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "runner")
    return root.joinpath(*parts)
