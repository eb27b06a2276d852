"""HTTP for the simulated devices: a small HTTP/1.1 client, always through a fault proxy, retrying.

Each `Client` is one device (a kiosk, an officer's PC, a visitor's phone) with
one keep-alive connection and one request at a time, as a browser tab behaves.
It is a few lines of asyncio rather than httpx because the simulation runs a few
thousand visitors in the same process as its proxies and screens on a 2-core
machine: httpx's per-request cost and its pool queues, under a restart's burst
of retries, starved the event loop for seconds.

A request that fails on the network (reset, cut answer, timeout) or gets 503
(the server is stopping) is sent again, with the same `Idempotency-Key` when it
has one, until it gets an answer or its deadline passes. What the client
finally got is returned as an `Answer`; every attempt is counted in a shared
`Tally` for the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT = 2.0
REQUEST_TIMEOUT = 2.5
IDLE_REUSE = 3.0  # uvicorn closes idle keep-alive connections after 5 s; do not race it
RETRY_DEADLINE = 30.0  # long enough to ride out a SIGTERM drain plus a restart
RETRY_STATUSES = frozenset({503})
# A stopping server; and with several workers, a broker or writer that is away for a moment.
EXPECTED_503 = frozenset(
    {"shutting_down", "storage_error", "broker_unavailable", "writer_unavailable", "writer_moved"}
)
MAX_HEADER_LINES = 100


class NetworkError(Exception):
    """No (complete) answer: refused, reset, cut, or timed out. `kind` names which."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Answer:
    """The outcome of one logical request (all its attempts)."""

    status: int | None  # None: no answer before the deadline
    body: Any
    attempts: int
    network_errors: int
    statuses: list[int] = field(default_factory=list)  # every status seen, in order

    @property
    def uncertain(self) -> bool:
        """A try may have reached the server without its answer reaching us."""
        return self.network_errors > 0

    @property
    def error_code(self) -> str | None:
        return _code(self.body)


@dataclass
class Tally:
    """Every attempt, across all clients."""

    requests: int = 0
    attempts: int = 0
    network_errors: int = 0
    gave_up: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # seconds, of attempts that got an answer
    server_errors: list[str] = field(default_factory=list)  # 5xx other than a stopping server's 503

    def note_status(self, method: str, path: str, status: int, body: Any) -> None:
        self.statuses[status] += 1
        if status >= 500 and not (status == 503 and _code(body) in EXPECTED_503):
            self.server_errors.append(f"{method} {path} -> {status} {str(body)[:200]}")


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return str(code) if code is not None else None
    return None


class Client:
    """One device: one keep-alive connection to a proxy on 127.0.0.1, one request at a time."""

    def __init__(self, port: int, tally: Tally, rng: random.Random, token: str | None = None) -> None:
        self.port = port
        self.tally = tally
        self.rng = rng
        self.token = token
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0
        self._busy = asyncio.Lock()

    async def aclose(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.transport.abort()
        self._reader = self._writer = None

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        retry: bool = True,
        deadline: float = RETRY_DEADLINE,
    ) -> Answer:
        """Send until answered (retrying network errors and 503), or until `deadline` seconds pass."""
        async with self._busy:
            return await self._call(method, path, body, key, retry, deadline)

    async def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        key: str | None,
        retry: bool,
        deadline: float,
    ) -> Answer:
        payload = b"" if body is None else json.dumps(body).encode()
        head = [
            f"{method} {API}{path} HTTP/1.1",
            f"Host: {LOOPBACK}:{self.port}",
            "Accept: application/json",
            f"Content-Length: {len(payload)}",
        ]
        if body is not None:
            head.append("Content-Type: application/json")
        if key is not None:
            head.append(f"Idempotency-Key: {key}")
        if self.token is not None:
            head.append(f"Authorization: Bearer {self.token}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        self.tally.requests += 1
        ends = time.monotonic() + deadline
        answer = Answer(None, None, 0, 0)
        for attempt in range(1000):  # bounded twice: attempts and the deadline
            answer.attempts += 1
            self.tally.attempts += 1
            sent = time.monotonic()
            try:
                status, data = await self._attempt(request)
            except NetworkError as error:
                self._drop()
                self.tally.error_kinds[error.kind] += 1
                self.tally.network_errors += 1
                answer.network_errors += 1
            else:
                self.tally.latencies.append(time.monotonic() - sent)
                answer.statuses.append(status)
                self.tally.note_status(method, path, status, data)
                answer.status, answer.body = status, data
                if status not in RETRY_STATUSES:
                    return answer
            if not retry or time.monotonic() >= ends:
                break
            # Back off a little, with jitter so a room of devices does not retry in step.
            await asyncio.sleep(min(1.0, 0.04 * 2 ** min(attempt, 5)) * self.rng.uniform(0.5, 1.5))
        if answer.status in RETRY_STATUSES:
            answer.status = None
        if answer.status is None:
            self.tally.gave_up += 1
        return answer

    async def _attempt(self, request: bytes) -> tuple[int, Any]:
        if self._writer is not None and time.monotonic() - self._last_used > IDLE_REUSE:
            self._drop()
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.wait_for(
                    asyncio.open_connection(LOOPBACK, self.port), CONNECT_TIMEOUT
                )
            reader, writer = self._reader, self._writer
            assert reader is not None
            writer.write(request)
            status, headers, raw = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
        except TimeoutError:
            raise NetworkError("timeout") from None
        except asyncio.IncompleteReadError:
            raise NetworkError("cut") from None
        except ConnectionRefusedError:
            raise NetworkError("refused") from None
        except (ConnectionError, OSError):
            raise NetworkError("reset") from None
        self._last_used = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            self._drop()
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, {"raw": raw[:200].decode(errors="replace")}


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    line = await reader.readline()
    if not line:
        raise asyncio.IncompleteReadError(b"", None)
    parts = line.decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].strip().isdigit():
        raise NetworkError("garbled")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readline()
        if not line:
            raise asyncio.IncompleteReadError(b"", None)
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if status == 204 or status == 304 or 100 <= status < 200:
        return status, headers, b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        for _ in range(100_000):  # bounded: each round reads one chunk
            size_line = (await reader.readline()).split(b";")[0].strip()
            try:
                size = int(size_line or b"0", 16)
            except ValueError:
                raise NetworkError("garbled") from None
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, headers, bytes(body)
    length = headers.get("content-length", "0")
    if not length.isdigit():
        raise NetworkError("garbled")
    return status, headers, await reader.readexactly(int(length))
