"""`Store`: the engine's handle on one office's database (start-up loads, commits, reads, account writes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from queue_server.domain.tickets import Ticket
from queue_server.store import accounts, bookings, contacts, day, settings, users
from queue_server.store.day import AuditRow, Batch, IdempotencyRow, StoredOffice
from queue_server.store.db import Database
from queue_server.store.migrations import migrate, schema_version
from queue_server.wire import Envelope


class Store:
    def __init__(self, path: Path) -> None:
        self.db = Database(path)
        migrate(self.db.writer)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def schema_version(self) -> int:
        return schema_version(self.db.writer)

    def close(self) -> None:
        self.db.close()

    # ----- start-up (before the server takes work; blocking is fine here) ----------------

    def load(self, recent_events: int) -> StoredOffice:
        return day.load(self.db.reader(), recent_events)

    def settings(self) -> dict[str, Any] | None:
        """The office's configuration as the database holds it (None before the first start)."""
        return settings.load(self.db.reader())

    def secret(self, name: str) -> str:
        """A server secret kept in the database, made on first use (start-up only: it may write)."""
        return bookings.secret(self.db.writer, name)

    async def phone_of(self, ticket_id: int) -> str | None:
        """The phone number given with a ticket (+62... form), or None; off the loop (contacts.py)."""
        return await self.db.read(lambda conn: contacts.phone_of(conn, ticket_id))

    def day_history(self, limit: int) -> list[Envelope]:
        return day.day_history(self.db.reader(), limit)

    def idempotency_records(self, newer_than: float) -> list[IdempotencyRow]:
        return day.idempotency_records(self.db.reader(), newer_than)

    def commit_now(self, batch: Batch) -> None:
        """Commit on the caller's thread: only at start-up, before the writer thread has work."""
        day.commit(self.db.writer, batch)

    # ----- the writer thread ----------------------------------------------------------------

    async def commit(self, batch: Batch) -> None:
        await self.db.write(lambda conn: day.commit(conn, batch))

    async def purge_idempotency(self, older_than: float) -> None:
        await self.db.write(lambda conn: day.purge_idempotency(conn, older_than))

    async def upsert_user(self, username: str, role: str, password_hash: str, now: str) -> None:
        await self.db.write(lambda conn: accounts.upsert_user(conn, username, role, password_hash, now))

    async def add_session(self, token_hash: str, username: str, now: float, expires_at: float) -> None:
        await self.db.write(lambda conn: accounts.add_session(conn, token_hash, username, now, expires_at))

    async def delete_session(self, token_hash: str) -> None:
        await self.db.write(lambda conn: accounts.delete_session(conn, token_hash))

    async def purge_sessions(self, now: float) -> None:
        await self.db.write(lambda conn: accounts.purge_sessions(conn, now))

    async def pair_kiosk(self, name: str, token_hash: str, now: str, by: str) -> None:
        await self.db.write(lambda conn: accounts.pair_kiosk(conn, name, token_hash, now, by))

    async def unpair_kiosk(self, name: str) -> bool:
        return await self.db.write(lambda conn: accounts.unpair_kiosk(conn, name))

    async def create_user(
        self, username: str, role: str, password_hash: str, now: str, audit: AuditRow
    ) -> bool:
        return await self.db.write(
            lambda conn: users.create_user(conn, username, role, password_hash, now, audit)
        )

    async def update_user(
        self, username: str, changes: dict[str, Any], now: str, audit: AuditRow
    ) -> dict[str, Any] | None:
        return await self.db.write(lambda conn: users.update_user(conn, username, changes, now, audit))

    async def add_audit(self, audit: AuditRow) -> None:
        await self.db.write(lambda conn: users.add_audit(conn, audit))

    # ----- reads, on the reader threads -------------------------------------------------------

    async def ticket_by_token_hash(self, token_hash: str) -> Ticket | None:
        return await self.db.read(lambda conn: day.ticket_by_token_hash(conn, token_hash))

    async def events_after(self, seq: int, limit: int) -> list[Envelope]:
        return await self.db.read(lambda conn: day.events_after(conn, seq, limit))

    async def user(self, username: str) -> tuple[str, str] | None:
        return await self.db.read(lambda conn: accounts.user(conn, username))

    async def session(self, token_hash: str, now: float) -> tuple[str, str] | None:
        return await self.db.read(lambda conn: accounts.session(conn, token_hash, now))

    async def kiosk_by_token_hash(self, token_hash: str) -> str | None:
        return await self.db.read(lambda conn: accounts.kiosk_by_token_hash(conn, token_hash))

    async def audit(self, first_day: str, last_day: str) -> list[dict[str, Any]]:
        return await self.db.read(lambda conn: day.audit_entries(conn, first_day, last_day))

    async def users(self) -> list[dict[str, Any]]:
        return await self.db.read(users.users)

    async def tickets_of_day(self, day_: str) -> list[Ticket]:
        return await self.db.read(lambda conn: day.tickets_of_day(conn, day_))

    async def kiosks(self) -> list[dict[str, str]]:
        return await self.db.read(accounts.kiosks)
