"""The event hub: order, resume, bounded outboxes and direct writes."""

from __future__ import annotations

import pytest

from queue_server import wire
from queue_server.bus.hub import Hub, Overflow
from queue_server.domain import events as ev
from queue_server.wire import Envelope

OFFICE = "default"


def events(first: int, last: int) -> list[Envelope]:
    return [
        wire.encode(ev.TicketIssued(seq, "t", {"id": seq, "service": "a"}, {}))
        for seq in range(first, last + 1)
    ]


async def test_since_returns_exactly_the_missed_events() -> None:
    """since(N) gives the events after N, [] when current, None when too old or ahead."""
    hub = Hub(history=5)
    await hub.start()
    hub.publish(OFFICE, events(1, 8))
    assert [e.seq for e in hub.channel(OFFICE).since(5) or []] == [6, 7, 8]
    assert hub.channel(OFFICE).since(8) == []
    assert hub.channel(OFFICE).since(2) is None  # only 4..8 are kept
    assert hub.channel(OFFICE).since(9) is None


async def test_a_subscriber_gets_every_event_once_in_order() -> None:
    """Events are queued in seq order; a repeated delivery is dropped."""
    hub = Hub()
    await hub.start()
    with hub.channel(OFFICE).subscribe(after=0) as subscription:
        hub.publish(OFFICE, events(1, 3))
        hub.publish(OFFICE, events(2, 4))
        assert [e.seq for e in await subscription.next_batch()] == [1, 2, 3, 4]


async def test_a_full_outbox_overflows_instead_of_growing() -> None:
    """A subscriber that falls behind by more than its outbox is told to resume."""
    hub = Hub(outbox=3)
    await hub.start()
    with hub.channel(OFFICE).subscribe(after=0) as subscription:
        hub.publish(OFFICE, events(1, 4))
        with pytest.raises(Overflow):
            await subscription.next_batch()


async def test_direct_sink_gets_queued_then_live_frames_in_order() -> None:
    """go_direct flushes what was queued first, then each published batch in one write."""
    hub = Hub()
    await hub.start()
    writes: list[list[bytes]] = []
    with hub.channel(OFFICE).subscribe(after=1) as subscription:
        hub.publish(OFFICE, events(1, 2))
        subscription.go_direct(lambda frames: writes.append(frames) is None)
        hub.publish(OFFICE, events(3, 5))
    assert writes == [[events(2, 2)[0].frame], [e.frame for e in events(3, 5)]]


async def test_direct_sink_that_is_full_marks_the_subscriber_behind() -> None:
    """A screen whose write buffer is over its bound is closed to resume later."""
    hub = Hub()
    await hub.start()
    with hub.channel(OFFICE).subscribe(after=0) as subscription:
        subscription.go_direct(lambda frames: False)
        hub.publish(OFFICE, events(1, 1))
        with pytest.raises(Overflow):
            await subscription.next_batch()
