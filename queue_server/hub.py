"""Fan-out of office events to live screens.

`publish` never awaits a socket: each subscriber has a bounded outbox, and a
subscriber that falls behind by more than its outbox holds is marked as
overflowed and must reconnect (it resumes with `?since=N`). A short history of
events is kept so that a screen that reconnects gets exactly what it missed.

The broker behind the hub is a small interface with an in-memory backend; a
Redis backend can carry the same events between worker processes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from queue_server.events import Event

Deliver = Callable[[list[Event]], None]


class Broker(Protocol):
    """Carries published events to every process's hub (itself included)."""

    async def start(self, deliver: Deliver) -> None: ...

    def publish(self, events: list[Event]) -> None: ...

    async def stop(self) -> None: ...


class MemoryBroker:
    """One process: publishing is delivering."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def publish(self, events: list[Event]) -> None:
        if self._deliver is not None:
            self._deliver(events)

    async def stop(self) -> None:
        self._deliver = None


class Overflow(Exception):
    """The subscriber fell too far behind; it must reconnect and resume."""


class Closed(Exception):
    """The hub is shutting down."""


Sink = Callable[[list[bytes]], bool]
"""Writes ready-made frames to a screen's connection at once; False when its buffer is full."""


class Subscription:
    """One screen's bounded outbox of events, in `seq` order.

    A subscription either queues events for its screen's task to send, or, once
    it has a direct sink, writes each batch's frames straight to the connection
    during publish: a thousand lobby screens then cost a thousand buffered
    writes and no task switches. Either way the backlog is bounded: a full
    outbox or write buffer marks the subscriber as overflowed.
    """

    def __init__(self, after: int, limit: int, wants: Callable[[Event], bool] | None) -> None:
        self.after = after
        self.limit = limit
        self.wants = wants
        self.outbox: deque[Event] = deque()
        self.overflowed = False
        self.closed = False
        self.sink: Sink | None = None
        self._ready = asyncio.Event()

    def go_direct(self, sink: Sink) -> None:
        """From now on write to `sink`; what is queued goes first, in order."""
        self.sink = sink
        if self.outbox and not self.overflowed:
            queued = [e.frame for e in self.outbox]
            self.outbox.clear()
            self._write(queued)

    def offer_batch(self, events: list[Event]) -> None:
        if self.sink is None:
            for event in events:
                self.offer(event)
            return
        if self.overflowed or self.closed:
            return
        frames = [e.frame for e in events if e.seq > self.after and (self.wants is None or self.wants(e))]
        if frames:
            self._write(frames)

    def _write(self, frames: list[bytes]) -> None:
        assert self.sink is not None
        if not self.sink(frames):
            self.overflowed = True
            self._ready.set()

    def offer(self, event: Event) -> None:
        if event.seq <= self.after or self.overflowed or self.closed:
            return
        if self.wants is not None and not self.wants(event):
            return
        if len(self.outbox) >= self.limit:
            self.overflowed = True
            self.outbox.clear()
        else:
            self.outbox.append(event)
        self._ready.set()

    def force_resume(self) -> None:
        """Treat the subscriber as fallen behind: it reconnects and resumes or re-snapshots."""
        self.overflowed = True
        self.outbox.clear()
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_batch(self) -> list[Event]:
        """Wait for events; return all that are queued, oldest first."""
        while not self.outbox:
            if self.overflowed:
                raise Overflow
            if self.closed:
                raise Closed
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            raise Overflow
        batch = list(self.outbox)
        self.outbox.clear()
        return batch


class Hub:
    def __init__(self, broker: Broker | None = None, history: int = 10_000, outbox: int = 2_000) -> None:
        self.broker: Broker = broker or MemoryBroker()
        self.history: deque[Event] = deque(maxlen=history)
        self.outbox_limit = outbox
        self.subscriptions: set[Subscription] = set()
        self.last_seq = 0

    async def start(self, history: Iterable[Event] = ()) -> None:
        for event in history:
            self.history.append(event)
            self.last_seq = event.seq
        await self.broker.start(self._deliver)

    async def stop(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.close()
        await self.broker.stop()

    def resync(self) -> None:
        """Make every screen reconnect and take a fresh snapshot (after state was reloaded)."""
        for subscription in list(self.subscriptions):
            subscription.force_resume()

    def publish(self, events: list[Event]) -> None:
        if events:
            self.broker.publish(events)

    def _deliver(self, events: list[Event]) -> None:
        # A broker may deliver twice; screens must not see an event twice.
        fresh = [e for e in events if e.seq > self.last_seq]
        if not fresh:
            return
        self.last_seq = fresh[-1].seq
        self.history.extend(fresh)
        for subscription in list(self.subscriptions):
            subscription.offer_batch(fresh)
        # The frames have gone out; the history keeps only the text (frames are rebuilt on resume).
        for event in fresh:
            event.forget_frame()

    def since(self, seq: int) -> list[Event] | None:
        """The events after `seq`, or None when they are no longer all kept."""
        if seq == self.last_seq:
            return []
        if seq > self.last_seq or seq < 0:
            return None
        if not self.history or self.history[0].seq > seq + 1:
            return None
        # History is contiguous, so the index of seq+1 follows from the first kept seq.
        start = seq + 1 - self.history[0].seq
        return list(self.history)[start:]

    @contextmanager
    def subscribe(self, after: int, wants: Callable[[Event], bool] | None = None) -> Iterator[Subscription]:
        """Receive every event with seq > `after`.

        Synchronous on purpose: taken right after a snapshot with no await in
        between, no event can slip between the snapshot and the subscription.
        """
        subscription = Subscription(after, self.outbox_limit, wants)
        self.subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self.subscriptions.discard(subscription)
