"""The openai backend against a loopback chat-completions server: usage, retries, failures."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runner_llm.backends import (
    BackendAuthError,
    BackendParams,
    BackendUnavailableError,
    MalformedResponseError,
)
from runner_llm.backends.openai import OpenAIBackend

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def _backend(server: Any, **overrides: Any) -> OpenAIBackend:
    params = {"backend": "openai", "llm_model": "test-model", "base_url": server.base_url,
              "api_key_env": "RUNNER_LLM_TEST_KEY", "timeout_sec": 2.0, "max_retries": 2,
              **overrides}
    return OpenAIBackend(BackendParams(**params))


def test_success_reads_text_and_usage_and_sends_the_key(
    chat_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LLM_TEST_KEY", "sk-secret-123")
    chat_server.script = [chat_server.reply(body={
        "model": "test-model-2025",
        "choices": [{"message": {"role": "assistant", "content": " Paris "},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 17, "completion_tokens": 3, "total_tokens": 20}})]
    completion = _backend(chat_server, max_tokens=7, temperature=0.5).complete(MESSAGES)
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == \
        ("Paris", 17, 3)
    assert completion.model == "test-model-2025" and completion.latency_sec > 0
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-secret-123"
    assert request["json"]["messages"] == MESSAGES
    assert (request["json"]["max_tokens"], request["json"]["temperature"]) == (7, 0.5)


def test_500_then_success_is_retried(chat_server: Any) -> None:
    chat_server.answers = {"France": "Paris"}
    chat_server.script = [
        chat_server.reply(500, {"error": {"message": "overloaded"}}),
        chat_server.reply(429, {}),
    ]
    completion = _backend(chat_server).complete(MESSAGES)
    assert completion.text == "Paris"
    assert len(chat_server.requests) == 3


def test_repeated_5xx_gives_up_with_one_line(chat_server: Any) -> None:
    chat_server.script = [chat_server.reply(503, {"error": {"message": "down"}})] * 5
    with pytest.raises(BackendUnavailableError, match=r"HTTP 503: down \(gave up after 2") as err:
        _backend(chat_server, max_retries=1).complete(MESSAGES)
    assert "\n" not in str(err.value)
    assert len(chat_server.requests) == 2


def test_401_is_not_retried_and_never_shows_the_key(
    chat_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LLM_TEST_KEY", "sk-secret-123")
    chat_server.script = [
        chat_server.reply(401, {"error": {"message": "Incorrect API key provided"}})
    ]
    with pytest.raises(BackendAuthError, match=r"HTTP 401 .*RUNNER_LLM_TEST_KEY") as err:
        _backend(chat_server).complete(MESSAGES)
    assert "sk-secret" not in str(err.value)
    assert len(chat_server.requests) == 1


def test_timeout_is_retried_then_reported(chat_server: Any) -> None:
    chat_server.script = [chat_server.reply(delay=1.0), chat_server.reply(delay=1.0)]
    start = time.perf_counter()
    with pytest.raises(BackendUnavailableError, match="timed out after 0.3s"):
        _backend(chat_server, timeout_sec=0.3, max_retries=1).complete(MESSAGES)
    assert len(chat_server.requests) == 2
    assert time.perf_counter() - start < 5


def test_malformed_json_and_missing_usage(chat_server: Any) -> None:
    chat_server.script = [
        chat_server.reply(body="{not json"),
        chat_server.reply(body={"choices": []}),
    ]
    backend = _backend(chat_server)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        backend.complete(MESSAGES)
    with pytest.raises(MalformedResponseError, match="not a chat completion"):
        backend.complete(MESSAGES)


def test_unreachable_endpoint(chat_server: Any) -> None:
    backend = _backend(chat_server, base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(BackendUnavailableError, match="cannot connect"):
        backend.complete(MESSAGES)
