"""An office this worker does not write: its state and board follow the broker's stream.

The replica keeps the office's rows as the writer committed them (`Mirror`, the replica's
database) and builds the live state from them with the writer's own code, so a ticket's view,
position and estimate are the ones the writer would give. An ordinary batch's changed tickets are
applied to that state in place (domain/reload.py), which gives exactly what the whole rebuild
would; a new day, a configuration change, a new picture, or anything reload.py cannot do exactly
rebuilds it. The board folds the stream's events as the writer's does. Screens connected here get
each event after the state it describes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn, cast

from queue_server import wire
from queue_server.bus.hub import Hub
from queue_server.bus.redis import Broker, BrokerError, OfficePicture, StreamEntry
from queue_server.domain import events as ev
from queue_server.domain.office import Office
from queue_server.domain.reload import InPlace, restore_rows
from queue_server.domain.settings import OfficeConfig
from queue_server.domain.tickets import Ticket
from queue_server.engine import configuration
from queue_server.engine.errors import Unavailable
from queue_server.engine.service import HISTORY_ON_START, OfficeService
from queue_server.engine.tasks import cancel_and_wait
from queue_server.store import Store
from queue_server.store.day import HISTORY_TYPES, StoredOffice
from queue_server.store.rows import TICKET_COLUMNS, ticket_from_row

log = logging.getLogger(__name__)

_ID = TICKET_COLUMNS.index("id")
_DAY = TICKET_COLUMNS.index("day")
IDLE_MS = 1000  # how long a read waits before the replica checks the picture's epoch
MIN_READ_GAP_S = 0.01
FIRST_LOAD_SECONDS = 10.0


class Mirror:
    """The office's rows as of stream seq `seq`: today's tickets, counters, office row, settings."""

    def __init__(self) -> None:
        self.seq = 0
        self.epoch = ""
        self.tickets: dict[int, tuple[Any, ...]] = {}
        self.counters: dict[str, tuple[bool, str | None]] = {}
        self.office: dict[str, Any] = {}
        self.settings: dict[str, Any] | None = None
        self.settings_changed = False
        self._objects: dict[int, Ticket] = {}  # rows already turned into tickets (a rebuild is per batch)
        # Since the live state was last brought up to date: each changed ticket's row as it was then
        # (None: new), and whether only a whole rebuild will do (a new picture, a new day).
        self.changed: dict[int, tuple[Any, ...] | None] = {}
        self.whole = True

    def load(self, picture: OfficePicture) -> None:
        meta = picture.meta
        self.seq = picture.seq
        self.epoch = picture.epoch
        self.tickets = {int(row[_ID]): tuple(row) for row in picture.tickets}
        self._objects = {}
        self.changed = {}
        self.whole = True
        self.settings_changed = True
        self.office = dict(meta.get("office") or {})
        self.counters = {k: (bool(v[0]), v[1]) for k, v in (meta.get("counters") or {}).items()}
        self.settings = meta.get("settings")

    def apply(self, seq: int, rows: dict[str, Any]) -> None:
        """Fold one committed batch's rows in."""
        self.seq = seq
        office = rows.get("office")
        if office:
            if office.get("day") != self.office.get("day"):
                # Today's tickets and the bookings of later days stay; the days before go.
                self.tickets = {i: r for i, r in self.tickets.items() if r[_DAY] >= office.get("day", "")}
                self._objects = {}
                self.whole = True
            self.office = office
        for row in rows.get("tickets") or ():
            ticket_id = int(row[_ID])
            if ticket_id not in self.changed:
                self.changed[ticket_id] = self.tickets.get(ticket_id)
            self.tickets[ticket_id] = tuple(row)
            self._objects.pop(ticket_id, None)
        self.counters = {
            k: (bool(v[0]), v[1]) for k, v in (rows.get("counters") or {}).items()
        } or self.counters
        if rows.get("settings") is not None:
            self.settings = rows["settings"]
            self.settings_changed = True

    def stored(self) -> StoredOffice:
        day = self.office.get("day") or ""
        tickets = [self.ticket(i) for i in sorted(self.tickets)]
        counts = self.office.get("counts_json")
        return StoredOffice(
            day=day,
            seq=self.seq,
            capacity=self.office.get("capacity"),
            config_capacity=self.office.get("config_capacity"),
            door_count=int(self.office.get("door_count") or 0),
            config_json=self.office.get("config_json"),
            next_ticket_id=max(self.tickets, default=0) + 1,
            tickets=[t for t in tickets if t.day == day],
            counters=self.counters,
            recent_events=[],
            counts=json.loads(counts) if counts else {},
            bookings=[t for t in tickets if t.day > day],
        )

    def changes(self) -> list[tuple[Ticket | None, Ticket]] | None:
        """The tickets changed since the last call (as they were, as they are), forgotten here;
        None when the rows changed otherwise than ticket by ticket."""
        changed, self.changed = self.changed, {}
        if self.whole:
            return None
        found: list[tuple[Ticket | None, Ticket]] = []
        for ticket_id, before in changed.items():
            row = self.tickets.get(ticket_id)
            if row is None:
                return None
            if row != before:
                found.append(
                    (ticket_from_row(before) if before is not None else None, self.ticket(ticket_id))
                )
        return found

    def ticket(self, ticket_id: int) -> Ticket:
        ticket = self._objects.get(ticket_id)
        if ticket is None:
            ticket = self._objects[ticket_id] = ticket_from_row(self.tickets[ticket_id])
        return ticket


class NoDatabase:
    """A replica has no database of its own: whatever would need one goes to the writer."""

    def __getattr__(self, name: str) -> NoReturn:
        raise Unavailable("writer_only", "this worker does not hold the office's database; try again")


class OfficeReplica(OfficeService):
    def __init__(
        self,
        config: OfficeConfig,
        hub: Hub,
        broker: Broker,
        office_id: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(config, cast(Store, NoDatabase()), hub, clock, office_id)
        self.toml_config = config
        self.broker = broker
        self.mirror = Mirror()
        self.loaded = False
        self._task: asyncio.Task[None] | None = None
        self._reload = True
        self._moved = asyncio.Event()  # replaced and set each time the channel moves on
        self.in_place = True  # False: every batch rebuilds the whole state (the benchmark's old way)
        self.rebuilds = 0  # how the live state was brought up to date, for tests and benchmarks
        self.applied_in_place = 0
        self._reloader: InPlace | None = None  # for the state of the last rebuild
        self._built_from: tuple[Any, ...] = ()  # what a rebuild took besides ticket rows

    async def caught_up_to(self, seq: int, timeout: float) -> bool:
        """Wait (up to `timeout` s) until the picture is loaded and the channel has reached `seq`:
        a screen that saw seq N elsewhere must not be shown an older board here."""
        loop = asyncio.get_running_loop()
        if not self.loaded:
            timeout = max(timeout, FIRST_LOAD_SECONDS)  # a worker just started: its first picture
        deadline = loop.time() + timeout
        while True:
            moved = self._moved
            if self.loaded and self.channel.last_seq >= seq:
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):  # not wait_for: it can swallow a cancel on 3.11
                    await moved.wait()
            except TimeoutError:
                return False

    def _moved_on(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def start(self) -> None:
        await self.hub.start()
        self.accepting = True
        self._task = asyncio.create_task(self._follow(), name=f"replica-{self.office_id}")

    async def stop_following(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)  # stopping: its errors are moot
            self._task = None

    async def stop(self) -> None:
        self.accepting = False
        await self.stop_following()

    async def execute(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise Unavailable("writer_moved", "this worker no longer applies the office's commands; try again")

    def is_repeat(self, key: Any) -> bool:
        return False

    _stale = False  # a batch came in since the live state was last brought up to date

    @property  # type: ignore[override]
    def office(self) -> Office:
        """The live state, brought up to the mirror's rows when it is asked for and batches came in
        since: a worker with no phone or ticket read of this office never spends the time, and one
        with many phones does it once per read of the stream, not once per phone."""
        if self._stale:
            self._stale = False
            if not self._apply_in_place():
                self._rebuild()
        return self._office

    @office.setter
    def office(self, value: Office) -> None:
        self._office = value

    @property
    def seq(self) -> int:
        return self.mirror.seq

    async def ticket_by_token_hash(self, token_hash_: str) -> tuple[Ticket, ev.TicketView] | None:
        ticket = self.live_ticket(token_hash_)
        return (ticket, self.office.state.view(ticket)) if ticket is not None else None

    # ----- following the stream --------------------------------------------------------

    async def _follow(self) -> None:
        client = self.broker.blocking()
        failures = 0
        try:
            while True:
                try:
                    if self._reload:
                        await self._load_picture()
                    entries = await Broker.read_after(client, self.office_id, self.mirror.seq, IDLE_MS)
                    if entries:
                        self._absorb(entries)
                        # At most one read (and so one rebuild) per MIN_READ_GAP_S: a busy office's
                        # batches then come in together instead of one rebuild each.
                        await asyncio.sleep(MIN_READ_GAP_S)
                    else:
                        await self._check_epoch()
                    failures = 0
                except BrokerError:
                    failures += 1
                    await asyncio.sleep(min(0.1 * 2**failures, 2.0))
        finally:
            await client.aclose()

    async def _check_epoch(self) -> None:
        meta = await self.broker.meta(self.office_id)
        if meta is not None and (
            meta.get("epoch") != self.mirror.epoch or int(meta["seq"]) > self.mirror.seq
        ):
            self._reload = True

    async def _load_picture(self) -> None:
        picture = await self.broker.picture(self.office_id)
        if picture is None:
            return  # no writer has written this office yet; the next idle read looks again
        history = await self.broker.latest_entries(self.office_id, 2_000)
        calls = await self._day_history(history, picture.seq)
        same_history = not self.mirror.epoch or picture.epoch == self.mirror.epoch
        self.mirror.load(picture)
        self._rebuild()
        self.board = self._board_of(self.office)
        for envelope in calls:
            self.board.replay_history(envelope.event())
        envelopes = [wire.decode(e.text) for e in history if e.seq <= picture.seq]
        channel = self.channel
        missed = [e for e in envelopes if e.seq > channel.last_seq]
        if same_history and missed and missed[0].seq == channel.last_seq + 1:
            channel.deliver(missed)
        elif not same_history or channel.last_seq != picture.seq:
            channel.reset(picture.seq, envelopes)
        self.loaded = True
        self._reload = False
        self._moved_on()

    async def _day_history(self, latest: list[StreamEntry], seq: int) -> list[wire.Envelope]:
        """The day's latest calls, admissions and undos up to `seq`, oldest first, as the writer's
        start reads them from its database (store.day.day_history): back through the stream until
        the day's start or enough of them."""
        found: list[wire.Envelope] = []
        chunk = [e for e in latest if e.seq <= seq]
        while chunk:
            for entry in reversed(chunk):
                envelope = wire.decode(entry.text)
                if envelope.type == ev.DayStarted.TYPE:
                    return found[::-1]
                if envelope.type in HISTORY_TYPES:
                    found.append(envelope)
                    if len(found) >= HISTORY_ON_START:
                        return found[::-1]
            chunk = await self.broker.latest_entries(self.office_id, 2_000, before=chunk[0].seq)
        return found[::-1]

    def _absorb(self, entries: list[StreamEntry]) -> None:
        if entries[0].seq != self.mirror.seq + 1:
            self._reload = True  # a gap (the stream was trimmed or begun again): read the picture
            return
        envelopes: list[wire.Envelope] = []
        for entry in entries:
            rows = entry.rows
            if rows is not None and (
                rows.get("full") or rows.get("epoch", self.mirror.epoch) != self.mirror.epoch
            ):
                self._reload = True
                break
            envelope = wire.decode(entry.text)
            envelopes.append(envelope)
            if rows is not None:
                self.mirror.apply(entry.seq, rows)
            else:
                self.mirror.seq = entry.seq
        if not envelopes:
            return
        self._apply_settings()
        self._stale = True
        for envelope in envelopes:
            self.board.apply(envelope.event())
        self.channel.deliver(envelopes)
        self._moved_on()

    def _apply_settings(self) -> None:
        if self.mirror.settings is not None and self.mirror.settings_changed:
            self.mirror.settings_changed = False
            self.mirror.whole = True  # services, counters, policies: what the state is built from
            self.config = configuration.served(self.toml_config, self.mirror.settings)
            self._held_settings = True  # the office row's capacity is the live one

    def _rebuild(self) -> None:
        """The live state from the mirror's rows, by the writer's own restore."""
        self._apply_settings()
        mirror = self.mirror
        mirror.changed, mirror.whole = {}, False
        self._stale = False  # what came in is in this rebuild (`office` must not update it again)
        office = self.office = self._office_from(mirror.stored())
        office.state.seq = mirror.seq
        self._reloader = InPlace(office.state) if self.in_place else None
        self._built_from = self._rebuilt_with()
        self.rebuilds += 1

    def _rebuilt_with(self) -> tuple[Any, ...]:
        """What of the rows besides tickets a rebuild reads once (the office row's capacity, the set
        of counters): if any differs, only a rebuild gives what a rebuild gives."""
        office = self.mirror.office
        return (
            office.get("day"),
            office.get("capacity"),
            office.get("config_capacity"),
            set(self.mirror.counters),
        )

    def _apply_in_place(self) -> bool:
        """The batches since the last update applied to the live state (O(changed tickets)); False
        when that would not be exactly the rebuild, which the caller then does."""
        mirror, reloader = self.mirror, self._reloader
        changes = mirror.changes()
        if (
            not self.in_place
            or changes is None
            or reloader is None
            or self._rebuilt_with() != self._built_from
        ):
            return False
        if not reloader.apply(changes):
            return False
        # The rest of what `_office_from` reads from the rows, by the same code.
        state = self._office.state
        office = mirror.office
        counts = json.loads(office["counts_json"]) if office.get("counts_json") else {}
        restore_rows(state, int(office.get("door_count") or 0), mirror.counters, counts)
        state.seq = mirror.seq
        self.applied_in_place += 1
        return True
