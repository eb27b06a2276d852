"""Tickets for later days (api-remote bookings) and the server's own secrets.

A booked ticket is an ordinary tickets row with the day it is for and status
`booked`; its number is already that day's (bookings take the day's first
numbers). At start the engine hands the bookings of later days to the rules,
which turn them into that day's `remote` tickets when it begins.
"""

from __future__ import annotations

import secrets
import sqlite3

from queue_server.domain.tickets import Ticket
from queue_server.store.rows import SELECT_TICKETS, ticket_from_row


def later_bookings(conn: sqlite3.Connection, day: str) -> list[Ticket]:
    """Booked tickets of days after `day` (and of `day` itself, if it has not started yet)."""
    rows = conn.execute(f"{SELECT_TICKETS} WHERE status = 'booked' AND day >= ? ORDER BY id", (day,))
    return [ticket_from_row(r) for r in rows]


def secret(conn: sqlite3.Connection, name: str) -> str:
    """A server secret (hex), made on first use and kept in the database (e.g. the NIK hash key)."""
    row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
    if row:
        return str(row[0])
    conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, secrets.token_hex(32)))
    row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
    return str(row[0])
