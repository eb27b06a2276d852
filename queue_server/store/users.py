"""Accounts as the admin manages them: list, create, update, with the audit row in the same transaction.

Disabling an account or changing its password deletes its sessions in that
transaction, so its tokens stop working from the next request.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from queue_server.store.day import AuditRow
from queue_server.store.db import transaction

_AUDIT_COLUMNS = "at, day, user, action, target, detail, first_seq, last_seq"
AUDIT_INSERT = f"INSERT INTO audit ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        {"username": r[0], "role": r[1], "disabled": bool(r[2])}
        for r in conn.execute("SELECT username, role, disabled FROM users ORDER BY username")
    ]


def create_user(
    conn: sqlite3.Connection, username: str, role: str, password_hash: str, now: str, audit: AuditRow
) -> bool:
    """False when the name is taken (nothing written)."""

    def run(c: sqlite3.Connection) -> bool:
        if c.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            return False
        c.execute(
            "INSERT INTO users (username, role, password_hash, created_at, updated_at, disabled) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (username, role, password_hash, now, now),
        )
        c.execute(AUDIT_INSERT, audit)
        return True

    return transaction(conn, run)


def update_user(
    conn: sqlite3.Connection,
    username: str,
    changes: dict[str, Any],
    now: str,
    audit: AuditRow,
) -> dict[str, Any] | None:
    """Apply `changes` (role, password_hash, disabled); the account after, or None if unknown."""

    def run(c: sqlite3.Connection) -> dict[str, Any] | None:
        if not c.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            return None
        for column in ("role", "password_hash", "disabled"):
            if column in changes:
                c.execute(
                    f"UPDATE users SET {column} = ?, updated_at = ? WHERE username = ?",
                    (changes[column], now, username),
                )
        if changes.get("disabled") or "password_hash" in changes:
            c.execute("DELETE FROM sessions WHERE username = ?", (username,))
        c.execute(AUDIT_INSERT, audit)
        row = c.execute(
            "SELECT username, role, disabled FROM users WHERE username = ?", (username,)
        ).fetchone()
        return {"username": row[0], "role": row[1], "disabled": bool(row[2])}

    return transaction(conn, run)


def add_audit(conn: sqlite3.Connection, audit: AuditRow) -> None:
    transaction(conn, lambda c: c.execute(AUDIT_INSERT, audit))
