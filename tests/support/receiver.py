"""A messaging gateway for tests: a real HTTP server on 127.0.0.1 that can fail, go away and come back.

It checks every request's signature the way docs/protocol.md tells a gateway to,
answers 500 to the next `fail_next` requests, and records what it accepted by
message id, so a test can tell whether a message arrived, and whether a second
copy of an accepted message ever came.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.server import HOST, free_port


@dataclass
class Received:
    id: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    status: int  # what the receiver answered


class Receiver:
    def __init__(self, secret: str, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.fail_next = 0  # answer 500 to this many requests
        self.requests: list[Received] = []  # everything that came, in order
        self.accepted: dict[str, Received] = {}  # message id -> the copy answered 2xx
        self.repeats: list[str] = []  # ids that came again after a 2xx
        self.bad_signatures = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/send"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                status = receiver.handle(raw, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((HOST, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the socket: the server's next attempts meet a refused connection."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, raw: bytes, headers: dict[str, str]) -> int:
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        with self._lock:
            if not hmac.compare_digest(expected, headers.get("x-antre-signature", "")):
                self.bad_signatures += 1
                status = 401
            elif self.fail_next > 0:
                self.fail_next -= 1
                status = 500
            else:
                status = 200
            body = json.loads(raw)
            message = Received(str(body.get("id")), body, raw, headers, status)
            self.requests.append(message)
            if status == 200:
                if message.id in self.accepted:
                    self.repeats.append(message.id)
                else:
                    self.accepted[message.id] = message
        return status

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """The accepted messages once there are `count` of them (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.accepted) >= count:
                    return list(self.accepted.values())
            time.sleep(0.02)
        raise AssertionError(
            f"{len(self.accepted)} of {count} messages arrived; requests: {len(self.requests)}"
        )

    async def until(self, count: int, timeout: float = 20.0) -> list[Received]:
        """`wait_for` without blocking the event loop (for tests where the sender runs in process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.accepted) >= count:
                    return list(self.accepted.values())
            await asyncio.sleep(0.02)
        raise AssertionError(
            f"{len(self.accepted)} of {count} messages arrived; requests: {len(self.requests)}"
        )
