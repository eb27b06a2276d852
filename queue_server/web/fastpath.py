"""uvicorn's HTTP and sans-I/O WebSocket protocols, with three additions.

1. When a handshake is refused by the parser itself (a request line or headers
   too long), websockets queues a 414/431 answer but uvicorn 0.54 never writes
   it, so the connection hangs open. This writes the answer and closes.
2. An ASGI extension, `antre.send_frames`: the application may send
   `{"type": "antre.websocket.send_frames", "frames": [bytes, ...]}` with
   ready-made server frames (see `wire.text_frame`), written in one system
   call, or call `scope["extensions"]["antre.send_frames"]["write"](frames)` to
   write them at once from synchronous code (the event hub's fan-out), which
   answers False when the screen's write buffer is over its bound. A lobby TV
   gets the three events of a call in one write, and a frame is encoded once
   for a thousand screens instead of once per screen.
3. A closed WebSocket connection is freed at once by reference counting. In
   uvicorn 0.54 the HTTP protocol that hands a connection over to the
   WebSocket protocol stays in a reference cycle with its parser; the write
   function above would tie the WebSocket protocol to its own scope; and
   websockets' parser (a generator) and its connection hold each other until
   the generator ends, which it never does by itself. Each would wait for a
   full garbage collection, which the CLI's raised thresholds make rare, so
   memory grew with every screen that reconnected.
4. An open WebSocket costs less: uvicorn's per-connection asyncio.Queue and
   asyncio.Event (a few deques each, about 4 KB) become a list with one waiter
   and a flag (`_Inbox`, bus/flag.py's `Flag`), and the handshake's request and response
   (headers kept twice) are dropped once the connection is accepted. With
   20,000 phones on a deployment this is most of what a socket weighs.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from queue_server.bus.flag import Flag

TESTED_UVICORN = ((0, 30), (0, 55))
"""uvicorn versions this subclassing is known to work with: [low, high). pyproject.toml pins the same
range, and tests/interface/test_fastpath_version.py fails loudly on a version outside it."""
PRIVATE_ATTRIBUTES = (
    "conn", "close_sent", "handshake_complete", "transport", "writable", "disconnected", "queue",
)  # fmt: skip
"""What the subclasses read of uvicorn's private protocol state."""

SEND_FRAMES = "antre.websocket.send_frames"
EXTENSION = "antre.send_frames"
MAX_BUFFERED = 256 * 1024
"""Bytes a screen may have waiting in its write buffer before it counts as fallen behind."""


class _Inbox:
    """What uvicorn's WebSocket protocol uses of asyncio.Queue (put_nowait, get, empty), lighter:
    the items in a list and the waiting getters (one, in practice) in a list made when needed."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getters: list[asyncio.Future[None]] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                if getter in self._getters:
                    self._getters.remove(getter)
                if self._items and not getter.cancelled():
                    self._wake_next()
                raise
        item = self._items.pop(0)
        if self._items:
            self._wake_next()
        return item

    def _wake_next(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                return


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_complete and not self.close_sent:
            output = self.conn.data_to_send()
            self.close_sent = True
            self.handshake_complete = True
            self.transport.write(b"".join(output))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # websockets' parser is a generator that holds its connection and is held by it;
        # nothing is parsed after the connection is lost, so end it and free both now.
        self.conn.parser.close()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        # The ASGI task is created but has not run yet: it sees the extension.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope.setdefault("extensions", {})[EXTENSION] = {"write": _weak_writer(self)}

    def write_frames_now(self, frames: list[bytes]) -> bool:
        """Write frames without waiting; False if the screen is gone or too far behind."""
        if self.disconnected or self.close_sent or self.conn.state is not State.OPEN:
            return False
        if self.transport.is_closing():
            return False
        self.transport.write(b"".join(frames))
        return bool(self.transport.get_write_buffer_size() <= MAX_BUFFERED)

    async def send(self, message: Any) -> None:
        if message["type"] != SEND_FRAMES:
            await super().send(message)
            if self.handshake_complete and getattr(self, "response", None) is not None:
                # Written: the handshake's headers are not read again (uvicorn keeps both).
                self.request = self.response = None  # type: ignore[assignment]
            return
        await self.writable.wait()
        if self.disconnected or self.close_sent or self.conn.state is not State.OPEN:
            raise ClientDisconnected()
        self.transport.write(b"".join(message["frames"]))


def _weak_writer(protocol: WebSocketProtocol) -> Callable[[list[bytes]], bool]:
    """`protocol.write_frames_now` without keeping the protocol alive (its scope holds this)."""
    ref = weakref.ref(protocol)

    def write(frames: list[bytes]) -> bool:
        alive = ref()
        return alive is not None and alive.write_frames_now(frames)

    return write


class HttpProtocol(HttpToolsProtocol):
    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        # The connection belongs to the WebSocket protocol now; the parser holds this
        # protocol's callbacks, so drop it to let both go without a garbage collection.
        self.parser = None  # type: ignore[assignment]
