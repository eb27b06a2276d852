"""Undoing a counter's last step: which step may be taken back, and until when. Standard library only.

An officer who presses "call next" by mistake has closed the visit of the person
in front of them and called someone across the room. For a short while the
step can be taken back: every ticket the step touched returns to exactly the
state it had before (the previous visitor back at the counter, the called one
back at its place in the queue). `refusal` decides *whether* a step may be
undone; `journaled` records a step as it runs and `take_back` puts the tickets back.

A step may be undone only

- within `UNDO_SECONDS` of it,
- if it is the counter's latest undoable step and was not undone already, and
- if nothing else has moved the tickets it touched since (their status,
  counter and service are still what the step left), so an undo never
  overwrites a later, deliberate change.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import Conflict
from queue_server.domain.state import OfficeState
from queue_server.domain.state import Step as StateStep
from queue_server.domain.tickets import CURRENT, INSIDE, PENDING, Status, Ticket

T = TypeVar("T")

UNDO_SECONDS = 15.0
"""How long after a step "Batalkan" still works: enough to notice a stray key, short enough to be safe."""

UNDOABLE = frozenset({"call", "finish", "no_show", "serve"})
"""The counter steps that can be taken back (a call includes the implicit finish of the previous visitor)."""


@dataclass(frozen=True)
class Step:
    """One counter step, as recorded right after it was applied.

    `before` holds copies of the touched tickets as they were before the step
    (opaque to this module); `after` each touched ticket's fingerprint right
    after it; `current_before`/`current_after` the counter's current ticket id.
    """

    counter: str
    kind: str
    at: datetime
    before: tuple[Any, ...]
    after: Mapping[int, Hashable]
    current_before: int | None
    current_after: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)


def record(
    counter: str,
    kind: str,
    at: datetime,
    before: tuple[Any, ...],
    after: Mapping[int, Hashable],
    current_before: int | None,
    current_after: int | None,
    extra: Mapping[str, Any] | None = None,
) -> Step:
    """A step worth remembering; refuses kinds that cannot be undone."""
    if kind not in UNDOABLE:
        raise ValueError(f"a {kind!r} step cannot be undone")
    return Step(counter, kind, at, before, dict(after), current_before, current_after, dict(extra or {}))


def refusal(
    step: Step | None,
    now: datetime,
    fingerprints: Mapping[int, Hashable],
    current: int | None,
    window_seconds: float = UNDO_SECONDS,
) -> str | None:
    """Why `step` may not be undone at `now` (a short English reason), or None when it may.

    `fingerprints` gives the touched tickets' fingerprints now, `current` the
    counter's current ticket id now.
    """
    if step is None:
        return "there is no step to undo"
    elapsed = (now - step.at).total_seconds()
    if elapsed < 0 or elapsed > window_seconds:
        return f"the last step was more than {window_seconds:g} seconds ago"
    if current != step.current_after:
        return "the counter has moved on since"
    for ticket_id, fingerprint in step.after.items():
        if fingerprints.get(ticket_id) != fingerprint:
            return "a ticket of that step has changed since"
    return None


# ----- recording a step and taking it back (over the office's state) -------------------------

_RESTORED_FIELDS = (
    "status",
    "service",
    "counter",
    "officer",
    "called_at",
    "recalled_at",
    "serving_at",
    "finished_at",
    "recalls",
    "place",
    "route_before",
    "no_show_mark",
)


@dataclass(frozen=True)
class Undone:
    """What an undo gave back: the step's kind, the counter's current ticket, every ticket restored."""

    undone: str
    counter: str
    current: Ticket | None
    tickets: tuple[Ticket, ...]


def fingerprint(ticket: Ticket) -> Hashable:
    """What must be unchanged for an undo to be safe: where the ticket is and in which state."""
    return (str(ticket.status), ticket.counter, ticket.service)


def journaled(state: OfficeState, counter_id: str, kind: str, now: datetime, run: Callable[[], T]) -> T:
    """Run an undoable counter step, remembering what it changed so `take_back` can put it back."""
    counter = state.counters.get(counter_id)
    current_before = counter.current if counter else None
    state.journal, state.journal_samples = {}, {}
    counts = (dict(state.service_calls), dict(state.priority_streaks))
    try:
        result = run()
        if counter is not None and state.journal:
            after = (dict(state.service_calls), dict(state.priority_streaks))
            state.undo_steps[counter.id] = record(
                counter.id,
                kind,
                now,
                tuple(state.journal.values()),
                {ticket_id: fingerprint(state.tickets[ticket_id]) for ticket_id in state.journal},
                current_before,
                counter.current,
                {"samples": state.journal_samples, "counts": (counts, after)},
            )
    finally:
        state.journal = None
    return result


def take_back(state: OfficeState, step_: StateStep, command: cmd.Undo, now: datetime) -> Undone:
    """Undo the counter's last step if the rule above allows it; else refuse with `nothing_to_undo`."""
    counter = state.counter(command.counter)
    step = state.undo_steps.get(counter.id)
    fingerprints = (
        {i: fingerprint(state.tickets[i]) for i in step.after if i in state.tickets} if step else {}
    )
    reason = refusal(step, now, fingerprints, counter.current)
    if step is None or reason is not None:
        raise Conflict("nothing_to_undo", f"{counter.name}: nothing to undo ({reason})")
    del state.undo_steps[counter.id]
    # Back to the queue first, so a screen never shows one ticket at two places.
    restored = sorted(step.before, key=lambda t: (t.status not in PENDING, t.id))
    for before in restored:
        ticket = state.tickets[before.id]
        _unplace(state, ticket)
        for name in _RESTORED_FIELDS:
            setattr(ticket, name, getattr(before, name))
        _place(state, ticket)
        state.touch(ticket)
    for service_id, samples in step.extra.get("samples", {}).items():
        state.service_times.restore(service_id, samples)
    if "counts" in step.extra:  # the call never happened: neither for the rejoin window nor for fairness
        _take_back_counts(state, *step.extra["counts"])
    counter.current = step.current_before
    state.touch_counter(counter)
    tickets = tuple(state.tickets[t.id] for t in restored)
    for ticket in tickets:
        step_.emit(ev.TicketUndone(*step_.about(ticket), counter.id, step.kind))
    current = state.tickets.get(counter.current) if counter.current is not None else None
    return Undone(step.kind, counter.id, current, tickets)


def _take_back_counts(
    state: OfficeState,
    before: tuple[dict[str, int], dict[str, int]],
    after: tuple[dict[str, int], dict[str, int]],
) -> None:
    """Undo only this step's share of the per-service counts: other counters may have called since."""
    for service, calls in after[0].items():
        made = calls - before[0].get(service, 0)
        state.service_calls[service] = state.service_calls.get(service, 0) - made
    for service, run in after[1].items():
        if run != before[1].get(service, 0) and state.priority_streaks.get(service, 0) == run:
            state.priority_streaks[service] = before[1].get(service, 0)


def _unplace(state: OfficeState, ticket: Ticket) -> None:
    """Take a ticket out of every index its status puts it in."""
    if ticket.status in PENDING:
        state.leave_pending(ticket)
    if ticket.status in INSIDE:
        state.occupancy.ticket_people -= ticket.party_size
    if ticket.status in CURRENT and ticket.counter in state.counters:
        holder = state.counters[ticket.counter]
        if holder.current == ticket.id:
            holder.current = None
            state.touch_counter(holder)


def _place(state: OfficeState, ticket: Ticket) -> None:
    """Put a ticket into the indexes of its (restored) status; the reverse of `_unplace`."""
    if ticket.status in PENDING:
        state.queues.add_pending(ticket.service, ticket.key)
        if ticket.status is Status.WAITING:
            state.add_waiting(ticket)
        elif ticket.status is Status.OUTSIDE:
            state.put_outside(ticket)  # admission follows place order
    if ticket.status in INSIDE:
        state.occupancy.ticket_people += ticket.party_size
    if ticket.status in CURRENT and ticket.counter in state.counters:
        state.counters[ticket.counter].current = ticket.id
        state.touch_counter(state.counters[ticket.counter])
