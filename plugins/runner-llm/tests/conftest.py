"""Fixtures: a loopback HTTP server speaking OpenAI chat-completions, MLflow helpers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Reply:
    """One scripted answer: HTTP status, body (dict -> JSON, str -> raw) and a delay."""

    status: int = 200
    body: Any = None
    delay: float = 0.0


@dataclass
class ChatServer:
    """A chat-completions server whose next replies are scripted; records every request."""

    base_url: str
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def reply(status: int = 200, body: Any = None, delay: float = 0.0) -> Reply:
        """A scripted reply (tests cannot import conftest under --import-mode=importlib)."""
        return Reply(status, body, delay)

    def completion(self, request: dict[str, Any]) -> dict[str, Any]:
        """A well-formed answer: known questions get their scripted answer, others 'unknown'."""
        prompt = request["messages"][-1]["content"]
        text = next((a for q, a in self.answers.items() if q in prompt), "unknown")
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": request.get("model", "test-model"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text},
                 "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": len(text.split()),
                "total_tokens": len(prompt.split()) + len(text.split()),
            },
        }


def _handler(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length))
            server.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": request}
            )
            reply = server.script.pop(0) if server.script else Reply()
            if reply.delay:
                time.sleep(reply.delay)
            if self.path != "/v1/chat/completions":
                reply = Reply(404, {"error": {"message": f"no route {self.path}"}})
            body = server.completion(request) if reply.body is None else reply.body
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # client timed out first
                pass

    return Handler


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A ChatServer on 127.0.0.1 (random port) in a thread; shut down after the test."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    server = ChatServer(base_url=f"http://127.0.0.1:{httpd.server_port}/v1")
    httpd.RequestHandlerClass = _handler(server)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh sqlite tracking store; cwd moved so no stray registry.yaml is read."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
