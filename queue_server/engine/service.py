"""The one writer of an office: queue, apply, group commit, publish; typed results.

Commands are queued and applied one at a time by a single task. Every command
that is waiting when the task wakes is applied in turn and the whole group is
committed in one durable transaction (group commit), then the answers are
released and the events published. Each event is encoded once (wire.py) and
folded into the office's board, the read model every snapshot comes from.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from queue_server import wire
from queue_server.bus.hub import Channel, Hub
from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.admin import ADMIN_COMMANDS
from queue_server.domain.board import Board
from queue_server.domain.errors import DomainError
from queue_server.domain.notify import Planner
from queue_server.domain.office import AnyCommand, Office
from queue_server.domain.reload import load_tickets, restore_rows
from queue_server.domain.settings import OfficeConfig
from queue_server.domain.tickets import iso
from queue_server.engine import audit, configuration, idempotency, notify, results
from queue_server.engine.accounts import new_token, token_hash
from queue_server.engine.clock import midnight_ticks
from queue_server.engine.errors import Unavailable
from queue_server.engine.reading import OfficeReading
from queue_server.engine.replication import StreamPublisher, WriterPicture, picture_rows
from queue_server.engine.results import Result, TicketResult
from queue_server.engine.tasks import cancel_and_wait
from queue_server.store import Store
from queue_server.store.contacts import ContactRow
from queue_server.store.day import AuditRow, Batch, StoredOffice
from queue_server.store.outbox import OutboxRow
from queue_server.store.rows import ticket_row

log = logging.getLogger(__name__)

MAX_BATCH = 512
HISTORY_ON_START = 200
DEFAULT_OFFICE = "default"


@dataclass
class _Job:
    command: AnyCommand
    idempotency: idempotency.Key | None
    future: asyncio.Future[Result] = field(repr=False)
    token: str | None = None
    nothing: Result = field(default_factory=results.NoTicket)
    actor: str | None = None
    phone: str | None = None  # stored apart, in the same batch as the ticket (store/contacts.py)


class OfficeService(OfficeReading):
    def __init__(
        self,
        config: OfficeConfig,
        store: Store,
        hub: Hub,
        clock: Callable[[], datetime] | None = None,
        office_id: str = DEFAULT_OFFICE,
    ) -> None:
        self.config = config
        self.store = store
        self.hub = hub
        self.office_id = office_id
        self.channel: Channel = hub.channel(office_id)
        self.zone = config.zone
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.office = self._empty_office(self.today())
        self.board = self._board_of(self.office)
        self.idempotent = idempotency.IdempotencyRecords()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self.accepting = False
        self._busy = False
        self._fingerprint = self._config_fingerprint()
        # The configuration goes to the database with the next batch (seeding, then each admin change).
        self._settings_dirty = False
        self._held_settings = False  # whether the database held a configuration at start
        # With a broker (several workers): each committed batch also goes to the office's stream.
        self.publisher: StreamPublisher | None = None
        self._settings_cache: dict[str, Any] | None = None
        self._contacts_day: str | None = None  # phone numbers of days before this one are deleted
        self.nik_key = b""  # the key of NIK and device hashes (engine/remote.py), read at start
        # [notify]: messages planned from each batch's events go to the outbox in that batch.
        self.planner = Planner(config.notify, config.name, config.language)
        self.notifier: notify.Notifier | None = None

    # ----- life cycle ---------------------------------------------------------------

    def today(self) -> str:
        return self.now().date().isoformat()

    async def start(self) -> None:
        held = self.store.settings()
        self.config = configuration.served(self.config, held)
        self._settings_dirty = True  # seeds a new database; refreshes the TOML-only settings of an old one
        self._fingerprint = self._config_fingerprint()
        self._held_settings = held is not None
        self.nik_key = bytes.fromhex(self.store.secret("nik_hmac"))
        stored = self.store.load(recent_events=self.hub.history)
        self._restore(stored)
        # A worker taking over may have served this channel from the stream: it gets what it lacks.
        self.channel.catch_up(stored.recent_events, stored.seq)
        await self.hub.start()
        cutoff = idempotency.cutoff()
        await self.store.purge_idempotency(cutoff)
        self.idempotent.load(self.store.idempotency_records(cutoff))
        self.planner.come_now_done = self.store.outbox_tickets_with("come_now", self.office.state.day)
        self._startup_commit(stored)
        if self.publisher is not None:
            self.publisher.start()
        if self.config.notify.enabled:
            secret = self.config.notify.secret or self.store.notify_secret()
            self.notifier = notify.Notifier(self.config.notify, self.store, secret, self.today)
            self.notifier.start(f"office-notify-{self.office_id}")  # unsent rows of before go first
        self.accepting = True
        self._writer = asyncio.create_task(self._write_loop(), name=f"office-writer-{self.office_id}")
        self._timer = asyncio.create_task(midnight_ticks(self), name=f"office-midnight-{self.office_id}")

    async def stop(self) -> None:
        """Refuse new commands, finish the queued ones, then stop the writer."""
        self.accepting = False
        if self._timer:
            self._timer.cancel()
        if self._writer:
            while not self._queue.empty() or self._busy:
                await asyncio.sleep(0.01)
            await cancel_and_wait(self._writer)
        if self.publisher is not None:
            await self.publisher.stop()
        if self.notifier is not None:
            await self.notifier.stop()  # what it has not sent waits in the outbox for the next start
        await self.hub.stop()

    def _empty_office(self, day: str) -> Office:
        return Office(
            self.config.services,
            self.config.counters,
            self.config.capacity,
            day,
            queue_policy=self.config.queue,
            remote_policy=self.config.remote,
        )

    def _restore(self, stored: StoredOffice) -> None:
        self.office = self._office_from(stored)
        self.board = self._board_of(self.office)
        # What the displays showed of the day's calls comes from the events themselves.
        for envelope in self.store.day_history(HISTORY_ON_START):
            self.board.replay_history(envelope.event())

    def _office_from(self, stored: StoredOffice) -> Office:
        office = Office(
            self.config.services,
            self.config.counters,
            self._capacity(stored),
            stored.day or self.today(),
            seq=stored.seq,
            next_ticket_id=stored.next_ticket_id,
            queue_policy=self.config.queue,
            remote_policy=self.config.remote,
        )
        state = office.state
        state.hours = self.config.hours
        state.running_text = self.config.running_text
        load_tickets(state, stored.tickets, stored.bookings)
        restore_rows(state, stored.door_count, stored.counters, stored.counts)
        state.take_changes()
        return office

    def _board_of(self, office: Office) -> Board:
        state = office.state
        return Board(
            seq=state.seq,
            day=state.day,
            office={
                "name": self.config.name,
                "timezone": self.config.timezone,
                "language": self.config.language,
                "running_text": self.config.running_text,
            },
            services=self.services_view(),
            counters=[state.counter_view(c) for c in state.counters.values()],
            waiting=state.waiting_counts(),
            occupancy=state.occupancy.as_dict(),
            queues=state.queues_view(),
        )

    def _capacity(self, stored: StoredOffice) -> int:
        # A capacity set through the API survives restarts (the database holds the configuration;
        # before it did, until the config file itself changed it).
        if self._held_settings and stored.capacity is not None:
            return int(stored.capacity)
        if stored.capacity is None or stored.config_capacity != self.config.capacity:
            return self.config.capacity
        return int(stored.capacity)

    def _config_fingerprint(self) -> str:
        return json.dumps(
            {"services": self.services_view(), "counters": self.counters_config_view()}, sort_keys=True
        )

    def _startup_commit(self, stored: StoredOffice) -> None:
        now = self.now()
        events = self.office.roll_over(now)
        if stored.config_json is not None and stored.config_json != self._fingerprint:
            state = self.office.state
            events += self.office.config_changed(
                now, self.services_view(), [state.counter_view(c) for c in state.counters.values()]
            )
        envelopes = self._fold(events)
        batch = self._batch(envelopes, [], messages=self._messages(events))
        self.store.commit_now(batch)
        self._replicate(batch)
        self.hub.publish(self.office_id, envelopes)

    def _office_row(self) -> dict[str, Any]:
        state = self.office.state
        return {
            "day": state.day,
            "seq": state.seq,
            "capacity": state.occupancy.capacity,
            "config_capacity": self.config.capacity,
            "door_count": state.occupancy.door_count,
            "config_json": self._fingerprint,
            "counts_json": json.dumps(
                {"calls": state.service_calls, "streaks": state.priority_streaks}, sort_keys=True
            ),
        }

    # ----- commands -------------------------------------------------------------------

    async def execute(
        self,
        command: AnyCommand,
        idempotency_key: idempotency.Key | None = None,
        *,
        token: str | None = None,
        nothing: Result | None = None,
        actor: str | None = None,
        phone: str | None = None,
    ) -> Result:
        """Queue a command; its result once it is on disk. Raises DomainError or Unavailable."""
        if not self.accepting:
            raise Unavailable("shutting_down", "the server is shutting down; try again in a moment")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        job = _Job(command, idempotency_key, future, token, nothing or results.NoTicket(), actor, phone)
        self._queue.put_nowait(job)
        return await future

    async def issue_ticket(
        self,
        service: str,
        party_size: int,
        origin: str,
        idempotency_key: idempotency.Key | None,
        actor: str | None = None,
        priority: str | None = None,
        phone: str | None = None,
    ) -> TicketResult:
        """A new ticket and its token (the token exists only here and in the visitor's hands)."""
        token = new_token()
        command = cmd.IssueTicket(service, party_size, token_hash(token), origin, priority)
        result = await self.execute(command, idempotency_key, token=token, actor=actor, phone=phone)
        assert isinstance(result, TicketResult)  # issuing answers with its ticket or raises
        return result

    def is_repeat(self, key: idempotency.Key | None) -> bool:
        return key is not None and key in self.idempotent

    async def _write_loop(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            self._busy = True
            try:
                await self._run(jobs)
            finally:
                self._busy = False

    async def _run(self, jobs: list[_Job]) -> None:
        """Apply a batch, make it durable, then answer and publish."""
        while len(jobs) < MAX_BATCH and not self._queue.empty():
            jobs.append(self._queue.get_nowait())
        # The last batch's events go out before this batch changes the state: phones render their
        # views as events are delivered, and must see that batch's state, not one still being
        # committed (a crash would take it back). Usually its callback has run already.
        self._publish_committed()
        try:
            answers, envelopes, batch = self._apply(jobs)
        except Exception:  # a bug in one batch must not stop the office
            log.exception("applying a batch failed; reloading the office from disk")
            self._recover(jobs)
            return
        try:
            # The disk flush runs on the writer thread; meanwhile the event loop keeps
            # reading requests, which then form the next (larger) batch.
            await self.store.commit(batch)
        except Exception:
            log.exception("commit failed; reloading the office from disk")
            self._recover(jobs)
            return
        self._replicate(batch)
        if batch.messages and self.notifier is not None:
            self.notifier.wake()
        for job, answer in answers:
            if job.future.done():
                continue  # the client went away; the command still stands
            if isinstance(answer, BaseException):
                job.future.set_exception(answer)
            else:
                job.future.set_result(answer)
        # Answers first: the officer's screen should not wait behind a thousand displays.
        # Publishing right after them (callbacks run in order) keeps events in seq order;
        # a snapshot taken in between already holds these events and skips them.
        self._committed = envelopes
        asyncio.get_running_loop().call_soon(self._publish_committed)

    _committed: list[wire.Envelope] | None = None

    def _publish_committed(self) -> None:
        envelopes, self._committed = self._committed, None
        if envelopes:
            self.hub.publish(self.office_id, envelopes)

    def _apply(
        self, jobs: list[_Job]
    ) -> tuple[list[tuple[_Job, Result | BaseException]], list[wire.Envelope], Batch]:
        events: list[ev.Event] = []
        answers: list[tuple[_Job, Result | BaseException]] = []
        records: list[tuple[str, str, float, str]] = []
        trail: list[AuditRow] = []
        phones: list[ContactRow] = []
        for job in jobs:
            if job.idempotency is not None:
                earlier = self.idempotent.get(job.idempotency)
                if earlier is not None:
                    answers.append((job, earlier))
                    continue
            now = self.now()
            events += self.office.roll_over(now)
            try:
                outcome = self.office.handle(job.command, now)
            except DomainError as error:
                answers.append((job, error))
                continue
            events += outcome.events
            if isinstance(job.command, (*ADMIN_COMMANDS, cmd.SetCapacity)):
                self.config = configuration.from_state(self.config, self.office.state)
                self._fingerprint = self._config_fingerprint()
                self._settings_dirty = True
            if job.actor is not None:
                trail.append(audit.row(job.actor, job.command, iso(now), outcome.events))
            result = results.from_outcome(self.office.state, outcome, token=job.token, nothing=job.nothing)
            if job.phone is not None and isinstance(result, TicketResult):
                phones.append((int(result.ticket["id"]), str(result.ticket["day"]), job.phone))
            if job.idempotency is not None:
                records.append(self.idempotent.put(job.idempotency, result))
            answers.append((job, result))
        envelopes = self._fold(events)
        return answers, envelopes, self._batch(envelopes, records, trail, phones, self._messages(events))

    def _messages(self, events: list[ev.Event]) -> list[OutboxRow]:
        """The outbox rows this batch's events cause (none while [notify] is off)."""
        if not self.config.notify.enabled:
            return []
        planned = self.planner.messages(self.office.state, events, iso(self.now()))
        return notify.outbox_rows(planned, time.time())

    def _fold(self, events: list[ev.Event]) -> list[wire.Envelope]:
        """Encode each event once and fold it into the board."""
        for event in events:
            self.board.apply(event)
        return [wire.encode(e) for e in events]

    def _recover(self, jobs: list[_Job]) -> None:
        """After a failed batch: state from disk again, callers told to retry, screens resynced."""
        self._restore(self.store.load(recent_events=0))
        # Come-now rows planned in the lost batch are not on disk: plan them again.
        self.planner.come_now_done = self.store.outbox_tickets_with("come_now", self.office.state.day)
        self.idempotent.load(self.store.idempotency_records(idempotency.cutoff()))
        self.channel.resync()
        if self.publisher is not None:
            self.publisher.resend_whole()
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(Unavailable("storage_error", "could not save; please try again"))

    def _batch(
        self,
        envelopes: list[wire.Envelope],
        records: list[tuple[str, str, float, str]],
        trail: list[AuditRow] | None = None,
        phones: list[ContactRow] | None = None,
        messages: list[OutboxRow] | None = None,
    ) -> Batch:
        tickets, counters = self.office.state.take_changes()
        held, self._settings_dirty = self._settings_dirty, False
        day = self.office.state.day
        purge, self._contacts_day = (day if day != self._contacts_day else None), day
        return Batch(
            tickets=[ticket_row(t) for t in tickets],
            counters=[(c.id, int(c.open), c.reason) for c in counters],
            events=[(e.seq, e.type, e.at, e.text) for e in envelopes],
            idempotency=records,
            audit=trail or [],
            office=self._office_row(),
            settings=self.settings_data() if held else None,
            settings_at=iso(self.now()),
            contacts=phones or [],
            contacts_before=purge,
            messages=messages or [],
        )

    # ----- replication (a deployment with a broker) ---------------------------------

    def _replicate(self, batch: Batch) -> None:
        if self.publisher is not None:
            if batch.settings is not None:
                self._settings_cache = batch.settings
            self.publisher.committed(batch, self._meta())

    def _meta(self) -> dict[str, Any]:
        """What a replica needs besides the ticket rows: the office row, counters, configuration."""
        state = self.office.state
        if self._settings_cache is None:
            self._settings_cache = self.settings_data()
        return {
            "seq": state.seq,
            "day": state.day,
            "office": self._office_row(),
            "counters": {c.id: [c.open, c.reason] for c in state.counters.values()},
            "settings": self._settings_cache,
        }

    def picture(self) -> WriterPicture:
        """The whole office as it stands, for the broker's picture."""
        state = self.office.state
        tickets = [*state.tickets.values(), *state.booked.values()]
        return WriterPicture(state.seq, self._meta(), picture_rows(tickets))

    async def tick(self) -> bool:
        """A clock tick through the writer (the day rolls over if midnight passed); old retries forgotten."""
        try:
            await self.execute(cmd.Tick(), nothing=results.Nothing())
        except Unavailable:
            return False
        cutoff = idempotency.cutoff()
        self.idempotent.forget_older_than(cutoff)
        await self.store.purge_idempotency(cutoff)
        return True
