"""Which events send a message to the visitor's phone, and its text (`[notify]`, issue 11).

Pure rules: the engine turns each `Message` into an outbox row inside the same
batch as the events that caused it, and the store keeps it only when the
ticket has a phone number (the phone itself never passes through here).

- `called`: every `ticket.called` and every `ticket.recalled` (an officer recalls
  because the visitor did not come; the phone is the likeliest way to reach them),
  one message per event, keyed by the event's seq.
- `come_now`: once per ticket, when a remote ticket's view first says
  `come_now` (api-remote); keyed by seq 0, so the outbox's unique key
  (ticket, kind, seq) allows one whatever happens later.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from queue_server.domain import events as ev
from queue_server.domain.settings import NOTIFY_PLACEHOLDERS, NotifyConfig
from queue_server.domain.state import OfficeState
from queue_server.domain.tickets import Status

COME_NOW_SEQ = 0
"""The event seq of a come-now message: one per ticket, whatever event made it true."""


class TemplateError(ValueError):
    """A message template cannot be used (the message says why)."""


@dataclass(frozen=True)
class Message:
    """One message to be sent: the outbox's row, less the phone and the delivery state."""

    ticket_id: int
    kind: str  # "come_now" | "called"
    event_seq: int
    day: str
    at: str
    payload: dict[str, Any]


def check_template(text: str) -> None:
    """Refuse a template with an unknown placeholder, an attribute or index, or a broken brace."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"not a valid template ({exc})") from exc
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in NOTIFY_PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in NOTIFY_PLACEHOLDERS)
            raise TemplateError(f"unknown placeholder {{{name}}}; use {allowed}")
        if spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} takes no format or conversion")
    if not text.strip():
        raise TemplateError("must not be empty")


def render(template: str, values: dict[str, str]) -> str:
    """The template with its placeholders filled (templates are checked when the config is read)."""
    return template.format_map({p: values.get(p, "") for p in NOTIFY_PLACEHOLDERS})


class Planner:
    """Turns a batch's events (and the state after them) into the messages they cause."""

    def __init__(self, config: NotifyConfig, office_name: str, office_language: str) -> None:
        self.config = config
        self.office_name = office_name
        self.language = config.language or office_language
        self.come_now_done: set[int] = set()  # tickets whose come-now message exists (or was planned)

    def messages(self, state: OfficeState, events: Iterable[ev.Event], now: str) -> list[Message]:
        """The batch's messages; `now` stamps a come-now message that no event of its own caused."""
        if not self.config.enabled:
            return []
        planned: list[Message] = []
        for event in events:
            if isinstance(event, ev.DayStarted):
                self.come_now_done.clear()  # yesterday's tickets are gone from the state
            elif isinstance(event, (ev.TicketCalled, ev.TicketRecalled)):
                planned.append(self._message(state, "called", event.seq, event.at, event.ticket_view))
        planned += self._come_now(state, now)
        return planned

    def _come_now(self, state: OfficeState, at: str) -> list[Message]:
        planned: list[Message] = []
        if not state.remote_policy.enabled:
            return planned  # no remote tickets: skip the walk over the day's tickets
        for ticket in state.tickets.values():
            if ticket.status != Status.REMOTE or ticket.id in self.come_now_done:
                continue
            view = state.view(ticket)
            if view.get("come_now") is True:
                self.come_now_done.add(ticket.id)
                planned.append(self._message(state, "come_now", COME_NOW_SEQ, at, view))
        return planned

    def _message(self, state: OfficeState, kind: str, seq: int, at: str, view: ev.TicketView) -> Message:
        service = state.services.get(view["service"])
        counter = state.counters.get(view.get("counter") or "")
        values = {
            "number": str(view["number"]),
            "service": service.name if service else str(view["service"]),
            "counter": counter.name if counter else "",
            "office": self.office_name,
        }
        text = render(self.config.template(self.language, kind), values)
        payload: dict[str, Any] = {
            "kind": kind,
            "language": self.language,
            "text": text,
            "office": self.office_name,
            "ticket": {
                "number": values["number"],
                "service": view["service"],
                "service_name": values["service"],
                "counter": counter.id if counter else None,
                "counter_name": values["counter"] or None,
            },
            "event_seq": seq,
            "at": at,
        }
        return Message(int(view["id"]), kind, seq, state.day, at, payload)
