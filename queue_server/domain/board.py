"""THE read model: what a board (lobby TV, entrance, counter, door screen) shows.

The server's snapshot, the rebuild at start and the screens' own fold of the
event stream (static/js/live/board.js, held equal by tests/js) all come from
`Board.apply(event)`, so a TV that reloads shows exactly what one that stayed
connected shows.

Rules of the board:
- `recent_calls`: one entry per ticket number, newest first, at most
  RECENT_CALLS; a recall moves the number to the front with its new time.
- `recent_admitted`: the latest admissions, newest first, one per number.
- a counter's `current` is the ticket it called until that ticket is done,
  a no-show, transferred, or the day ends.
"""

from __future__ import annotations

from typing import Any

from queue_server.domain import events as ev

RECENT_CALLS = 10
RECENT_ADMITTED = 10
SERVICE_KEYS = ("id", "name", "prefix")


class Board:
    def __init__(
        self,
        seq: int,
        day: str,
        office: dict[str, Any],
        services: list[dict[str, Any]],
        counters: list[dict[str, Any]],
        waiting: ev.Waiting,
        occupancy: dict[str, int],
    ) -> None:
        self.seq = seq
        self.day = day
        self.office = office
        self.services = [{k: s[k] for k in SERVICE_KEYS} for s in services]
        self.counters: dict[str, dict[str, Any]] = {c["id"]: dict(c) for c in counters}
        self.waiting = dict(waiting)
        self.occupancy = dict(occupancy)
        self.recent_calls: list[dict[str, Any]] = []
        self.recent_admitted: list[dict[str, Any]] = []

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> Board:
        board = cls(
            snapshot["seq"],
            snapshot["day"],
            snapshot.get("office", {}),
            snapshot["services"],
            snapshot["counters"],
            snapshot["waiting"],
            snapshot["occupancy"],
        )
        board.recent_calls = [dict(c) for c in snapshot["recent_calls"]]
        board.recent_admitted = [dict(a) for a in snapshot["recent_admitted"]]
        return board

    def snapshot(self) -> dict[str, Any]:
        """The state a screen starts from (`GET /api/v1/state`, first frame of `/ws/display`)."""
        return {
            "seq": self.seq,
            "day": self.day,
            "services": [{**s, "waiting": self.waiting.get(s["id"], 0)} for s in self.services],
            "counters": [dict(c) for c in self.counters.values()],
            "waiting": dict(self.waiting),
            "occupancy": dict(self.occupancy),
            "recent_calls": [dict(c) for c in self.recent_calls],
            "recent_admitted": [dict(a) for a in self.recent_admitted],
            "office": dict(self.office),
        }

    def apply(self, event: ev.Event) -> None:
        """Fold one event into the board."""
        self.seq = event.seq
        if isinstance(event, ev.TicketEvent):
            self._apply_ticket_event(event)
        elif isinstance(event, ev.OccupancyChanged):
            self.occupancy = dict(event.occupancy)
        elif isinstance(event, ev.CounterOpened | ev.CounterClosed):
            self.counters[event.counter["id"]] = dict(event.counter)
        elif isinstance(event, ev.ConfigChanged):
            self.services = [{k: s[k] for k in SERVICE_KEYS} for s in event.services]
            self.counters = {c["id"]: dict(c) for c in event.counters}
        elif isinstance(event, ev.DayStarted):
            self.day = event.day
            self.recent_calls = []
            self.recent_admitted = []
            for counter in self.counters.values():
                counter["current"] = None

    def replay_history(self, event: ev.Event) -> None:
        """Rebuild the recent lists at start from the day's stored events (counters come from the state)."""
        if isinstance(event, ev.TicketCalled | ev.TicketRecalled):
            self._note_call(event.ticket_view, event.counter, event.at)
        elif isinstance(event, ev.TicketAdmitted):
            self._note_admitted(event.ticket_view, event.at)
        elif isinstance(event, ev.DayStarted):
            self.recent_calls = []
            self.recent_admitted = []

    def _apply_ticket_event(self, event: ev.TicketEvent) -> None:
        ticket = event.ticket_view
        self.waiting = dict(event.waiting)
        if isinstance(event, ev.TicketCalled | ev.TicketRecalled):
            self._set_current(event.counter, ticket)
            self._note_call(ticket, event.counter, event.at)
        elif isinstance(event, ev.TicketServing):
            self._set_current(event.counter, ticket)
        elif isinstance(event, ev.TicketDone | ev.TicketNoShow):
            self._clear_current(ticket["id"])
        elif isinstance(event, ev.TicketTransferred):
            self._clear_current(ticket["id"])
        elif isinstance(event, ev.TicketAdmitted):
            self._note_admitted(ticket, event.at)

    def _set_current(self, counter_id: str, ticket: ev.TicketView) -> None:
        counter = self.counters.get(counter_id)
        if counter is not None:
            counter["current"] = ticket

    def _clear_current(self, ticket_id: int) -> None:
        for counter in self.counters.values():
            current = counter.get("current")
            if current is not None and current["id"] == ticket_id:
                counter["current"] = None

    def _note_call(self, ticket: ev.TicketView, counter: str, at: str) -> None:
        entry = {"number": ticket["number"], "counter": counter, "at": at, "service": ticket["service"]}
        rest = [c for c in self.recent_calls if c["number"] != ticket["number"]]
        self.recent_calls = [entry, *rest][:RECENT_CALLS]

    def _note_admitted(self, ticket: ev.TicketView, at: str) -> None:
        entry = {"number": ticket["number"], "at": at}
        rest = [a for a in self.recent_admitted if a["number"] != ticket["number"]]
        self.recent_admitted = [entry, *rest][:RECENT_ADMITTED]
