"""The commands the office accepts; each is applied by `domain.office.Office.handle`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssueTicket:
    service: str
    party_size: int
    token_hash: str
    origin: str = "web"  # web | kiosk | door: who issued it, for reports
    priority: str | None = None  # one of [queue] priority_categories (api-remote)


@dataclass(frozen=True)
class IssueRemote:
    """A ticket taken from afar (api-remote): `remote` for today, `booked` for a later day."""

    service: str
    party_size: int
    token_hash: str
    date: str  # the local day it is for (YYYY-MM-DD)
    nik_hash: str | None = None  # keyed hash; the NIK itself never reaches the rules
    holders: tuple[str, ...] = ()  # keyed hashes of the device and the address (the active limit)
    priority: str | None = None
    # Every remote ticket has origin "remote" (the quota counts them by it); who took it is in the audit.
    origin: str = "remote"


@dataclass(frozen=True)
class CheckIn:
    """A remote ticket arrives at the entrance (by its id, or by today's number)."""

    ticket_id: int | None = None
    number: str | None = None


@dataclass(frozen=True)
class Rejoin:
    """A no-show of today comes back (by its id, or by today's number)."""

    ticket_id: int | None = None
    number: str | None = None


@dataclass(frozen=True)
class CancelTicket:
    ticket_id: int


@dataclass(frozen=True)
class CallNext:
    counter: str
    officer: str | None = None


@dataclass(frozen=True)
class CallNumber:
    counter: str
    number: str
    officer: str | None = None


@dataclass(frozen=True)
class Recall:
    counter: str
    expected: int | None = None  # the ticket the officer sees; refused if another is current


@dataclass(frozen=True)
class Serve:
    counter: str
    expected: int | None = None  # the ticket the officer sees; refused if another is current


@dataclass(frozen=True)
class Finish:
    counter: str
    expected: int | None = None  # the ticket the officer sees; refused if another is current


@dataclass(frozen=True)
class NoShow:
    counter: str
    expected: int | None = None  # the ticket the officer sees; refused if another is current


@dataclass(frozen=True)
class Transfer:
    counter: str
    service: str
    expected: int | None = None


@dataclass(frozen=True)
class Undo:
    """Take back the counter's last call, finish, no-show or serve (within undo.UNDO_SECONDS)."""

    counter: str


@dataclass(frozen=True)
class OpenCounter:
    counter: str


@dataclass(frozen=True)
class CloseCounter:
    counter: str
    reason: str | None = None


@dataclass(frozen=True)
class DoorEnter:
    count: int


@dataclass(frozen=True)
class DoorExit:
    count: int


@dataclass(frozen=True)
class SetCapacity:
    capacity: int


@dataclass(frozen=True)
class Tick:
    """No change; lets the clock roll the day over when nothing else happens."""


Command = (
    IssueTicket
    | IssueRemote
    | CheckIn
    | Rejoin
    | CancelTicket
    | CallNext
    | CallNumber
    | Recall
    | Serve
    | Finish
    | NoShow
    | Transfer
    | Undo
    | OpenCounter
    | CloseCounter
    | DoorEnter
    | DoorExit
    | SetCapacity
    | Tick
)
