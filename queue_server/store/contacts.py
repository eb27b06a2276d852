"""Visitors' phone numbers, kept apart from everything else (api-remote; UU 27/2022 on personal data).

A phone number given with a remote ticket is stored here, keyed by the ticket,
and nowhere else: not in the ticket row, not in an event, not in an export or a
log. It is deleted once the ticket's day is over (`purge_before`, run by the
engine at each day's start). `phone_of` is the one lookup, for the outbound
"come now" / "called" message of the notify branch.
"""

from __future__ import annotations

import sqlite3

ContactRow = tuple[int, str, str]
"""(ticket id, the ticket's local day, phone in +62... form)."""


def save(conn: sqlite3.Connection, rows: list[ContactRow]) -> None:
    """Inside the caller's transaction (the batch that issues the ticket)."""
    conn.executemany("INSERT OR REPLACE INTO contacts (ticket_id, day, phone) VALUES (?, ?, ?)", rows)


def phone_of(conn: sqlite3.Connection, ticket_id: int) -> str | None:
    """The phone number given with this ticket (+62... form), or None (none given, or its day is over)."""
    row = conn.execute("SELECT phone FROM contacts WHERE ticket_id = ?", (ticket_id,)).fetchone()
    return str(row[0]) if row else None


def purge_before(conn: sqlite3.Connection, day: str) -> int:
    """Delete the numbers of tickets whose day is before `day`; how many went."""
    return conn.execute("DELETE FROM contacts WHERE day < ?", (day,)).rowcount
