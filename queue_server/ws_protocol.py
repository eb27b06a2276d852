"""uvicorn's sans-I/O WebSocket protocol, with one gap closed.

When a WebSocket handshake is refused by the parser itself (a request line or
headers too long), websockets queues a 414/431 answer but uvicorn 0.54 never
writes it, so the connection hangs open. A kiosk or TV would wait forever; a
hostile client could hold sockets. This writes the answer and closes.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_complete and not self.close_sent:
            output = self.conn.data_to_send()
            self.close_sent = True
            self.handshake_complete = True
            self.transport.write(b"".join(output))
            self.transport.close()
