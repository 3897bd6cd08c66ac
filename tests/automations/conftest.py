"""A local HTTP server standing in for the chat platforms (the edge of the world).

Tests script its answers — ``standin.reply(status, json=…, headers=…, delay=…)``, taken in
order, the last one repeated, or ``standin.answer = function(received) -> Reply | None``
that decides from the request itself (None: the scripted answer) — and read what it
received: ``standin.requests`` (method, path with query, headers lower-cased, body bytes,
JSON when it parses, the time it arrived). Each platform's test makes it answer as that
platform's documentation says it does.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)  # when it arrived (unix seconds)

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than a client's timeout: no answer)


class StandIn:
    def __init__(self):
        self.requests: list[Received] = []
        self._replies: list[Reply] = []
        self.answer = None  # a function of the request that may answer instead of the script
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, status: int = 200, *, json_body=None, body: bytes = b"", headers=None,
              delay: float = 0.0) -> None:  # fmt: skip
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json", **(headers or {})}
        with self._lock:
            self._replies.append(Reply(status, body, dict(headers or {}), delay))

    def _next(self) -> Reply:
        with self._lock:
            if len(self._replies) > 1:
                return self._replies.pop(0)
            return self._replies[0] if self._replies else Reply()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received = Received(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                with standin._lock:
                    standin.requests.append(received)
                reply = (standin.answer and standin.answer(received)) or standin._next()
                if reply.delay:
                    time.sleep(reply.delay)
                # A client that gave up (its timeout, a worker killed mid-request) is gone.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)

            def log_message(self, *args):  # quiet
                pass

        return Handler


@pytest.fixture
def standin():
    server = StandIn()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def closed_port() -> str:
    """An address where nothing listens: a connection is refused before anything is sent."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def queue(monkeypatch):
    """The broker, stood in for: records what is enqueued (tests/automations/scheduling.py);
    a test file may define its own."""
    from tests.automations.scheduling import install_queue

    return install_queue(monkeypatch)
