"""A worker of a deployment with a broker: the gate in front of the app.

For each request the gate decides where it is answered. Sockets and public reads of an office
(snapshot, events, a live ticket, services, occupancy, static files) are answered here, from the
office's writer when this worker is it, else from its replica. Everything else goes to the
office's writer through the broker, with its headers, body and client address, and is answered
there by the very same app, so its answer (auth, throttles, idempotency, kiosk pairing) is the
one a single process gives. The writer replies only once its effect is on disk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import socket
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from queue_server.bus.redis import Broker, BrokerError
from queue_server.engine.accounts import token_hash
from queue_server.engine.roles import OfficeRole
from queue_server.engine.tasks import cancel_and_wait
from queue_server.web.bodies import MAX_BODY
from queue_server.web.headers import SECURITY_HEADERS
from queue_server.web.middleware import refuse_large

log = logging.getLogger(__name__)

FORWARD_TIMEOUT = 10.0  # a take-over takes at most 5 s; the queued request then still runs
LOCAL_READS = frozenset({"/api/v1/state", "/api/v1/services", "/api/v1/occupancy", "/api/v1/offices"})
SESSION_COOKIE = b"antre_session="


class Worker:
    """This worker's offices, its link to the broker, and its forwarded requests both ways."""

    def __init__(self, roles: dict[str, OfficeRole], broker: Broker, single: bool) -> None:
        self.roles = roles
        self.broker = broker
        self.single = single
        self.id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.app: ASGIApp | None = None
        self.lifespan_state: dict[str, Any] = {}
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._answering: set[asyncio.Task[None]] = set()
        for role in roles.values():
            role.on_writer.append(lambda _service, office=role.office_id: self._serve_inbox(office))

    async def start(self) -> None:
        await self.broker.ping()
        self._tasks.append(asyncio.create_task(self._read_replies(), name="forward-replies"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            await cancel_and_wait(task)
        await self.broker.close()

    def shutting_down(self) -> None:
        """The server stops: requests waiting for a writer's answer get 503 now, not in 10 s, so
        the graceful shutdown is quick; and no office is taken over any more."""
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(_ShuttingDown())
        for role in self.roles.values():
            role.stop_watching()

    def writer_for(self) -> list[str]:
        return sorted(office for office, role in self.roles.items() if role.is_writer)

    async def health(self) -> dict[str, Any]:
        reachable = await self.broker.ping()
        return {
            "status": "ok",
            "pid": os.getpid(),
            "broker": "ok" if reachable else "unreachable",
            "writer_for": self.writer_for(),
            "worker": self.id,
        }

    # ----- forwarding a request to the office's writer ----------------------------------

    async def forward(self, office: str, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await refuse_large(send)
                return
        request_id = uuid.uuid4().hex
        request = {
            "id": request_id,
            "reply_to": self.id,
            "method": scope["method"],
            "path": scope["path"],
            "raw_path": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "client": list(scope["client"]) if scope.get("client") else None,
            "server": list(scope["server"]) if scope.get("server") else None,
            "scheme": scope.get("scheme", "http"),
            "http_version": scope.get("http_version", "1.1"),
            "body": base64.b64encode(bytes(body)).decode(),
            "deadline": _wall() + FORWARD_TIMEOUT - 1,
        }
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            try:
                await self.broker.forward(office, orjson.dumps(request))
            except BrokerError:
                self.broker.reachable = False
                await _refuse(
                    send, 503, "broker_unavailable", "the broker cannot be reached; try again shortly"
                )
                return
            try:
                async with asyncio.timeout(FORWARD_TIMEOUT):  # not wait_for: it can swallow a cancel on 3.11
                    answer = await future
            except TimeoutError:
                await _refuse(
                    send, 503, "writer_unavailable", "no worker applies this office's commands just now"
                )
                return
        finally:
            self._waiting.pop(request_id, None)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]]
        await send({"type": "http.response.start", "status": answer["status"], "headers": headers})
        await send({"type": "http.response.body", "body": base64.b64decode(answer["body"])})

    async def _read_replies(self) -> None:
        client = self.broker.blocking()
        failures = 0
        try:
            while True:
                try:
                    replies = await Broker.next_replies(client, self.id, 1.0)
                    failures = 0
                except BrokerError:
                    failures += 1
                    await asyncio.sleep(min(0.1 * 2**failures, 2.0))
                    continue
                for raw in replies:
                    answer = orjson.loads(raw)
                    future = self._waiting.get(answer["id"])
                    if future is not None and not future.done():
                        future.set_result(answer)
        finally:
            await client.aclose()

    # ----- answering forwarded requests (this worker writes the office) ----------------

    def _serve_inbox(self, office: str) -> None:
        self._tasks.append(asyncio.create_task(self._consume(office), name=f"inbox-{office}"))

    async def _consume(self, office: str) -> None:
        client = self.broker.blocking()
        failures = 0
        try:
            while self.roles[office].is_writer:
                try:
                    requests = await Broker.next_requests(client, office, 1.0)
                    failures = 0
                except BrokerError:
                    failures += 1
                    await asyncio.sleep(min(0.1 * 2**failures, 2.0))
                    continue
                for raw in requests:
                    task = asyncio.create_task(self._answer(orjson.loads(raw)))
                    self._answering.add(task)  # held until done: the loop keeps only weak references
                    task.add_done_callback(self._answering.discard)
        finally:
            await client.aclose()

    async def _answer(self, request: dict[str, Any]) -> None:
        if request["deadline"] < _wall():
            return  # its sender has answered 503 already; applying it now would surprise the client
        assert self.app is not None
        status = 500
        headers: list[list[str]] = []
        body = bytearray()
        incoming: list[Message] = [
            {"type": "http.request", "body": base64.b64decode(request["body"]), "more_body": False}
        ]

        async def receive() -> Message:
            if incoming:
                return incoming.pop()
            await asyncio.Event().wait()  # the forwarding worker holds the client; no disconnect here
            raise AssertionError  # pragma: no cover

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers.extend(
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": request["http_version"],
            "method": request["method"],
            "scheme": request["scheme"],
            "path": request["path"],
            "raw_path": request["raw_path"].encode("latin-1"),
            "query_string": request["query"].encode("latin-1"),
            "root_path": "",
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request["headers"]],
            "client": tuple(request["client"]) if request["client"] else None,
            "server": tuple(request["server"]) if request["server"] else None,
            "state": dict(self.lifespan_state),
            "antre.forwarded": True,
        }
        try:
            await self.app(scope, receive, send)
        except Exception:
            log.exception("a forwarded request failed")
            status, headers, body = 500, [["content-type", "application/json"]], bytearray(_ERROR_500)
        answer = {
            "id": request["id"],
            "status": status,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
        }
        with contextlib.suppress(*BrokerError):
            await self.broker.reply(request["reply_to"], orjson.dumps(answer))


class _ShuttingDown(Exception):
    pass


_ERROR_500 = b'{"error":{"code":"internal_error","message":"something went wrong; please try again"}}'


def _wall() -> float:
    return time.time()


class WorkerGate:
    """The outermost app of a worker: health, local reads and sockets here, the rest forwarded."""

    def __init__(self, app: ASGIApp, worker: Worker) -> None:
        self.app = app
        self.worker = worker
        worker.app = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        office, rest = self._office_of(scope["path"])
        if kind == "http" and rest == "/healthz":
            await _send_json(send, 200, await self.worker.health())
            return
        role = self.worker.roles.get(office) if office is not None else None
        if role is None or kind != "http" or role.is_writer or scope.get("antre.forwarded"):
            await self.app(scope, receive, send)
            return
        if self._answered_here(scope, rest, role):
            await self.app(scope, receive, send)
            return
        await self.worker.forward(office or "", scope, receive, send)

    def _office_of(self, path: str) -> tuple[str | None, str]:
        if self.worker.single:
            return next(iter(self.worker.roles)), path
        if path.startswith("/o/"):
            office, _, rest = path[3:].partition("/")
            return office, "/" + rest
        return None, path

    def _answered_here(self, scope: Scope, rest: str, role: OfficeRole) -> bool:
        if scope["method"] not in ("GET", "HEAD"):
            return False
        if rest.startswith("/static/"):
            return True
        replica = role.replica
        if not replica.loaded or _has_credentials(scope):
            return False  # staff requests are checked against the accounts, which the writer holds
        if rest in LOCAL_READS:
            return True
        if rest == "/api/v1/events":
            since = _query(scope, "since")
            return since is None or (since.isdigit() and int(since) <= replica.seq)
        for prefix in ("/api/v1/tickets/", "/t/"):
            if rest.startswith(prefix):
                token = rest[len(prefix) :].split("/", 1)[0]
                tail = rest[len(prefix) + len(token) :]
                # Only today's tickets live in the replica; older ones the writer reads from disk.
                return tail in ("", "/qr.svg") and replica.live_ticket(token_hash(token)) is not None
        return False

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.worker.lifespan_state = scope.setdefault("state", {})

        async def on_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.worker.start()
            return message

        async def on_send(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.worker.stop()
            await send(message)

        await self.app(scope, on_receive, on_send)


def _has_credentials(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE in value):
            return True
        if name == b"x-kiosk-token":
            return True
    return False


def _query(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else None


async def _send_json(send: Send, status: int, data: dict[str, Any]) -> None:
    body = orjson.dumps(data)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *SECURITY_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    await _send_json(send, status, {"error": {"code": code, "message": message}})
