"""The backend interface: carries published envelopes to every process's hub (itself included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from queue_server.wire import Envelope

Deliver = Callable[[str, list[Envelope]], None]
"""Hands a channel's envelopes, in seq order, to this process's hub."""


class Backend(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    def publish(self, channel: str, envelopes: list[Envelope]) -> None:
        """Never awaits: a networked backend queues and sends on its own task."""
        ...

    async def stop(self) -> None: ...
