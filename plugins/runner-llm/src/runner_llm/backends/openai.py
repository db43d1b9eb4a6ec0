"""The ``openai`` backend: any OpenAI-compatible ``/chat/completions`` endpoint over httpx.

The API key is read from the environment variable named by ``api_key_env`` at call time; it
lives only in the Authorization header and never appears in an error message, param or tag.
Timeouts, connection errors, 429 and 5xx are retried with exponential backoff (tenacity).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import httpx
from tenacity import (
    RetryError,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from runner_llm.backends.base import (
    BackendAuthError,
    BackendError,
    BackendParams,
    BackendUnavailableError,
    Completion,
    MalformedResponseError,
)

log = logging.getLogger(__name__)

#: Backoff between retries: 0.5 s, 1 s, 2 s, ... capped at 8 s.
BACKOFF = wait_exponential(multiplier=0.5, min=0.5, max=8)


class _Retryable(Exception):
    """A failure worth another attempt (timeout, connection error, 429, 5xx)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _short(text: str, limit: int = 200) -> str:
    """One line, at most ``limit`` characters, for error messages."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error_detail(response: httpx.Response) -> str:
    """The server's error message if it sent the usual ``{"error": {"message": ...}}``."""
    try:
        body = response.json()
        error = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(error, dict):
            return _short(str(error.get("message") or error))
        return _short(str(error))
    except (ValueError, AttributeError):
        return _short(response.text or response.reason_phrase)


class OpenAIBackend:
    """Chat completions against ``{base_url}/chat/completions``."""

    name = "openai"
    #: A remote API: priced per token from the pricing table.
    local = False

    def __init__(self, params: BackendParams) -> None:
        self.params = params
        self.model = params.llm_model
        self.url = params.base_url.rstrip("/") + "/chat/completions"
        self.client = httpx.Client(timeout=httpx.Timeout(params.timeout_sec))

    @property
    def secrets(self) -> list[str]:
        """The API key: runs mask it wherever a server might echo it (error bodies, traces)."""
        key = self._key()
        return [key] if key else []

    def _key(self) -> str | None:
        return os.environ.get(self.params.api_key_env) if self.params.api_key_env else None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _post_once(self, payload: dict[str, Any]) -> httpx.Response:
        """One HTTP attempt; retryable failures raise :class:`_Retryable`."""
        try:
            response = self.client.post(self.url, json=payload, headers=self._headers())
        except httpx.TimeoutException as exc:
            raise _Retryable(
                f"timed out after {self.params.timeout_sec:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"cannot connect ({type(exc).__name__}: {_short(str(exc))})") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}: {_error_detail(response)}")
        return response

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        """POST with retries; the final failure becomes a :class:`BackendUnavailableError`."""
        attempts = self.params.max_retries + 1
        poster = retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(attempts),
            wait=BACKOFF,
            reraise=False,
        )(self._post_once)
        try:
            return poster(payload)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            reason = last.message if isinstance(last, _Retryable) else str(last)
            raise BackendUnavailableError(
                f"{self.url}: {reason} (gave up after {attempts} attempt(s))"
            ) from None

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """Send one chat request; usage is taken from the response's ``usage`` object."""
        payload: dict[str, Any] = {
            "model": self.params.llm_model,
            "messages": messages,
            "temperature": self.params.temperature,
            "max_tokens": self.params.max_tokens,
            "seed": self.params.seed,
        }
        start = time.perf_counter()
        response = self._post(payload)
        latency = time.perf_counter() - start
        if response.status_code in (401, 403):
            env = self.params.api_key_env
            hint = f"check the key in ${env}" if env else "set api_key_env"
            raise BackendAuthError(
                f"{self.url}: HTTP {response.status_code} {_error_detail(response)} ({hint})"
            )
        if response.status_code >= 400:
            raise BackendError(
                f"{self.url}: HTTP {response.status_code} {_error_detail(response)}"
            )
        return self._parse(response, latency)

    def _parse(self, response: httpx.Response, latency: float) -> Completion:
        """Read text and usage from a chat-completions body."""
        try:
            body = response.json()
        except (json.JSONDecodeError, ValueError):
            raise MalformedResponseError(
                f"{self.url}: response is not JSON: {_short(response.text, 80)!r}"
            ) from None
        try:
            choice = body["choices"][0]
            text = choice["message"]["content"]
            usage = body["usage"]
            prompt_tokens = int(usage["prompt_tokens"])
            completion_tokens = int(usage["completion_tokens"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"{self.url}: not a chat completion with usage (missing {exc})"
            ) from None
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        return Completion(
            text=text.strip(),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_sec=latency,
            model=str(body.get("model") or self.params.llm_model),
            finish_reason=choice.get("finish_reason"),
        )
