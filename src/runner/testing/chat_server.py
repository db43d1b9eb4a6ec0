"""A loopback OpenAI-style chat-completions server for tests (standard library only).

Plugins that call an LLM test against it instead of a real API (the ``fake_llm`` fixture)::

    with serve_chat() as server:          # or the ``fake_llm`` fixture
        server.answers = {"France": "Paris"}
        server.script = [ChatServer.reply(401, {"error": {"message": "key revoked"}})]
        ... base_url=server.base_url ...

Known questions get their scripted answer, others ``default_answer``; usage counts words.
Scripted replies (status, body, delay) are consumed one per request, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass
class Reply:
    """One scripted answer: HTTP status, body (dict -> JSON, str -> raw, None -> an answer)."""

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
    default_answer: str = "unknown"

    @staticmethod
    def reply(status: int = 200, body: Any = None, delay: float = 0.0) -> Reply:
        """A scripted reply (tests cannot import conftest under --import-mode=importlib)."""
        return Reply(status, body, delay)

    @property
    def prompts(self) -> list[str]:
        """The last message of every chat request received, in order."""
        return [
            r["json"]["messages"][-1]["content"] for r in self.requests if r["path"] == CHAT_PATH
        ]

    def completion(self, request: dict[str, Any]) -> dict[str, Any]:
        """A well-formed answer to ``request``; usage counts whitespace-separated words."""
        prompt = request["messages"][-1]["content"]
        text = next((a for q, a in self.answers.items() if q in prompt), self.default_answer)
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
        def log_message(self, *args: Any) -> None:  # keep test output clean
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
            if self.path != CHAT_PATH:
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


@contextmanager
def serve_chat(**fields: Any) -> Iterator[ChatServer]:
    """A :class:`ChatServer` on 127.0.0.1 (random port) in a thread, shut down on exit.

    ``fields`` set its attributes up front (e.g. ``default_answer="I don't know"``).
    """
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server = ChatServer(base_url=f"http://127.0.0.1:{httpd.server_port}/v1", **fields)
    httpd.RequestHandlerClass = _handler(server)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
