"""Every test gets its own LLM response cache, so no test replays another test's answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner_llm.cache import CACHE_ENV


@pytest.fixture(autouse=True)
def response_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The response cache file of this test (``$RUNNER_LLM_RESPONSE_CACHE``)."""
    path = tmp_path / "responses.sqlite3"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path
