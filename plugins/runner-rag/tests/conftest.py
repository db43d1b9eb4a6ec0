"""Fixtures: a fresh tracking store and embedding cache per test, a loopback chat server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_llm.testing import ChatServer, serve_chat


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh sqlite store; cwd moved so no stray registry.yaml is read; a private cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """runner-llm's loopback chat-completions server; unknown questions get "I don't know"."""
    with serve_chat(default_answer="I don't know") as server:
        yield server
