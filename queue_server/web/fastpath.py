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
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

TESTED_UVICORN = ((0, 30), (0, 55))
"""uvicorn versions this subclassing is known to work with: [low, high). pyproject.toml pins the same
range, and tests/interface/test_fastpath_version.py fails loudly on a version outside it."""
PRIVATE_ATTRIBUTES = ("conn", "close_sent", "handshake_complete", "transport", "writable", "disconnected")
"""What the subclasses read of uvicorn's private protocol state."""

SEND_FRAMES = "antre.websocket.send_frames"
EXTENSION = "antre.send_frames"
MAX_BUFFERED = 256 * 1024
"""Bytes a screen may have waiting in its write buffer before it counts as fallen behind."""


class WebSocketProtocol(WebSocketsSansIOProtocol):
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
