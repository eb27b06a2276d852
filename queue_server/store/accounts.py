"""Accounts, sessions and paired kiosks on disk (the engine hashes; this only stores hashes)."""

from __future__ import annotations

import sqlite3

from queue_server.store.db import transaction


def upsert_user(conn: sqlite3.Connection, username: str, role: str, password_hash: str, now: str) -> None:
    transaction(
        conn,
        lambda c: c.execute(
            "INSERT INTO users (username, role, password_hash, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET "
            "role = excluded.role, password_hash = excluded.password_hash, "
            "updated_at = excluded.updated_at",
            (username, role, password_hash, now, now),
        ),
    )


def user(conn: sqlite3.Connection, username: str) -> tuple[str, str] | None:
    """(role, password hash) of an account."""
    # A disabled account cannot log in (it looks like an unknown one).
    row = conn.execute(
        "SELECT role, password_hash FROM users WHERE username = ? AND NOT disabled", (username,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def add_session(
    conn: sqlite3.Connection, token_hash: str, username: str, now: float, expires_at: float
) -> None:
    transaction(
        conn,
        lambda c: c.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (token_hash, username, now, expires_at),
        ),
    )


def session(conn: sqlite3.Connection, token_hash: str, now: float) -> tuple[str, str] | None:
    """(username, role) of a live session; the role is read fresh so a demotion takes effect."""
    row = conn.execute(
        "SELECT s.username, u.role FROM sessions s JOIN users u ON u.username = s.username "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND NOT u.disabled",
        (token_hash, now),
    ).fetchone()
    return (row[0], row[1]) if row else None


def delete_session(conn: sqlite3.Connection, token_hash: str) -> None:
    transaction(conn, lambda c: c.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)))


def purge_sessions(conn: sqlite3.Connection, now: float) -> None:
    transaction(conn, lambda c: c.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)))


def pair_kiosk(conn: sqlite3.Connection, name: str, token_hash: str, now: str, by: str) -> None:
    """Pair (or re-pair, with a new token) a kiosk device."""
    transaction(
        conn,
        lambda c: c.execute(
            "INSERT OR REPLACE INTO kiosks (name, token_hash, created_at, created_by) VALUES (?, ?, ?, ?)",
            (name, token_hash, now, by),
        ),
    )


def kiosk_by_token_hash(conn: sqlite3.Connection, token_hash: str) -> str | None:
    row = conn.execute("SELECT name FROM kiosks WHERE token_hash = ?", (token_hash,)).fetchone()
    return row[0] if row else None


def kiosks(conn: sqlite3.Connection) -> list[dict[str, str]]:
    return [
        {"name": r[0], "paired_at": r[1], "paired_by": r[2]}
        for r in conn.execute("SELECT name, created_at, created_by FROM kiosks ORDER BY name")
    ]


def unpair_kiosk(conn: sqlite3.Connection, name: str) -> bool:
    cursor = transaction(conn, lambda c: c.execute("DELETE FROM kiosks WHERE name = ?", (name,)))
    return cursor.rowcount > 0
