"""WebSocket endpoints: a snapshot (or the missed events), then every event in order.

Written against ASGI directly rather than Starlette's WebSocket class: a lobby
TV and a thousand phones share each event's ready-made frame, which goes out
through the server's `antre.send_frames` extension in one write per screen
(see ws_protocol.py); without the extension, frames are sent one by one.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from queue_server import wire
from queue_server.bus.hub import Closed, Overflow, Sink, Subscription
from queue_server.domain import events as ev
from queue_server.engine.accounts import token_hash
from queue_server.engine.service import OfficeService
from queue_server.web.fastpath import EXTENSION, SEND_FRAMES
from queue_server.web.state import Antre

log = logging.getLogger(__name__)

CLOSE_BEHIND = 4000
"""The screen fell behind; reconnect with ?since=N."""
CLOSE_BAD_REQUEST = 4400
CLOSE_UNKNOWN_TICKET = 4404
CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN = 1013
"""This worker's copy of the office is behind what the screen saw; reconnect (maybe elsewhere)."""
CATCH_UP_SECONDS = 3.0

Frame = tuple[str, bytes | None]
"""A message for a screen: its text, and its ready-made frame when one exists."""


class Gone(Exception):
    """The screen disconnected."""


class Socket:
    """One screen's ASGI WebSocket connection."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self._send = send
        extension = (scope.get("extensions") or {}).get(EXTENSION)
        self.batched = extension is not None
        self.direct_writer: Sink | None = extension.get("write") if extension else None

    @property
    def service(self) -> OfficeService:
        state: Antre = self.scope["state"]["antre"]
        return state.service

    def query(self, name: str) -> str | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get(name)
        return values[0] if values else None

    async def accept(self) -> None:
        message = await self.receive()
        if message["type"] != "websocket.connect":
            raise Gone
        await self._send({"type": "websocket.accept"})

    async def send(self, frames: list[Frame]) -> None:
        if not frames:
            return
        if self.batched:
            message = {"type": SEND_FRAMES, "frames": [f or wire.text_frame(t) for t, f in frames]}
            await self._send(message)
            return
        for text, _ in frames:
            await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


def _dumps(data: dict[str, Any]) -> str:
    return wire.dumps(data)


def _since(raw: str | None) -> int | str | None:
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return "bad"
    return value if value >= 0 else "bad"


def _event_frames(batch: list[wire.Envelope]) -> list[Frame]:
    return [(e.text, e.frame) for e in batch]


class _Endpoint(abc.ABC):
    """An ASGI WebSocket endpoint: accepts the connection, then `serve`s it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        socket = Socket(scope, receive, send)
        try:
            await socket.accept()
        except Gone:
            return
        await self.serve(socket)

    @abc.abstractmethod
    async def serve(self, socket: Socket) -> None: ...


class DisplaySocket(_Endpoint):
    """`/ws/display`: the whole office, for the lobby TV, entrance, counters and door."""

    async def serve(self, socket: Socket) -> None:
        since = _since(socket.query("since"))
        if since == "bad":
            await socket.close(CLOSE_BAD_REQUEST, "since must be a whole number")
            return
        service = socket.service
        if not await service.caught_up_to(since if isinstance(since, int) else 0, CATCH_UP_SECONDS):
            await socket.close(CLOSE_TRY_AGAIN, "this worker is catching up; reconnect")
            return
        # From here to subscribe() there is no await: nothing can be published in between.
        channel = service.channel
        missed = channel.since(since) if isinstance(since, int) else None
        if missed is None:
            # The snapshot may already hold a batch whose commit is in flight: its events
            # (seq <= snapshot seq) are then skipped by the subscription, not applied twice.
            after, text, frame = service.snapshot_frame()
            first: list[Frame] = [(text, frame)]
        else:
            first = _event_frames(missed)
            after = channel.last_seq
        with channel.subscribe(after) as subscription:
            await _pump(socket, subscription, first, _event_frames, direct=True)


class TicketSocket(_Endpoint):
    """`/ws/tickets/{token}`: one visitor's ticket, for their phone."""

    async def serve(self, socket: Socket) -> None:
        service = socket.service
        since = _since(socket.query("since"))  # extension: the seq the phone already saw
        if not await service.caught_up_to(since if isinstance(since, int) else 0, CATCH_UP_SECONDS):
            await socket.close(CLOSE_TRY_AGAIN, "this worker is catching up; reconnect")
            return
        token: str = socket.scope["path_params"]["token"]
        found = await service.ticket_by_token_hash(token_hash(token)) if len(token) < 200 else None
        if found is None:
            await socket.close(CLOSE_UNKNOWN_TICKET, "unknown ticket")
            return
        ticket, view = found
        ticket_id = ticket.id
        last = {"view": view}

        def concerns(event: wire.Envelope) -> bool:
            # Positions move only when a ticket of the same service comes or goes.
            if event.ticket_id is None:
                return event.type in (ev.DayStarted.TYPE, ev.ConfigChanged.TYPE)
            if event.ticket_id == ticket_id:
                return True
            if event.ticket_service != last["view"]["service"]:
                return False
            # A ticket issued behind this one changes neither its place nor its wait.
            mine, theirs = last["view"].get("position"), event.ticket_position
            return not (event.type == ev.TicketIssued.TYPE and mine and theirs and theirs > mine)

        def own_view(batch: list[wire.Envelope]) -> dict[str, Any] | None:
            # After the day's end the ticket is gone from the live state; its last event tells how it ended.
            for event in reversed(batch):
                if event.ticket_id == ticket_id:
                    view: dict[str, Any] = event.as_dict()["ticket"]
                    return view
            return None

        def render(batch: list[wire.Envelope]) -> list[Frame]:
            # The office's service is looked up each time: a worker that takes over as the
            # office's writer replaces its replica, and the views then come from the writer.
            current = socket.service.view_of(ticket_id) or own_view(batch) or last["view"]
            if current == last["view"]:
                return []
            kind = "ticket.position"
            for event in reversed(batch):
                if event.ticket_id == ticket_id:
                    kind = event.type
                    break
            last["view"] = current
            return [(_dumps({"type": kind, "seq": batch[-1].seq, "ticket": current}), None)]

        seq = service.seq
        first: list[Frame] = [(_dumps({"type": "snapshot", "seq": seq, "ticket": view}), None)]
        # Rendered as each batch is delivered, from the state as of that batch (see Subscription).
        with service.channel.subscribe(seq, concerns, render) as subscription:
            await _pump(socket, subscription, first, _as_rendered)


def _as_rendered(batch: list[Frame]) -> list[Frame]:
    return batch


DISPLAY = DisplaySocket()
TICKETS = TicketSocket()
_TICKETS_PREFIX = "/ws/tickets/"


def live_endpoint(scope: Scope, root: str = "") -> _Endpoint | None:
    """The live socket a WebSocket scope asks for (its path under `root`), or None."""
    path: str = scope["path"]
    if not path.startswith(root):
        return None
    path = path[len(root) :]
    if path == "/ws/display":
        return DISPLAY
    if path.startswith(_TICKETS_PREFIX):
        token = path[len(_TICKETS_PREFIX) :]
        if token and "/" not in token:  # what the route's {token} matches
            scope["path_params"] = {"token": token}
            return TICKETS
    return None


class LiveSockets:
    """Sends the two live sockets straight to their endpoints, past the router and the middleware
    (none of which does anything for them): a socket stays open for hours, and each layer it
    passes keeps a coroutine frame alive all that time. With 20,000 phones that is memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            endpoint = live_endpoint(scope, scope.get("root_path", ""))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _pump(
    socket: Socket,
    subscription: Subscription,
    first: list[Frame],
    render: Callable[[list[Any]], list[Frame]],
    direct: bool = False,
) -> None:
    """Send `first`, then every batch of events, until the screen leaves or falls behind.

    With `direct`, once `first` is out, the hub writes later events itself; this
    task then only waits to close the socket when the screen leaves or falls behind.
    """
    reader = asyncio.create_task(_drain_incoming(socket, subscription))
    try:
        await socket.send(first)
        if direct and socket.direct_writer is not None:
            subscription.go_direct(socket.direct_writer)
        while True:
            try:
                batch = await subscription.next_batch()
            except Overflow:
                await socket.close(CLOSE_BEHIND, "behind: reconnect with since")
                return
            except Closed:
                await socket.close(CLOSE_GOING_AWAY, "server stopping")
                return
            await socket.send(render(batch))
    except (RuntimeError, OSError):
        return  # the screen went away; it will reconnect and resume
    finally:
        reader.cancel()


async def _drain_incoming(socket: Socket, subscription: Subscription) -> None:
    """Screens send no commands; reading only notices when they leave."""
    with contextlib.suppress(Exception):  # any failure to read means the screen is gone
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass
    subscription.close()
