"""Remote tickets and bookings (api-remote "Remote tickets"): fewer people in the room.

A `remote` ticket is taken from home for today: it has its place in its
service's order by issue time and a position, but it is not inside, not
`outside`, never admitted and never called until it is checked in at the
entrance; then it follows the capacity rule like any new ticket, keeping its
place. A `booked` ticket is for a later day: its number in that day's sequence
is reserved at booking (bookings take that day's first numbers), and at the
day's start it becomes `remote`. Unchecked remote tickets end `no_show` at the
day's end (day.py).

Every limit is checked here, in the office's one writer, so concurrent requests
can never exceed a quota: one active remote/booked ticket per NIK (by its keyed
hash), `active_per_device` per device and per address, `remote_quota` per
service and day.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import Conflict, Invalid, Limited
from queue_server.domain.issuing import check_open, check_party_size, check_priority
from queue_server.domain.settings import ServiceConfig
from queue_server.domain.state import OfficeState, Step
from queue_server.domain.tickets import REMOTE_ACTIVE, Status, Ticket, format_number

NIK_PATTERN = re.compile(r"[0-9]{16}")
PHONE_PATTERN = re.compile(r"(?:\+62|0)(8[0-9]{7,11})")
"""An Indonesian mobile number: 08 or +628, then 7-11 digits (10-13 digits in the 08... form)."""


def check_nik(nik: str) -> None:
    """Refuse a NIK that cannot be one: 16 digits whose birth date (digits 7-12, DDMMYY; women add 40
    to the day) is a real date."""
    if not NIK_PATTERN.fullmatch(nik):
        raise Invalid("invalid_nik", "a NIK has exactly 16 digits")
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    if not any(_is_date(century + year, month, day) for century in (1900, 2000)):
        raise Invalid("invalid_nik", "this NIK's date of birth is not a real date")


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def normalize_phone(phone: str) -> str:
    """An Indonesian mobile number in its +628... form; refuses anything else."""
    compact = re.sub(r"[\s.\-()]", "", phone)
    match = PHONE_PATTERN.fullmatch(compact)
    if match is None:
        raise Invalid("invalid_phone", "a mobile number starts with 08 or +628 and has 10-13 digits")
    return "+62" + match.group(1)


def issue(state: OfficeState, step: Step, command: cmd.IssueRemote) -> Ticket:
    service = state.service(command.service)
    policy = state.remote_policy
    if not policy.enabled or service.remote_quota <= 0:
        raise Conflict("remote_disabled", f"{service.name} takes no remote tickets", {"service": service.id})
    check_priority(state, command.priority)
    check_party_size(state, command.party_size)
    day = _check_date(state, command.date)
    if policy.nik == "required" and command.nik_hash is None:
        raise Invalid("nik_required", "this office needs a NIK for a remote ticket")
    tickets = _active_from_afar(state)
    if command.nik_hash is not None and any(t.nik_hash == command.nik_hash for t in tickets):
        raise Conflict("nik_has_active_ticket", "this NIK already has an active remote ticket")
    holders = set(command.holders)
    held = sum(1 for t in tickets if holders & set(t.holder.split()))
    if holders and held >= policy.active_per_device:
        raise Limited(
            "too_many_active",
            f"this device already holds {held} active remote tickets",
            {"limit": policy.active_per_device},
        )
    if taken(state, service.id, day) >= service.remote_quota:
        raise Conflict(
            "remote_quota_reached",
            f"the remote tickets of {service.name} for {day} are taken",
            {"service": service.id, "date": day, "quota": service.remote_quota},
        )
    if day == state.day:
        check_open(state, service, step.at)
        ticket = _new(state, step, command, service, day, state.last_number[service.id] + 1, Status.REMOTE)
        state.last_number[service.id] = ticket.sequence
        state.add(ticket)
    else:
        booked = state.bookings.setdefault(day, [])
        sequence = 1 + max((t.sequence for t in booked if t.issued_service == service.id), default=0)
        ticket = _new(state, step, command, service, day, sequence, Status.BOOKED)
        add_booking(state, ticket)
        state.touch(ticket)
    step.emit(ev.TicketIssued(*step.about(ticket)))
    return ticket


def taken(state: OfficeState, service: str, day: str) -> int:
    """Remote tickets of a service for a day that count against its quota (all but the cancelled)."""
    tickets = state.tickets.values() if day == state.day else state.bookings.get(day, ())
    return sum(
        1
        for t in tickets
        if t.origin == "remote" and t.issued_service == service and t.status is not Status.CANCELLED
    )


def _active_from_afar(state: OfficeState) -> list[Ticket]:
    live = [t for t in state.tickets.values() if t.status in REMOTE_ACTIVE]
    return live + [t for t in state.booked.values() if t.status is Status.BOOKED]


def _check_date(state: OfficeState, wanted: str) -> str:
    try:
        day = date.fromisoformat(wanted)
    except ValueError as exc:
        raise Invalid("invalid_date", "date must be YYYY-MM-DD", {"reason": "format"}) from exc
    today = date.fromisoformat(state.day)
    last = today + timedelta(days=state.remote_policy.book_days_ahead)
    if not today <= day <= last:
        raise Invalid(
            "invalid_date",
            f"a remote ticket is for a day from {today} to {last}",
            {"from": today.isoformat(), "to": last.isoformat()},
        )
    return day.isoformat()


def _new(
    state: OfficeState,
    step: Step,
    command: cmd.IssueRemote,
    service: ServiceConfig,
    day: str,
    sequence: int,
    status: Status,
) -> Ticket:
    ticket = Ticket(
        id=state.next_ticket_id,
        day=day,
        service=service.id,
        sequence=sequence,
        number=format_number(service.prefix, sequence),
        party_size=command.party_size,
        issued_at=step.at,
        status=status,
        token_hash=command.token_hash,
        issued_service=service.id,
        origin=command.origin,
        place=state.take_place(),
        priority=command.priority,
        nik_hash=command.nik_hash,
        holder=" ".join(command.holders),
    )
    state.next_ticket_id += 1
    return ticket


def add_booking(state: OfficeState, ticket: Ticket) -> None:
    """Hold a booked ticket of a later day (also used when loading from storage)."""
    state.bookings.setdefault(ticket.day, []).append(ticket)
    state.booked[ticket.id] = ticket
    state.booked_tokens[ticket.token_hash] = ticket.id
    state.next_place = max(state.next_place, ticket.place + 1)


def check_in(state: OfficeState, step: Step, command: cmd.CheckIn) -> Ticket:
    ticket = _find(state, command)
    if ticket.status is not Status.REMOTE:
        raise Conflict(
            "not_remote",
            f"ticket {ticket.number} is {ticket.status}, not a remote ticket",
            state.details(ticket),
        )
    ticket.checked_in_at = step.at
    occupancy = state.occupancy
    ahead = any(state.tickets[i].key < ticket.key for i in occupancy.outside)
    if not ahead and occupancy.fits(ticket.party_size):
        state.enter(ticket, step.at)
    else:
        ticket.status = Status.OUTSIDE
        state.put_outside(ticket)
        state.touch(ticket)
    step.emit(ev.TicketCheckedIn(*step.about(ticket)))
    return ticket


def _find(state: OfficeState, command: cmd.CheckIn) -> Ticket:
    if command.ticket_id is not None:
        booked = state.booked.get(command.ticket_id)
        if booked is not None:
            raise Conflict(
                "booked_for_another_day",
                f"ticket {booked.number} is booked for {booked.day}",
                {"number": booked.number, "date": booked.day},
            )
        return state.ticket(command.ticket_id)
    return state.ticket_numbered(command.number)


def cancel_booking(state: OfficeState, step: Step, ticket_id: int) -> Ticket:
    """The visitor gives back a booked ticket of a later day (its quota slot frees up)."""
    ticket = state.booked.pop(ticket_id)
    state.booked_tokens.pop(ticket.token_hash, None)
    ticket.status = Status.CANCELLED
    ticket.finished_at = step.at
    state.touch(ticket)
    step.emit(ev.TicketCancelled(*step.about(ticket), "visitor"))
    return ticket


def open_bookings(state: OfficeState, step: Step) -> None:
    """At a day's start: its booked tickets become `remote`; bookings of days skipped end `no_show`."""
    for day in sorted(d for d in state.bookings if d <= state.day):
        for ticket in sorted(state.bookings.pop(day), key=lambda t: t.key):
            state.booked.pop(ticket.id, None)
            state.booked_tokens.pop(ticket.token_hash, None)
            if ticket.status is not Status.BOOKED:
                continue
            if day < state.day:  # the server was off on its day
                ticket.status = Status.NO_SHOW
                ticket.finished_at = step.at
                state.touch(ticket)
                step.emit(ev.TicketNoShow(*step.about(ticket), None))
                continue
            ticket.status = Status.REMOTE
            state.add(ticket)
            state.last_number[ticket.issued_service] = max(
                state.last_number.get(ticket.issued_service, 0), ticket.sequence
            )
            step.emit(ev.TicketActivated(*step.about(ticket)))


def close_unchecked(state: OfficeState, step: Step, ticket: Ticket) -> None:
    """The day ended before this remote ticket was checked in."""
    state.leave_pending(ticket)
    state.finish(ticket, Status.NO_SHOW, False, step.at)
    step.emit(ev.TicketNoShow(*step.about(ticket), None))
