"""WebSocket endpoints: a snapshot (or the missed events), then every event in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from queue_server import auth
from queue_server import events as ev
from queue_server.hub import Closed, Overflow, Subscription
from queue_server.service import OfficeService

log = logging.getLogger(__name__)

CLOSE_BEHIND = 4000
"""The screen fell behind; reconnect with ?since=N."""
CLOSE_BAD_REQUEST = 4400
CLOSE_UNKNOWN_TICKET = 4404
CLOSE_GOING_AWAY = 1001


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _since(websocket: WebSocket) -> int | str | None:
    raw = websocket.query_params.get("since")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        return "bad"
    return value if value >= 0 else "bad"


async def display_socket(websocket: WebSocket) -> None:
    service: OfficeService = websocket.app.state.service
    await websocket.accept()
    since = _since(websocket)
    if since == "bad":
        await websocket.close(CLOSE_BAD_REQUEST, "since must be a whole number")
        return
    # From here to subscribe() there is no await: nothing can be published in between.
    missed = service.hub.since(since) if isinstance(since, int) else None
    if missed is None:
        # The snapshot may already hold a batch whose commit is in flight: its events
        # (seq <= snapshot seq) are then skipped by the subscription, not applied twice.
        snapshot = service.snapshot()
        first = [_dumps({"type": "snapshot", **snapshot})]
        after = snapshot["seq"]
    else:
        first = [e.encoded() for e in missed]
        after = service.hub.last_seq
    with service.hub.subscribe(after) as subscription:
        await _pump(websocket, subscription, first, lambda batch: [e.encoded() for e in batch])


async def ticket_socket(websocket: WebSocket) -> None:
    service: OfficeService = websocket.app.state.service
    await websocket.accept()
    token = websocket.path_params["token"]
    found = service.ticket_by_token_hash(auth.token_hash(token)) if len(token) < 200 else None
    if found is None:
        await websocket.close(CLOSE_UNKNOWN_TICKET, "unknown ticket")
        return
    ticket, view = found
    ticket_id = ticket.id
    last = {"view": view}

    def concerns(event: ev.Event) -> bool:
        # Positions move only when a ticket of the same service comes or goes.
        if event.ticket_id is None:
            return event.type in (ev.DAY_STARTED, ev.CONFIG_CHANGED)
        return event.ticket_id == ticket_id or event.ticket_service == last["view"]["service"]

    def frames(batch: list[ev.Event]) -> list[str]:
        current = service.view_of(ticket_id)
        if current is None:
            stored = service.ticket_by_token_hash(ticket.token_hash)
            current = stored[1] if stored else last["view"]
        if current == last["view"]:
            return []
        kind = "ticket.position"
        for event in reversed(batch):
            if event.ticket_id == ticket_id:
                kind = event.type
                break
        last["view"] = current
        return [_dumps({"type": kind, "seq": batch[-1].seq, "ticket": current})]

    first = [_dumps({"type": "snapshot", "seq": service.office.seq, "ticket": view})]
    with service.hub.subscribe(service.office.seq, concerns) as subscription:
        await _pump(websocket, subscription, first, frames)


async def _pump(
    websocket: WebSocket,
    subscription: Subscription,
    first: list[str],
    render: Callable[[list[ev.Event]], list[str]],
) -> None:
    """Send `first`, then every batch of events, until the screen leaves or falls behind."""
    reader = asyncio.create_task(_drain_incoming(websocket, subscription))
    try:
        for frame in first:
            await websocket.send_text(frame)
        while True:
            try:
                batch = await subscription.next_batch()
            except Overflow:
                await _close(websocket, CLOSE_BEHIND, "behind: reconnect with since")
                return
            except Closed:
                await _close(websocket, CLOSE_GOING_AWAY, "server stopping")
                return
            for frame in render(batch):
                await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the screen went away; it will reconnect and resume
    finally:
        reader.cancel()


async def _drain_incoming(websocket: WebSocket, subscription: Subscription) -> None:
    """Screens send no commands; reading only notices when they leave."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except Exception:  # any failure to read means the screen is gone
        pass
    subscription.close()


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, OSError):
        await websocket.close(code, reason)


ROUTES: list[WebSocketRoute] = [
    WebSocketRoute("/ws/display", display_socket),
    WebSocketRoute("/ws/tickets/{token}", ticket_socket),
]
