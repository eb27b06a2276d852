"""The schema as ordered, named migrations, applied under one write lock and recorded in `schema_version`."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

import sqlite_utils

log = logging.getLogger(__name__)


def _initial_schema(db: sqlite_utils.Database) -> None:
    db.table("office_state").create(
        {
            "id": int,
            "day": str,
            "seq": int,
            "capacity": int,
            "config_capacity": int,
            "door_count": int,
            "config_json": str,
        },
        pk="id",
    )
    tickets = db.table("tickets")
    tickets.create(
        {
            "id": int,
            "day": str,
            "service": str,
            "sequence": int,
            "number": str,
            "party_size": int,
            "issued_at": str,
            "status": str,
            "token_hash": str,
            "issued_service": str,
            "origin": str,
            "counter": str,
            "officer": str,
            "admitted_at": str,
            "called_at": str,
            "recalled_at": str,
            "serving_at": str,
            "finished_at": str,
            "recalls": int,
            "transfers": int,
        },
        pk="id",
        not_null={"day", "service", "number", "status", "token_hash"},
    )
    tickets.create_index(["token_hash"], unique=True)
    tickets.create_index(["day", "issued_service", "sequence"], unique=True)
    db.table("counters").create({"id": str, "open": int, "reason": str}, pk="id")
    db.table("events").create({"seq": int, "type": str, "at": str, "body": str}, pk="seq")
    db.table("idempotency").create(
        {"scope": str, "key": str, "created_at": float, "status": int, "body": str},
        pk=("scope", "key"),
    )
    db.table("users").create(
        {"username": str, "role": str, "password_hash": str, "created_at": str, "updated_at": str},
        pk="username",
    )
    db.table("sessions").create(
        {"token_hash": str, "username": str, "created_at": float, "expires_at": float},
        pk="token_hash",
    )


def _paired_kiosks(db: sqlite_utils.Database) -> None:
    kiosks = db.table("kiosks")
    kiosks.create({"name": str, "token_hash": str, "created_at": str, "created_by": str}, pk="name")
    kiosks.create_index(["token_hash"], unique=True)


def _events_by_type(db: sqlite_utils.Database) -> None:
    db.table("events").create_index(["type", "seq"])


def _typed_idempotency(db: sqlite_utils.Database) -> None:
    # Records used to hold an HTTP status and body; they now hold the engine's typed
    # result (the web turns it into HTTP). Old records are at most 48 hours of retries.
    db.execute("DELETE FROM idempotency")


def _audit(db: sqlite_utils.Database) -> None:
    audit = db.table("audit")
    audit.create(
        {
            "id": int,
            "at": str,
            "day": str,
            "user": str,
            "action": str,
            "target": str,
            "detail": str,
            "first_seq": int,
            "last_seq": int,
        },
        pk="id",
        not_null={"at", "day", "user", "action"},
    )
    audit.create_index(["day"])
    audit.create_index(["first_seq"])


def _surveys(db: sqlite_utils.Database) -> None:
    # One answer per ticket (the primary key refuses a second); the rest is what reports
    # need and no more: service, counter and the local day the ticket was finished.
    surveys = db.table("surveys")
    columns: dict[str, type] = {"ticket_id": int, "day": str, "service": str, "counter": str, "rating": int}
    columns |= {f"u{i}": int for i in range(1, 10)}
    columns |= {"comment": str, "answered_at": str}
    surveys.create(columns, pk="ticket_id", not_null={"day", "service"})
    # The IKM reads a range of days, optionally one service or counter.
    surveys.create_index(["day", "service", "counter"])
    # Reports load a day's tickets by day and finished_at for a counter's latest done ticket.
    db.table("tickets").create_index(["counter", "status", "finished_at"])


def _office_settings(db: sqlite_utils.Database) -> None:
    # The office's configuration after the first start (the TOML only seeds it), and
    # accounts an admin can disable without deleting their audit trail.
    db.table("settings").create({"key": str, "value": str, "updated_at": str}, pk="key")
    db.table("users").add_column("disabled", int, not_null_default=0)


def _report_indexes(db: sqlite_utils.Database) -> None:
    # Reports count a period's tickets per day and service (issued, cancelled) and per
    # hour (arrivals): with status and issued_at in the index, SQLite reads only the index.
    db.table("tickets").create_index(["day", "issued_service", "status", "issued_at"])


def _remote_tickets(db: sqlite_utils.Database) -> None:
    # api-remote: the queue order key (place; 0 for older rows keeps their id order), priority,
    # rejoin, check-in, route steps, and the keyed hashes the remote limits need (never a NIK).
    tickets = db.table("tickets")
    for name, kind in (("place", int), ("rejoined", int)):
        tickets.add_column(name, kind, not_null_default=0)
    tickets.add_column("route_before", str, not_null_default="")
    tickets.add_column("holder", str, not_null_default="")
    for text in ("priority", "checked_in_at", "nik_hash"):
        tickets.add_column(text, str)
    tickets.add_column("no_show_mark", int)
    # Bookings of later days are loaded at start; remote limits look NIK hashes up.
    tickets.create_index(["status", "day"])
    # Per service and day: calls made (the rejoin window) and the priority run (the fairness bound).
    db.table("office_state").add_column("counts_json", str)
    # Phone numbers for the "come now" message: their own table, never in events or exports,
    # deleted once the ticket's day is over (contacts.py; UU 27/2022 on personal data).
    db.table("contacts").create({"ticket_id": int, "day": str, "phone": str}, pk="ticket_id")
    db.table("contacts").create_index(["day"])
    # Server secrets (the NIK hash key), made on first use.
    db.table("secrets").create({"name": str, "value": str}, pk="name")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("initial schema", _initial_schema),
    ("paired kiosks", _paired_kiosks),
    ("events by type", _events_by_type),
    ("typed idempotency results", _typed_idempotency),
    ("audit trail", _audit),
    ("satisfaction surveys", _surveys),
    ("office settings and disabled accounts", _office_settings),
    ("report indexes", _report_indexes),
    ("remote tickets, priority, rejoin and routes", _remote_tickets),
]


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations not yet recorded, under one write lock.

    BEGIN IMMEDIATE makes a second process (say, two `user add` at once on a
    new database) wait for the first instead of migrating at the same time.
    """
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
        for version, (name, migration) in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            with db.atomic():  # a savepoint inside our transaction
                migration(db)
                conn.execute("INSERT INTO schema_version VALUES (?, ?, datetime('now'))", (version, name))
            log.info("database migrated to version %d (%s)", version, name)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def schema_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)
