"""The commands the office accepts; each is applied by `domain.office.Office.handle`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssueTicket:
    service: str
    party_size: int
    token_hash: str
    origin: str = "web"  # web | kiosk | door: who issued it, for reports


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
