"""Survey answers on disk: one row per ticket, anonymous (no token, no number, no officer)."""

from __future__ import annotations

import sqlite3
from typing import Any

ELEMENT_COLUMNS = tuple(f"u{i}" for i in range(1, 10))


class AlreadyAnswered(Exception):
    """The ticket has an answer already (the primary key refused a second row)."""


def insert(
    conn: sqlite3.Connection,
    ticket_id: int,
    day: str,
    service: str,
    counter: str | None,
    rating: int | None,
    elements: dict[str, int] | None,
    comment: str | None,
    answered_at: str,
) -> None:
    """Write one answer (on the writer connection); AlreadyAnswered if the ticket has one."""
    values = [elements[c] if elements else None for c in ELEMENT_COLUMNS]
    try:
        conn.execute(
            f"INSERT INTO surveys (ticket_id, day, service, counter, rating, {', '.join(ELEMENT_COLUMNS)}, "
            "comment, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, day, service, counter, rating, *values, comment, answered_at),
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadyAnswered(str(ticket_id)) from exc


def answered(conn: sqlite3.Connection, ticket_id: int) -> bool:
    return conn.execute("SELECT 1 FROM surveys WHERE ticket_id = ?", (ticket_id,)).fetchone() is not None


def insert_many(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Bulk rows (ticket_id, day, service, counter, rating, u1..u9, comment, answered_at): the generator."""
    conn.executemany(
        f"INSERT INTO surveys (ticket_id, day, service, counter, rating, {', '.join(ELEMENT_COLUMNS)}, "
        "comment, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
