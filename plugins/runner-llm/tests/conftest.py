"""Fixtures: the loopback chat-completions server (runner_llm.testing), a fresh MLflow store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner_llm.testing import ChatServer, serve_chat


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A ChatServer on 127.0.0.1 (random port) in a thread; shut down after the test."""
    with serve_chat() as server:
        yield server


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh sqlite tracking store; cwd moved so no stray registry.yaml is read."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
