"""Why the engine could not take a command right now (the web answers 503 with Retry-After)."""

from __future__ import annotations


class Unavailable(Exception):
    """The office is stopping or could not write to disk; try again shortly."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
