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
