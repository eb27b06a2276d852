"""What every screen, page and answer reads of an office: views of the live state and board.

Consistent by construction: the state only changes together with the disk (the writer's batch),
and a replica's only when it has folded a whole read of the stream. `OfficeService` (the writer)
and `OfficeReplica` share these reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from queue_server import wire
from queue_server.domain import events as ev
from queue_server.domain.admin import hours_dict, service_view
from queue_server.domain.board import Board
from queue_server.domain.office import Office
from queue_server.domain.settings import OfficeConfig
from queue_server.domain.tickets import Ticket, iso
from queue_server.engine import configuration
from queue_server.store import Store


class OfficeReading:
    config: OfficeConfig
    office: Office
    board: Board
    store: Store
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock().astimezone(self.config.zone)

    def services_view(self) -> list[dict[str, Any]]:
        return [service_view(s) for s in self.config.services]

    def hours_view(self) -> dict[str, Any]:
        return hours_dict(self.office.state.hours)

    def is_closed_now(self) -> bool:
        """Outside the opening hours (never, without hours)."""
        hours = self.office.state.hours
        return hours is not None and not hours.is_open(self.now())

    def opens_at(self) -> str | None:
        """When the office next opens, as ISO time; None while open (or with no hours)."""
        hours, now = self.office.state.hours, self.now()
        if hours is None or hours.is_open(now):
            return None
        opening = hours.next_opening(now)
        return iso(opening) if opening else None

    def settings_data(self) -> dict[str, Any]:
        """The configuration as the database keeps it (with the live capacity)."""
        return configuration.settings.as_data(configuration.from_state(self.config, self.office.state))

    def services_with_waiting(self) -> list[dict[str, Any]]:
        waiting = self.office.state.waiting_counts()
        return [{**s, "waiting": waiting.get(s["id"], 0)} for s in self.services_view()]

    def counters_config_view(self) -> list[dict[str, Any]]:
        return [{"id": c.id, "name": c.name, "services": list(c.services)} for c in self.config.counters]

    def counters_view(self) -> list[dict[str, Any]]:
        state = self.office.state
        return [state.counter_view(c) for c in state.counters.values()]

    def has_service(self, service_id: str) -> bool:
        return service_id in self.office.state.services

    def has_counter(self, counter_id: str) -> bool:
        return counter_id in self.office.state.counters

    def occupancy(self) -> dict[str, int]:
        return self.office.state.occupancy.as_dict()

    @property
    def seq(self) -> int:
        return self.office.state.seq

    @property
    def day(self) -> str:
        return self.office.state.day

    def snapshot(self) -> dict[str, Any]:
        return self.board.snapshot()

    _first_frame: tuple[Board, int, str, bytes] | None = None

    def snapshot_frame(self) -> tuple[int, str, bytes]:
        """A display socket's first message at the board's seq: its seq, text and ready-made frame.

        Made once per seq for every screen that connects at it: after a restart a thousand lobby
        screens reconnect together, and a busy office's snapshot is tens of KB each.
        """
        board = self.board
        made = self._first_frame
        if made is None or made[0] is not board or made[1] != board.seq:
            text = wire.dumps({"type": "snapshot", **board.snapshot()})
            made = self._first_frame = (board, board.seq, text, wire.text_frame(text))
        return made[1], made[2], made[3]

    async def caught_up_to(self, seq: int, timeout: float) -> bool:
        """Whether this copy of the office has reached `seq` (the writer has, by definition: a `since`
        beyond its seq is another history, answered with a snapshot). Replicas wait for it."""
        return True

    def live_ticket(self, token_hash_: str) -> Ticket | None:
        """One of today's tickets (or a booking of a later day) by its token's hash, from the live state."""
        state = self.office.state
        ticket_id = state.by_token.get(token_hash_)
        if ticket_id is not None:
            return state.tickets[ticket_id]
        booked = state.booked_tokens.get(token_hash_)
        return state.booked[booked] if booked is not None else None

    async def ticket_by_token_hash(self, token_hash_: str) -> tuple[Ticket, ev.TicketView] | None:
        """A ticket and its view: today's from the live state, an older one from the disk (off the loop)."""
        ticket = self.live_ticket(token_hash_)
        if ticket is not None:
            return ticket, self.office.state.view(ticket)
        stored = await self.store.ticket_by_token_hash(token_hash_)
        if stored is None:
            return None
        return stored, self.office.state.view(stored)  # not live: no position, its route as configured

    def live_views(self) -> list[ev.TicketView]:
        """Today's tickets in issue order, as screens see them (no tokens)."""
        state = self.office.state
        return [state.view(t) for t in state.tickets.values()]

    def view_of(self, ticket_id: int) -> ev.TicketView | None:
        state = self.office.state
        ticket = state.tickets.get(ticket_id) or state.booked.get(ticket_id)
        return state.view(ticket) if ticket else None

    async def outbox_counts(self) -> dict[str, int]:
        """[notify]: messages pending (any day), and today's sent, failed and expired ones."""
        return await self.store.outbox_counts(self.day)

    def is_live(self, ticket: Ticket) -> bool:
        """Today's ticket, or a booking of a later day: the rules still hold it."""
        state = self.office.state
        return (ticket.day == state.day and ticket.id in state.tickets) or ticket.id in state.booked
