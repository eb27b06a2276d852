"""Why a command is refused: a small typed hierarchy, each error carrying its api-v1 code.

The web layer maps the class to an HTTP status (NotFound 404, Invalid 422,
Conflict 409); the rules never think in statuses. `details` are facts a screen
may use to say exactly what happened (a ticket's status, its counter, a time).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command the rules refuse, before anything changed."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The command names a service, ticket or counter that does not exist."""


class Invalid(DomainError):
    """A value in the command is out of its allowed range."""


class Conflict(DomainError):
    """The command does not fit the current state (a ticket's status, a closed counter, a full office)."""


class Limited(DomainError):
    """Too many of something for one visitor (api-remote's active tickets per device); HTTP 429."""


CODES: dict[str, type[DomainError]] = {
    "unknown_service": NotFound,
    "unknown_ticket": NotFound,
    "unknown_counter": NotFound,
    "unknown_ticket_number": NotFound,
    "invalid_party_size": Invalid,
    "invalid_capacity": Invalid,
    "invalid_count": Invalid,
    "ticket_not_cancellable": Conflict,
    "counter_closed": Conflict,
    "no_current_ticket": Conflict,
    "ticket_not_current": Conflict,
    "invalid_transition": Conflict,
    "occupancy_below_zero": Conflict,
    "capacity_full": Conflict,
    "service_not_served": Conflict,
    "nothing_to_undo": Conflict,
    "service_closed": Conflict,
    "office_closed": Conflict,
    "service_exists": Conflict,
    "prefix_taken": Conflict,
    "counter_exists": Conflict,
    "invalid_request": Invalid,
    "invalid_survey": Invalid,
    "ticket_not_finished": Conflict,
    "survey_already_answered": Conflict,
    "remote_disabled": Conflict,
    "remote_quota_reached": Conflict,
    "invalid_date": Invalid,
    "invalid_nik": Invalid,
    "nik_required": Invalid,
    "nik_has_active_ticket": Conflict,
    "invalid_phone": Invalid,
    "too_many_active": Limited,
    "unknown_priority": Invalid,
    "not_remote": Conflict,
    "booked_for_another_day": Conflict,
    "rejoin_not_allowed": Conflict,
}
"""Every code the rules refuse with, and its kind (tests/domain/test_error_codes.py keeps this complete)."""
