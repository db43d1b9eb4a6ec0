"""No test reads or writes the user's LLM response cache, and no test replays another's answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner_llm.cache import CACHE_ENV


@pytest.fixture(scope="session", autouse=True)
def _session_response_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The cache of class- and session-scoped runs (e.g. the contract's reference run)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("llm-cache") / "responses.sqlite3"))
        yield


@pytest.fixture(autouse=True)
def response_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own response cache file (``$RUNNER_LLM_RESPONSE_CACHE``)."""
    path = tmp_path / "responses.sqlite3"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path
