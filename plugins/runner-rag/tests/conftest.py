"""Fixtures: a fresh tracking store and embedding cache per test, a loopback chat server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def tracking_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh sqlite store; cwd moved so no stray registry.yaml is read; a private cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@dataclass
class ChatServer:
    """OpenAI-style chat-completions on 127.0.0.1 answering from a {question: answer} map."""

    base_url: str
    answers: dict[str, str] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)

    def completion(self, request: dict[str, Any]) -> dict[str, Any]:
        prompt = request["messages"][-1]["content"]
        self.prompts.append(prompt)
        text = next((a for q, a in self.answers.items() if q in prompt), "I don't know")
        return {
            "object": "chat.completion",
            "model": request.get("model", "test-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": len(text.split()),
                "total_tokens": len(prompt.split()) + len(text.split()),
            },
        }


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A ChatServer in a thread on a random loopback port; shut down after the test."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server = ChatServer(base_url=f"http://127.0.0.1:{httpd.server_port}/v1")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            data = json.dumps(server.completion(request)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd.RequestHandlerClass = Handler
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
