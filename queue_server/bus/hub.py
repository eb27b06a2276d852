"""Per-channel fan-out: bounded outboxes and direct sinks; publish never awaits a socket.

Each subscriber has a bounded outbox, and a subscriber that falls behind by
more than its outbox holds is marked as overflowed and must reconnect (it
resumes with `?since=N`). Each channel (one per office) keeps a short history
of envelopes so that a screen that reconnects gets exactly what it missed.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from queue_server.bus.base import Backend
from queue_server.bus.flag import Flag
from queue_server.bus.memory import MemoryBackend
from queue_server.wire import Envelope

log = logging.getLogger(__name__)


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

    With `render`, each batch is turned into its screen's messages right when it is
    delivered (the outbox then holds those): a phone's view is read from the state as
    of that batch, never from a later batch the writer is still committing.
    """

    def __init__(
        self,
        after: int,
        limit: int,
        wants: Callable[[Envelope], bool] | None,
        render: Callable[[list[Envelope]], list[Any]] | None = None,
    ) -> None:
        self.after = after
        self.limit = limit
        self.wants = wants
        self.render = render
        self.outbox: list[Any] = []  # a list: an empty deque weighs about 600 bytes
        self.overflowed = False
        self.closed = False
        self.sink: Sink | None = None
        self._ready = Flag()  # not asyncio.Event: a socket holds it for hours; this one is lighter

    def go_direct(self, sink: Sink) -> None:
        """From now on write to `sink`; what is queued goes first, in order."""
        self.sink = sink
        if self.outbox and not self.overflowed:
            queued = [e.frame for e in self.outbox]
            self.outbox.clear()
            self._write(queued)

    def offer_batch(self, events: list[Envelope]) -> None:
        if self.render is not None:
            self._offer_rendered(events)
            return
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

    def offer(self, event: Envelope) -> None:
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

    def _offer_rendered(self, events: list[Envelope]) -> None:
        if self.overflowed or self.closed:
            return
        wanted = [e for e in events if e.seq > self.after and (self.wants is None or self.wants(e))]
        if not wanted:
            return
        assert self.render is not None
        try:
            messages = self.render(wanted)
        except Exception:  # one screen's bug must not stop the office's fan-out
            log.exception("rendering a batch for a screen failed; it will resync")
            self.force_resume()
            return
        if not messages:
            return
        if len(self.outbox) + len(messages) > self.limit:
            self.overflowed = True
            self.outbox.clear()
        else:
            self.outbox.extend(messages)
        self._ready.set()

    def force_resume(self) -> None:
        """Treat the subscriber as fallen behind: it reconnects and resumes or re-snapshots."""
        self.overflowed = True
        self.outbox.clear()
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_batch(self) -> list[Envelope]:
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
        batch, self.outbox = self.outbox, []
        return batch


class Channel:
    """One office's stream: its history, last seq and subscribers."""

    def __init__(self, name: str, history: int, outbox: int) -> None:
        self.name = name
        self.history: deque[Envelope] = deque(maxlen=history)
        self.outbox_limit = outbox
        self.subscriptions: set[Subscription] = set()
        self.last_seq = 0

    def load(self, history: Iterable[Envelope]) -> None:
        for envelope in history:
            self.history.append(envelope)
            self.last_seq = envelope.seq

    def catch_up(self, envelopes: list[Envelope], seq: int) -> None:
        """Bring the channel to `seq` with `envelopes` (the latest ones, oldest first).

        At a process's start this is loading its history. A worker that served the channel from
        the broker and now writes the office delivers what its screens lack; when the envelopes
        do not reach back to what they saw, the screens start again from a snapshot.
        """
        fresh = [e for e in envelopes if e.seq > self.last_seq]
        if not self.subscriptions and not self.history:
            self.load(fresh)
        elif fresh and fresh[0].seq == self.last_seq + 1:
            self.deliver(fresh)
        elif seq != self.last_seq:
            self.reset(seq, fresh)
        self.last_seq = max(self.last_seq, seq)

    def reset(self, seq: int, history: Iterable[Envelope] = ()) -> None:
        """Another history (the database was replaced, or what was missed is gone): screens resync."""
        self.history.clear()
        self.last_seq = 0
        self.load(history)
        self.last_seq = seq
        self.resync()

    def resync(self) -> None:
        """Make every screen reconnect and take a fresh snapshot (after state was reloaded)."""
        for subscription in list(self.subscriptions):
            subscription.force_resume()

    def close(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.close()

    def deliver(self, envelopes: list[Envelope]) -> None:
        # A backend may deliver twice; screens must not see an event twice.
        fresh = [e for e in envelopes if e.seq > self.last_seq]
        if not fresh:
            return
        self.last_seq = fresh[-1].seq
        self.history.extend(fresh)
        for subscription in list(self.subscriptions):
            subscription.offer_batch(fresh)
        # The frames have gone out; the history keeps only the text (frames are rebuilt on resume).
        for envelope in fresh:
            envelope.forget_frame()

    def since(self, seq: int) -> list[Envelope] | None:
        """The envelopes after `seq`, or None when they are no longer all kept."""
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
    def subscribe(
        self,
        after: int,
        wants: Callable[[Envelope], bool] | None = None,
        render: Callable[[list[Envelope]], list[Any]] | None = None,
    ) -> Iterator[Subscription]:
        """Receive every envelope with seq > `after`.

        Synchronous on purpose: taken right after a snapshot with no await in
        between, no event can slip between the snapshot and the subscription.
        """
        subscription = Subscription(after, self.outbox_limit, wants, render)
        self.subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self.subscriptions.discard(subscription)


class Hub:
    """This process's channels, fed by the backend."""

    def __init__(self, backend: Backend | None = None, history: int = 10_000, outbox: int = 2_000) -> None:
        self.backend: Backend = backend or MemoryBackend()
        self.history = history
        self.outbox = outbox
        self.channels: dict[str, Channel] = {}
        self._started = False

    def channel(self, name: str) -> Channel:
        channel = self.channels.get(name)
        if channel is None:
            channel = self.channels[name] = Channel(name, self.history, self.outbox)
        return channel

    async def start(self) -> None:
        if not self._started:
            self._started = True
            await self.backend.start(self._deliver)

    async def stop(self) -> None:
        for channel in self.channels.values():
            channel.close()
        if self._started:
            self._started = False
            await self.backend.stop()

    def publish(self, channel: str, envelopes: list[Envelope]) -> None:
        if envelopes:
            self.backend.publish(channel, envelopes)

    def _deliver(self, channel: str, envelopes: list[Envelope]) -> None:
        self.channel(channel).deliver(envelopes)
