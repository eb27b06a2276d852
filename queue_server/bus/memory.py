"""One process: publishing is delivering."""

from __future__ import annotations

from queue_server.bus.base import Deliver
from queue_server.wire import Envelope


class MemoryBackend:
    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, channel: str, envelopes: list[Envelope]) -> None:
        if self._deliver is not None:
            self._deliver(channel, envelopes)

    async def stop(self) -> None:
        self._deliver = None
