"""Small clients and assertions for the black-box interface tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.server import ServerProcess

API = "/api/v1"
OFFICE_TZ = ZoneInfo("Asia/Makassar")
ISO_OFFICE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")
TICKET_FIELDS = {
    "id", "number", "service", "status", "party_size", "position", "counter", "issued_at",
    "admitted_at", "called_at", "serving_at", "finished_at", "day",
}  # fmt: skip
OCCUPANCY_FIELDS = {"inside", "capacity", "outside", "outside_people"}
EVENT_TIMEOUT = 10.0
ROOMY = 1000  # capacity of the module-shared servers

Json = dict[str, Any]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(
    resp: httpx.Response, status: int | Collection[int], code: str | Collection[str] | None = None
) -> str:
    """Check a 4xx/503 answer has the shape `{"error": {"code", "message"}}`; return the code."""
    statuses = {status} if isinstance(status, int) else set(status)
    assert resp.status_code in statuses, (
        f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:500]}"
    )
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error.get("code"), str) and re.fullmatch(r"[a-z0-9_]+", error["code"]), body
    assert isinstance(error.get("message"), str) and error["message"].strip(), body
    if code is not None:
        codes = {code} if isinstance(code, str) else set(code)
        assert error["code"] in codes, body
    return str(error["code"])


def assert_office_time(value: Any) -> None:
    """An ISO 8601 time with the office's UTC offset (+08:00)."""
    assert isinstance(value, str) and ISO_OFFICE_TIME.match(value), value


def office_today() -> set[str]:
    """Today's local date in the office (a set, to tolerate a midnight during the test)."""
    return {dt.datetime.now(OFFICE_TZ).date().isoformat()}


def assert_ticket_shape(ticket: Json) -> None:
    """A ticket object carries every documented field, with the documented types."""
    missing = TICKET_FIELDS - set(ticket)
    assert not missing, f"ticket lacks {missing}: {ticket}"
    assert isinstance(ticket["id"], int)
    assert re.fullmatch(r"[A-Z]{1,2}\d{3,}", ticket["number"]), ticket
    assert ticket["status"] in {
        "outside", "waiting", "called", "serving", "done", "no_show", "cancelled",
    }  # fmt: skip
    assert isinstance(ticket["party_size"], int) and not isinstance(ticket["party_size"], bool)
    if ticket["status"] in {"outside", "waiting"}:
        assert isinstance(ticket["position"], int) and ticket["position"] >= 1, ticket
    else:
        assert ticket["position"] is None, ticket
    assert_office_time(ticket["issued_at"])
    for key in ("admitted_at", "called_at", "serving_at", "finished_at"):
        if ticket[key] is not None:
            assert_office_time(ticket[key])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ticket["day"]), ticket


class Office:
    """A thin synchronous client for one server's HTTP API."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url + API, timeout=30.0)
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def token(self, role: str) -> str:
        """A (cached) bearer token for the role's test account."""
        if role not in self._tokens:
            self._tokens[role] = self.server.role_token(role)
        return self._tokens[role]

    def forget_tokens(self) -> None:
        """Drop cached tokens (after a restart, sessions need not survive)."""
        self._tokens.clear()

    @property
    def officer(self) -> dict[str, str]:
        """Authorization header of the officer."""
        return bearer(self.token("officer"))

    @property
    def admin(self) -> dict[str, str]:
        """Authorization header of the admin."""
        return bearer(self.token("admin"))

    @property
    def door(self) -> dict[str, str]:
        """Authorization header of the door keeper."""
        return bearer(self.token("door"))

    # -- tickets --

    def issue(
        self, service: str = "a", party_size: int | None = None, key: str | None = None
    ) -> httpx.Response:
        """POST /tickets."""
        body: Json = {"service": service}
        if party_size is not None:
            body["party_size"] = party_size
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post("/tickets", json=body, headers=headers)

    def issue_ok(self, service: str = "a", party_size: int | None = None) -> Json:
        """Issue a ticket, asserting 201; return the ticket (with token)."""
        resp = self.issue(service, party_size)
        assert resp.status_code == 201, resp.text
        ticket: Json = resp.json()
        return ticket

    def ticket(self, token: str) -> Json:
        """GET /tickets/{token}, asserting 200."""
        resp = self.http.get(f"/tickets/{token}")
        assert resp.status_code == 200, resp.text
        ticket: Json = resp.json()
        return ticket

    def status(self, token: str) -> str:
        """The ticket's current status."""
        return str(self.ticket(token)["status"])

    def cancel(self, token: str) -> httpx.Response:
        """DELETE /tickets/{token}."""
        return self.http.delete(f"/tickets/{token}")

    # -- reads --

    def services(self) -> list[Json]:
        """GET /services."""
        resp = self.http.get("/services")
        assert resp.status_code == 200, resp.text
        services: list[Json] = resp.json()
        return services

    def waiting(self) -> dict[str, int]:
        """The `waiting` figure of each service from GET /services."""
        return {s["id"]: s["waiting"] for s in self.services()}

    def occupancy(self) -> Json:
        """GET /occupancy."""
        resp = self.http.get("/occupancy")
        assert resp.status_code == 200, resp.text
        occupancy: Json = resp.json()
        return occupancy

    def state(self) -> Json:
        """GET /state."""
        resp = self.http.get("/state")
        assert resp.status_code == 200, resp.text
        state: Json = resp.json()
        return state

    def seq(self) -> int:
        """The current office event seq."""
        return int(self.state()["seq"])

    # -- counters --

    def counter(
        self,
        counter: str,
        action: str,
        *,
        json_body: Json | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST /counters/{counter}/{action} as the officer (unless `headers` say otherwise)."""
        hdrs = dict(self.officer if headers is None else headers)
        if key:
            hdrs["Idempotency-Key"] = key
        return self.http.post(f"/counters/{counter}/{action}", json=json_body, headers=hdrs)

    def call_next(self, counter: str, key: str | None = None) -> httpx.Response:
        """POST /counters/{counter}/call-next as the officer."""
        return self.counter(counter, "call-next", key=key)

    def call_next_ok(self, counter: str) -> Json:
        """Call the next ticket, asserting 200; return it."""
        resp = self.call_next(counter)
        assert resp.status_code == 200, resp.text
        ticket: Json = resp.json()
        return ticket

    def step_ok(self, counter: str, action: str) -> Json:
        """POST a counter step, asserting 200; return the answer."""
        resp = self.counter(counter, action)
        assert resp.status_code == 200, f"{action}: {resp.status_code} {resp.text}"
        body: Json = resp.json()
        return body

    # -- capacity --

    def door_count(self, direction: str, count: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST /occupancy/enter or /exit as the door keeper (unless `headers` given)."""
        hdrs = self.door if headers is None else headers
        return self.http.post(f"/occupancy/{direction}", json={"count": count}, headers=hdrs)

    def set_capacity(self, capacity: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """PUT /capacity as the admin (unless `headers` given)."""
        hdrs = self.admin if headers is None else headers
        return self.http.put("/capacity", json={"capacity": capacity}, headers=hdrs)


async def request_concurrently(
    base_url: str,
    method: str,
    path: str,
    bodies: list[Json | None],
    headers: dict[str, str] | None = None,
) -> list[httpx.Response]:
    """Send one request per body, all at once, each on its own connection.

    One AsyncClient per request: httpcore's pool scans its whole queue on every
    step, which makes hundreds of requests queued on one client very slow.
    """

    async def one(body: Json | None) -> httpx.Response:
        # verify=False: plain http, and loading the CA bundle per client costs ~20 ms of CPU.
        async with httpx.AsyncClient(base_url=base_url + API, timeout=60, verify=False) as client:
            return await client.request(method, path, json=body, headers=headers)

    return list(await asyncio.gather(*[one(body) for body in bodies]))


#: The type of the `office_factory` fixture: config text -> Office on a fresh server.
OfficeFactory = Callable[[str], Office]


# -- WebSockets --------------------------------------------------------------


async def recv_json(ws: ClientConnection, timeout: float = EVENT_TIMEOUT) -> Json:
    """The next text frame, parsed (fails after `timeout` s)."""
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), f"expected a text frame, got {raw!r}"
    frame: Json = json.loads(raw)
    return frame


async def recv_n(ws: ClientConnection, n: int, timeout: float = EVENT_TIMEOUT) -> list[Json]:
    """The next `n` frames."""
    return [await recv_json(ws, timeout) for _ in range(n)]


async def close_code(ws: ClientConnection, timeout: float = EVENT_TIMEOUT) -> int | None:
    """Read until the server closes the socket; return the close code it sent."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return ws.close_code


@contextlib.asynccontextmanager
async def open_ws(server: ServerProcess, path: str) -> AsyncIterator[ClientConnection]:
    """A WebSocket client connection to `path` on the server."""
    async with connect(server.ws_url + path, open_timeout=10, max_size=2**24) as ws:
        yield ws


class DisplayFeed:
    """A /ws/display socket read continuously in the background into `frames`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Json] = []
        self.raw: list[str] = []
        self.closed: ConnectionClosed | None = None
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                assert isinstance(raw, str)
                self.raw.append(raw)
                self.frames.append(json.loads(raw))
                self._changed.set()
        except ConnectionClosed as exc:
            self.closed = exc
        self._changed.set()

    @property
    def events(self) -> list[Json]:
        """Frames that are office events (not snapshots)."""
        return [f for f in self.frames if f.get("type") != "snapshot"]

    async def wait_for(self, check: Callable[[list[Json]], bool], timeout: float = 15.0) -> None:
        """Wait until `check(frames)` holds."""
        async with asyncio.timeout(timeout):
            while not check(self.frames):
                if self._task.done():
                    raise AssertionError(f"display socket ended: {self.closed}")
                self._changed.clear()
                await self._changed.wait()

    async def wait_seq(self, seq: int, timeout: float = 15.0) -> None:
        """Wait until the event with `seq` has arrived."""
        await self.wait_for(
            lambda fs: any(f.get("type") != "snapshot" and f["seq"] >= seq for f in fs), timeout
        )

    async def stop(self) -> None:
        """Stop reading."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@contextlib.asynccontextmanager
async def display_feed(server: ServerProcess, query: str = "") -> AsyncIterator[DisplayFeed]:
    """A DisplayFeed on `/ws/display{query}`, whose first frame has arrived."""
    async with open_ws(server, "/ws/display" + query) as ws:
        feed = DisplayFeed(ws)
        try:
            await feed.wait_for(lambda fs: len(fs) >= 1)
            yield feed
        finally:
            await feed.stop()


def assert_contiguous(events: list[Json], first: int) -> None:
    """The events have seq first, first+1, ... with no gap or repeat."""
    assert [e["seq"] for e in events] == list(range(first, first + len(events))), [
        (e["seq"], e["type"]) for e in events
    ]


class Watch:
    """Collects the office events caused by each step, using GET /state's seq as the fence."""

    def __init__(self, feed: DisplayFeed, office: Office) -> None:
        self.feed = feed
        self.office = office
        first = feed.frames[0]
        self.last: int = first["seq"] if first.get("type") == "snapshot" else first["seq"] - 1

    async def new_events(self) -> list[Json]:
        """The events with seq in (last, current]; advances `last`."""
        seq = self.office.seq()
        if seq > self.last:
            await self.feed.wait_seq(seq)
        events = [e for e in self.feed.events if self.last < e["seq"] <= seq]
        assert_contiguous(events, self.last + 1)
        self.last = seq
        return events

    async def types(self) -> list[str]:
        """The types of `new_events()`."""
        return [e["type"] for e in await self.new_events()]
