"""The writer's side of replication: every committed batch goes to the broker's stream, in order.

The writer commits to its database first and answers; the stream follows on its own task, so a
slow or lost broker never holds a command. Each batch becomes its events (entry id = seq) plus
the rows it changed, and the office's picture in Redis moves with it in the same transaction.
When the broker was lost, or at the writer's start, the picture is written anew and the stream
gets what it lacks from the writer's history, the last entry marked so replicas reload.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from queue_server.bus.hub import Channel
from queue_server.bus.redis import STREAM_LENGTH, Broker, BrokerError
from queue_server.engine.tasks import cancel_and_wait
from queue_server.store.day import Batch
from queue_server.store.rows import TICKET_COLUMNS, ticket_row

log = logging.getLogger(__name__)

_ID = TICKET_COLUMNS.index("id")
_DAY = TICKET_COLUMNS.index("day")
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)


@dataclass
class _Pending:
    events: list[tuple[int, str]]
    rows: dict[str, Any]
    tickets: list[tuple[int, list[Any]]]
    meta: dict[str, Any]


@dataclass
class WriterPicture:
    """What the writer holds right now, taken synchronously (no batch half-applied)."""

    seq: int
    meta: dict[str, Any]
    tickets: list[tuple[int, list[Any]]]


class StreamPublisher:
    def __init__(
        self,
        broker: Broker,
        office_id: str,
        channel: Channel,
        picture: Callable[[], WriterPicture],
    ) -> None:
        self.broker = broker
        self.office_id = office_id
        self.channel = channel
        self._picture = picture
        # The office as committed (the live state may hold a batch that is not on disk yet).
        self._rows: dict[int, list[Any]] = {}
        self._meta: dict[str, Any] = {}
        self.epoch = ""
        self._pending: list[_Pending] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._whole = True  # the next send writes the whole picture
        self.published_seq = 0

    def start(self) -> None:
        """Called when no batch is in flight (right after the writer's start-up commit)."""
        self._take(self._picture())
        self._wake.set()  # the whole picture first
        self._task = asyncio.create_task(self._run(), name=f"stream-{self.office_id}")

    async def stop(self) -> None:
        """Send what is queued (briefly), then stop."""
        if self._task is None:
            return
        for _ in range(20):
            if not self._pending or not self.broker.reachable:
                break
            await asyncio.sleep(0.05)
        await cancel_and_wait(self._task)

    def _take(self, picture: WriterPicture) -> None:
        self._rows = dict(picture.tickets)
        self._meta = picture.meta

    def resend_whole(self) -> None:
        """The office was reloaded from disk (no batch in flight): the next send writes it whole."""
        self._take(self._picture())
        self._whole = True
        self._wake.set()

    def committed(self, batch: Batch, meta: dict[str, Any]) -> None:
        """Called right after a batch is on disk, before the next one is applied."""
        events = [(seq, text) for seq, _type, _at, text in batch.events]
        tickets = [(int(row[_ID]), list(row)) for row in batch.tickets]
        rows = {
            "tickets": [list(row) for row in batch.tickets],
            "office": batch.office,
            "counters": meta["counters"],
            "settings": batch.settings,
            "epoch": self.epoch,
        }
        if self._pending and not self._pending[-1].events:
            # A batch without events (its rows ride on the next entry): merge them.
            previous = self._pending.pop()
            rows["tickets"] = previous.rows["tickets"] + rows["tickets"]
            rows["settings"] = batch.settings or previous.rows["settings"]
            tickets = previous.tickets + tickets
        self._pending.append(_Pending(events, rows, tickets, {**meta, "epoch": self.epoch}))
        if meta.get("day") != self._meta.get("day"):
            # A new day: the picture is written anew, without yesterday's tickets.
            self._rows = {}
            self._whole = True
        # Today's tickets and bookings of later days (the picture holds both, as the database does).
        self._rows.update((i, row) for i, row in tickets if row[_DAY] >= meta.get("day", ""))
        self._meta = meta
        self._wake.set()

    async def _run(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                if self._whole:
                    await self._send_whole()
                while self._pending and self._pending[0].events:
                    item = self._pending[0]
                    item.meta["epoch"] = item.rows["epoch"] = self.epoch
                    await self.broker.append(self.office_id, item.events, item.rows, item.tickets, item.meta)
                    self._pending.pop(0)
                    self.published_seq = item.events[-1][0]
            except BrokerError as error:
                self.broker.reachable = False
                self._whole = True
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                if failures == 1:
                    log.warning("the broker is unreachable (%s); will send the office's picture again", error)
                await asyncio.sleep(delay)
                self._wake.set()
            else:
                if failures:
                    log.info(
                        "the broker is back; office %s published up to seq %s",
                        self.office_id,
                        self.published_seq,
                    )
                failures = 0
                self.broker.reachable = True

    async def _send_whole(self) -> None:
        last = await self.broker.last_seq(self.office_id)
        held = await self.broker.meta(self.office_id)
        # The committed office, taken with the queue below: no committed batch can slip in unseen.
        picture = WriterPicture(int(self._meta["seq"]), self._meta, list(self._rows.items()))
        # Committed events are in the channel's history, or still queued here (the channel gets
        # a batch just after its answers go out): the stream needs both.
        queued = [event for item in self._pending for event in item.events]
        self._pending.clear()
        known = {e.seq: e.text for e in self.channel.history}
        known.update(queued)
        first_known = min(known, default=picture.seq + 1)
        fresh = (
            held is None
            or not held.get("epoch")
            or last > picture.seq
            or int(held.get("seq", 0)) > picture.seq
        )
        if fresh:
            # No picture yet, or the database is not the one the stream followed (restored, replaced).
            self.epoch = uuid.uuid4().hex[:12]
            start = max(0, picture.seq - STREAM_LENGTH)
        else:
            self.epoch = str(held["epoch"]) if held else self.epoch
            start = last
            if first_known > last + 1 and last < picture.seq:
                # History does not reach back to the stream's end: begin the stream again; replicas
                # see the gap and read the picture.
                fresh, start = True, max(0, picture.seq - STREAM_LENGTH)
        events = [(seq, known[seq]) for seq in sorted(known) if start < seq <= picture.seq]
        meta = {**picture.meta, "epoch": self.epoch}
        await self.broker.replace(self.office_id, events, picture.tickets, meta, drop_stream=fresh)
        self._whole = False
        self.published_seq = picture.seq


def picture_rows(tickets: list[Any]) -> list[tuple[int, list[Any]]]:
    """The writer's tickets of the day as (id, row) pairs."""
    return [(t.id, list(ticket_row(t))) for t in tickets]
