"""Fixtures for plugin test suites, registered with pytest through the ``pytest11`` entry point.

Installing ``runner-core`` is enough: every test suite gets these fixtures.

- ``tracking_uri`` — a fresh sqlite MLflow store in the test's temporary folder (the working
  directory moves there too, so no stray ``registry.yaml`` or ``mlflow.db`` is read).
- ``make_plugins`` — ``make_plugins(("name", plugin), ...)``: a fresh plugin manager with the
  built-ins, the installed plugins and the given extra ones registered.
- ``fake_llm`` — an offline OpenAI-compatible chat-completions server on 127.0.0.1; point a
  plugin's ``base_url`` at ``fake_llm.base_url`` and script answers or failures.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runner.plugins import LOAD_ENV, Plugins, load_plugins
from runner.testing.chat_server import ChatServer, serve_chat


@pytest.fixture(scope="session")
def _empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow sqlite database, created (schema migrated, ~2 s) once per session."""
    from mlflow import MlflowClient

    database = tmp_path_factory.mktemp("runner-store") / "empty.db"
    MlflowClient(f"sqlite:///{database}").search_experiments()
    return database


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _empty_store: Path) -> str:
    """A fresh sqlite tracking store (a copy of an empty one); cwd moves to the test's folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    shutil.copyfile(_empty_store, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def make_plugins(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Plugins]:
    """``make_plugins(*extra, installed=True)``: built-ins (+ installed plugins) + ``extra``.

    ``extra`` are ``(name, plugin)`` pairs; with ``installed=False`` no entry point loads, so a
    test sees exactly the plugins it registers.
    """

    def make(*extra: tuple[str, object], installed: bool = True) -> Plugins:
        if not installed:
            monkeypatch.setenv(LOAD_ENV, "")
        return load_plugins(extra=extra)

    return make


@pytest.fixture
def fake_llm() -> Iterator[ChatServer]:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 (random port), per test."""
    with serve_chat() as server:
        yield server
