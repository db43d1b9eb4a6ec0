"""The openai backend against a loopback chat-completions server: usage, retries, failures."""

from __future__ import annotations

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
    fake_llm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LLM_TEST_KEY", "sk-secret-123")
    fake_llm.script = [fake_llm.reply(body={
        "model": "test-model-2025",
        "choices": [{"message": {"role": "assistant", "content": " Paris "},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 17, "completion_tokens": 3, "total_tokens": 20}})]
    completion = _backend(fake_llm, max_tokens=7, temperature=0.5).complete(MESSAGES)
    assert (completion.text, completion.prompt_tokens, completion.completion_tokens) == \
        ("Paris", 17, 3)
    assert completion.model == "test-model-2025" and completion.latency_sec > 0
    (request,) = fake_llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-secret-123"
    assert request["json"]["messages"] == MESSAGES
    assert (request["json"]["max_tokens"], request["json"]["temperature"]) == (7, 0.5)


def test_500_then_success_is_retried(fake_llm: Any) -> None:
    fake_llm.answers = {"France": "Paris"}
    fake_llm.script = [
        fake_llm.reply(500, {"error": {"message": "overloaded"}}),
        fake_llm.reply(429, {}),
    ]
    completion = _backend(fake_llm).complete(MESSAGES)
    assert completion.text == "Paris"
    assert len(fake_llm.requests) == 3


def test_repeated_5xx_gives_up_with_one_line(fake_llm: Any) -> None:
    fake_llm.script = [fake_llm.reply(503, {"error": {"message": "down"}})] * 5
    with pytest.raises(BackendUnavailableError, match=r"HTTP 503: down \(gave up after 2") as err:
        _backend(fake_llm, max_retries=1).complete(MESSAGES)
    assert "\n" not in str(err.value)
    assert len(fake_llm.requests) == 2


def test_401_is_not_retried_and_never_shows_the_key(
    fake_llm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNNER_LLM_TEST_KEY", "sk-secret-123")
    fake_llm.script = [
        fake_llm.reply(401, {"error": {"message": "Incorrect API key provided"}})
    ]
    with pytest.raises(BackendAuthError, match=r"HTTP 401 .*RUNNER_LLM_TEST_KEY") as err:
        _backend(fake_llm).complete(MESSAGES)
    assert "sk-secret" not in str(err.value)
    assert len(fake_llm.requests) == 1


def test_timeout_is_retried_then_reported(fake_llm: Any) -> None:
    # The server holds each reply 25x longer than the client waits: no race either way. Its
    # handler threads are daemons, so the fixture's shutdown does not wait for them.
    fake_llm.script = [fake_llm.reply(delay=5.0), fake_llm.reply(delay=5.0)]
    with pytest.raises(BackendUnavailableError, match=r"timed out after 0.2s .*gave up after 2"):
        _backend(fake_llm, timeout_sec=0.2, max_retries=1).complete(MESSAGES)
    assert len(fake_llm.requests) == 2


def test_malformed_json_and_missing_usage(fake_llm: Any) -> None:
    fake_llm.script = [
        fake_llm.reply(body="{not json"),
        fake_llm.reply(body={"choices": []}),
    ]
    backend = _backend(fake_llm)
    with pytest.raises(MalformedResponseError, match="not JSON"):
        backend.complete(MESSAGES)
    with pytest.raises(MalformedResponseError, match="not a chat completion"):
        backend.complete(MESSAGES)


def test_unreachable_endpoint(fake_llm: Any) -> None:
    backend = _backend(fake_llm, base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(BackendUnavailableError, match="cannot connect"):
        backend.complete(MESSAGES)
