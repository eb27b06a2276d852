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
  a no-show, transferred, or the day ends; a ticket sits at one counter at most.
- `queues`: per service, the tickets not yet called (remote, outside, waiting), in
  place order, each {id, number, status, party_size, priority}. A ticket event's view carries
  the ticket's `position` right after the event, so the ticket goes in at that
  index (a transferred ticket keeps its place, a routed one joins the back, a
  rejoined one slots in behind a few: the board needs no order key of its own).
- `ticket.undone`: the ticket is as it was before the undone step, back at its
  counter or back in its queue (and then its call is forgotten).
"""

from __future__ import annotations

from typing import Any

from queue_server.domain import events as ev

RECENT_CALLS = 10
RECENT_ADMITTED = 10
ACTIVE = ("called", "serving")
PENDING = ("waiting", "outside", "remote")


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
        queues: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.seq = seq
        self.day = day
        self.office = office
        self.services = [_service(s) for s in services]
        self.counters: dict[str, dict[str, Any]] = {c["id"]: dict(c) for c in counters}
        self.waiting = dict(waiting)
        self.occupancy = dict(occupancy)
        self.queues = {k: [dict(t) for t in v] for k, v in (queues or {}).items()}
        # Which queue holds each ticket: a new ticket (most events at full load) needs no search.
        self.where: dict[int, str] = {t["id"]: k for k, v in self.queues.items() for t in v}
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
            snapshot.get("queues"),
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
            "queues": {k: [dict(t) for t in v] for k, v in self.queues.items()},
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
            self.services = [_service(s) for s in event.services]
            for service in self.services:
                self.queues.setdefault(service["id"], [])
            self.counters = {c["id"]: dict(c) for c in event.counters}
            if event.running_text is not None:
                self.office = {**self.office, "running_text": event.running_text}
        elif isinstance(event, ev.DayStarted):
            self.day = event.day
            self.recent_calls = []
            self.recent_admitted = []
            self.queues = {k: [] for k in self.queues}
            self.where = {}
            for counter in self.counters.values():
                counter["current"] = None

    def replay_history(self, event: ev.Event) -> None:
        """Rebuild the recent lists at start from the day's stored events (counters come from the state)."""
        if isinstance(event, ev.TicketCalled | ev.TicketRecalled):
            self._note_call(event.ticket_view, event.counter, event.at)
        elif isinstance(event, ev.TicketAdmitted):
            self._note_admitted(event.ticket_view, event.at)
        elif isinstance(event, ev.TicketUndone) and event.ticket_view["status"] in PENDING:
            self._forget_call(event.ticket_view["number"])
        elif isinstance(event, ev.DayStarted):
            self.recent_calls = []
            self.recent_admitted = []

    def _apply_ticket_event(self, event: ev.TicketEvent) -> None:
        ticket = event.ticket_view
        self.waiting = dict(event.waiting)
        active = ticket["status"] in ACTIVE
        # Only events that put a ticket at a counter name it as `counter` (transfers say `from_counter`).
        counter_id: str | None = getattr(event, "counter", None)
        here = counter_id is not None
        for counter in self.counters.values():
            current = counter.get("current")
            if current is not None and current["id"] == ticket["id"]:
                if active and here and counter["id"] == counter_id:
                    counter["current"] = ticket
                elif not active or here:
                    counter["current"] = None
        if active and counter_id is not None and counter_id in self.counters:
            self.counters[counter_id]["current"] = ticket
        self._place_in_queues(ticket)
        if isinstance(event, ev.TicketCalled | ev.TicketRecalled):
            self._note_call(ticket, event.counter, event.at)
        elif isinstance(event, ev.TicketUndone) and not active:
            self._forget_call(ticket["number"])  # the call was taken back: it never happened for the lobby
        elif isinstance(event, ev.TicketAdmitted):
            self._note_admitted(ticket, event.at)

    def _place_in_queues(self, ticket: ev.TicketView) -> None:
        ticket_id = ticket["id"]
        held = self.where.pop(ticket_id, None)
        if held is not None:
            # Usually near the front (a call, an admission), so the search is short.
            old = self.queues[held]
            del old[next(i for i, entry in enumerate(old) if entry["id"] == ticket_id)]
        if ticket["status"] not in PENDING:
            return
        queue = self.queues.setdefault(ticket["service"], [])
        entry = {
            "id": ticket_id,
            "number": ticket["number"],
            "status": ticket["status"],
            "party_size": ticket["party_size"],
            "priority": ticket.get("priority"),
        }
        position = ticket.get("position")
        if position is None:  # a view without a position (not the server's): by id, the issue order
            index = next((i for i, e in enumerate(queue) if e["id"] > ticket_id), len(queue))
        else:
            index = position - 1
        queue.insert(index, entry)
        self.where[ticket_id] = ticket["service"]

    def _forget_call(self, number: str) -> None:
        self.recent_calls = [c for c in self.recent_calls if c["number"] != number]

    def _note_call(self, ticket: ev.TicketView, counter: str, at: str) -> None:
        entry = {"number": ticket["number"], "counter": counter, "at": at, "service": ticket["service"]}
        rest = [c for c in self.recent_calls if c["number"] != ticket["number"]]
        self.recent_calls = [entry, *rest][:RECENT_CALLS]

    def _note_admitted(self, ticket: ev.TicketView, at: str) -> None:
        entry = {"number": ticket["number"], "at": at}
        rest = [a for a in self.recent_admitted if a["number"] != ticket["number"]]
        self.recent_admitted = [entry, *rest][:RECENT_ADMITTED]


def _service(service: dict[str, Any]) -> dict[str, Any]:
    """A service as the board lists it (its waiting count is added from `waiting` in the snapshot)."""
    return {k: v for k, v in service.items() if k != "waiting"}
