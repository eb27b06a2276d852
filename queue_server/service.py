"""The one writer: the only place that joins the rules, the disk and the screens.

Commands are queued and applied one at a time by a single task. Every command
that is waiting when the task wakes is applied in turn and the whole group is
committed in one durable transaction (group commit), then the answers are
released and the events published. Apply, commit and publish run with no
await in between, so no other coroutine ever sees a change that is not on
disk, and a snapshot taken anywhere is consistent with its `seq`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from queue_server import commands as cmd
from queue_server import events as ev
from queue_server import jsoncodec
from queue_server.config import OfficeConfig
from queue_server.domain import DomainError, Office, Outcome
from queue_server.hub import Hub
from queue_server.storage import Batch, Storage, config_fingerprint, ticket_row
from queue_server.tickets import Ticket

log = logging.getLogger(__name__)

IDEMPOTENCY_SECONDS = 48 * 3600
MAX_BATCH = 512

Respond = Callable[[Outcome], tuple[int, Any]]
"""Turns an outcome into the HTTP status and JSON body that an idempotent repeat gets again."""


class Unavailable(Exception):
    """The service is stopping or could not write to disk; try again shortly."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Job:
    command: cmd.Command
    respond: Respond
    idempotency: tuple[str, str] | None
    future: asyncio.Future[tuple[int, Any]] = field(repr=False)


class OfficeService:
    def __init__(
        self,
        config: OfficeConfig,
        storage: Storage,
        hub: Hub,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.storage = storage
        self.hub = hub
        self.zone = config.zone
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.office: Office = self._empty_office(self.today())
        self.idempotent: dict[tuple[str, str], tuple[float, int, str]] = {}
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self.accepting = False
        self._busy = False

    # ----- life cycle ---------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock().astimezone(self.zone)

    def today(self) -> str:
        return self.now().date().isoformat()

    async def start(self) -> None:
        self._fingerprint = self._config_fingerprint()
        stored = self.storage.load(recent_events=self.hub.history.maxlen or 10_000)
        self.office = self._restore(stored)
        await self.hub.start(stored.recent_events)
        cutoff = time.time() - IDEMPOTENCY_SECONDS
        self.storage.purge_idempotency(cutoff)
        for scope, key, created, status, body in self.storage.idempotency_records(cutoff):
            self.idempotent[(scope, key)] = (created, status, body)
        self._startup_commit(stored)
        self.accepting = True
        self._writer = asyncio.create_task(self._write_loop(), name="office-writer")
        self._timer = asyncio.create_task(self._midnight_loop(), name="office-midnight")

    async def stop(self) -> None:
        """Refuse new commands, finish the queued ones, then stop the writer."""
        self.accepting = False
        if self._timer:
            self._timer.cancel()
        if self._writer:
            while not self._queue.empty() or self._busy:
                await asyncio.sleep(0.01)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.hub.stop()

    def _empty_office(self, day: str) -> Office:
        return Office(self.config.services, self.config.counters, self.config.capacity, day)

    def _restore(self, stored: Any) -> Office:
        office = Office(
            self.config.services,
            self.config.counters,
            self._capacity(stored),
            stored.day or self.today(),
            seq=stored.seq,
            next_ticket_id=stored.next_ticket_id,
        )
        office.occupancy.door_count = stored.door_count
        for counter_id, (is_open, reason) in stored.counters.items():
            if counter_id in office.counters:
                office.counters[counter_id].open = is_open
                office.counters[counter_id].reason = reason
        for ticket in stored.tickets:
            if ticket.service not in office.services:
                continue  # its service was removed from the config; it stays on disk for reports
            office.load_ticket(ticket)
        office.load_history(*self.storage.recent_history(10))
        office.take_changes()
        return office

    def _capacity(self, stored: Any) -> int:
        # A capacity set through the API survives restarts until the config file itself changes it.
        if stored.capacity is None or stored.config_capacity != self.config.capacity:
            return self.config.capacity
        return int(stored.capacity)

    def _config_fingerprint(self) -> str:
        return config_fingerprint(self.services_view(), self.counters_config_view())

    def _startup_commit(self, stored: Any) -> None:
        now = self.now()
        events = self.office.roll_over(now)
        if stored.config_json is not None and stored.config_json != self._fingerprint:
            events += self.office.announce(
                now,
                ev.CONFIG_CHANGED,
                services=self.services_view(),
                counters=[self.office.counter_view(c) for c in self.office.counters.values()],
            )
        self.storage.commit(self._batch(events, []))
        self.hub.publish(events)

    def _office_row(self) -> dict[str, Any]:
        return {
            "day": self.office.day,
            "seq": self.office.seq,
            "capacity": self.office.occupancy.capacity,
            "config_capacity": self.config.capacity,
            "door_count": self.office.occupancy.door_count,
            "config_json": self._fingerprint,
        }

    # ----- the writer -------------------------------------------------------------------

    async def execute(
        self,
        command: cmd.Command,
        respond: Respond,
        idempotency: tuple[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Queue a command; return (status, body) once it is on disk. Raises DomainError."""
        if not self.accepting:
            raise Unavailable("shutting_down", "the server is shutting down; try again in a moment")
        future: asyncio.Future[tuple[int, Any]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(command, respond, idempotency, future))
        return await future

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
        try:
            answers, events, batch = self._apply(jobs)
        except Exception:  # a bug in one batch must not stop the office
            log.exception("applying a batch failed; reloading the office from disk")
            self._recover(jobs)
            return
        try:
            # The disk flush runs on the storage thread; meanwhile the event loop
            # keeps reading requests, which then form the next (larger) batch.
            await asyncio.get_running_loop().run_in_executor(
                self.storage.executor, self.storage.commit, batch
            )
        except Exception:
            log.exception("commit failed; reloading the office from disk")
            self._recover(jobs)
            return
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
        asyncio.get_running_loop().call_soon(self.hub.publish, events)

    def _apply(self, jobs: list[_Job]) -> tuple[list[tuple[_Job, Any]], list[ev.Event], Batch]:
        events: list[ev.Event] = []
        answers: list[tuple[_Job, tuple[int, Any] | BaseException]] = []
        records: list[tuple[str, str, float, int, str]] = []
        for job in jobs:
            if job.idempotency is not None and job.idempotency in self.idempotent:
                _, status, body = self.idempotent[job.idempotency]
                answers.append((job, (status, jsoncodec.loads(body))))
                continue
            now = self.now()
            events += self.office.roll_over(now)
            try:
                outcome = self.office.handle(job.command, now)
            except DomainError as error:
                answers.append((job, error))
                continue
            events += outcome.events
            answer = job.respond(outcome)
            if job.idempotency is not None:
                record = (time.time(), answer[0], jsoncodec.dumps(answer[1]))
                self.idempotent[job.idempotency] = record
                records.append((*job.idempotency, *record))
            answers.append((job, answer))
        return answers, events, self._batch(events, records)

    def _recover(self, jobs: list[_Job]) -> None:
        """After a failed batch: state from disk again, callers told to retry, screens resynced."""
        stored = self.storage.load(recent_events=0)
        self.office = self._restore(stored)
        self.idempotent = {
            (scope, key): (created, status, body)
            for scope, key, created, status, body in self.storage.idempotency_records(
                time.time() - IDEMPOTENCY_SECONDS
            )
        }
        self.hub.resync()
        for job in jobs:
            if not job.future.done():
                job.future.set_exception(Unavailable("storage_error", "could not save; please try again"))

    def _batch(self, events: list[ev.Event], records: list[tuple[str, str, float, int, str]]) -> Batch:
        tickets, counters = self.office.take_changes()
        return Batch(
            tickets=[ticket_row(t) for t in tickets],
            counters=[(c.id, int(c.open), c.reason) for c in counters],
            events=[(e.seq, e.type, e.at, e.encoded()) for e in events],
            idempotency=records,
            office=self._office_row(),
        )

    async def _midnight_loop(self) -> None:
        """Roll the day over at local midnight even when nobody presses anything."""
        while True:
            now = self.now()
            tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), self.zone)
            await asyncio.sleep(max(1.0, (tomorrow - now).total_seconds() + 1))
            try:
                await self.execute(cmd.Tick(), lambda outcome: (200, None))
            except Unavailable:
                return
            cutoff = time.time() - IDEMPOTENCY_SECONDS
            self.idempotent = {k: v for k, v in self.idempotent.items() if v[0] > cutoff}
            self.storage.purge_idempotency(cutoff)

    # ----- reading (consistent: state only changes together with the disk) ---------

    def services_view(self) -> list[dict[str, Any]]:
        return [
            {
                "id": s.id,
                "name": s.name,
                "prefix": s.prefix,
                "requirements": list(s.requirements),
                "standard_minutes": s.standard_minutes,
                "fee": s.fee,
            }
            for s in self.config.services
        ]

    def counters_config_view(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "name": c.name, "services": list(c.services)} for c in self.config.counters]

    def snapshot(self) -> dict[str, Any]:
        snapshot = self.office.snapshot()
        snapshot["office"] = {
            "name": self.config.name,
            "timezone": self.config.timezone,
            "language": self.config.language,
            "running_text": self.config.running_text,
        }
        return snapshot

    def ticket_by_token_hash(self, token_hash: str) -> tuple[Ticket, dict[str, Any]] | None:
        ticket_id = self.office.by_token.get(token_hash)
        if ticket_id is not None:
            ticket = self.office.tickets[ticket_id]
            return ticket, self.office.view(ticket)
        stored = self.storage.ticket_by_token_hash(token_hash)
        if stored is None:
            return None
        return stored, stored.as_dict(None)

    def view_of(self, ticket_id: int) -> dict[str, Any] | None:
        ticket = self.office.tickets.get(ticket_id)
        return self.office.view(ticket) if ticket else None
