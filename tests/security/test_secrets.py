"""Passwords and tokens never reach the server's log, the events table or the office's screens.

A server runs a small office day (logins right and wrong, tickets from the web,
a kiosk and the door, phones following them, counters calling), then its log
file, its events table and the whole database are searched for every secret
that went over the wire.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.security.helpers import (
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_from_page,
    database,
    token_hash,
)
from tests.support.server import HOST, ROLE_ACCOUNTS, ServerProcess, office_toml, server_env

PASSWORD = f"Rahasia-{uuid.uuid4().hex}"
WRONG_PASSWORD = f"{PASSWORD}-typo"  # a typo of the real one: logging failures would leak it


class VerboseServer(ServerProcess):
    """The same server started as an operator debugging it would: every request and debug logs."""

    def _spawn(self) -> None:
        """Start `serve` with --access-log and --log-level debug added."""
        # ServerProcess has no hook for extra `serve` options; this repeats its spawn with two more.
        self._log_file = self.log_path.open("ab")
        cmd = [
            sys.executable, "-m", "queue_server", "serve",
            "--config", str(self.config_path), "--db", str(self.db_path),
            "--host", HOST, "--port", str(self.port),
            "--access-log", "--log-level", "debug",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=server_env(self.extra_env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class Secrets:
    """Everything secret that went over the wire during the day."""

    passwords: list[str] = field(default_factory=lambda: [PASSWORD, WRONG_PASSWORD])
    sessions: list[str] = field(default_factory=list)  # bearer tokens and session cookies
    csrf: list[str] = field(default_factory=list)
    kiosks: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)

    def named(self) -> dict[str, list[str]]:
        """The secrets by kind, for readable failures."""
        return {
            "password": self.passwords,
            "session token": self.sessions,
            "CSRF token": self.csrf,
            "kiosk token": self.kiosks,
            "ticket token": self.tickets,
            "ticket token hash": [token_hash(t) for t in self.tickets],
        }


def office_day(server: ServerProcess) -> Secrets:
    """Drive a short office day through every way in, keeping each secret used."""
    secrets = Secrets()
    server.add_user("rahasia", "admin", PASSWORD)
    with httpx.Client(base_url=server.base_url, timeout=20, follow_redirects=False) as http:
        # Wrong, then right: over the API and over the form.
        http.post("/api/v1/login", json={"username": "rahasia", "password": WRONG_PASSWORD})
        http.post(
            "/login",
            data={"username": "rahasia", "password": WRONG_PASSWORD},
            headers={"Origin": server.base_url},
        )
        logged_in = http.post("/api/v1/login", json={"username": "rahasia", "password": PASSWORD})
        bearer = logged_in.json()["token"]
        secrets.sessions.append(bearer)
        form = http.post(
            "/login", data={"username": "rahasia", "password": PASSWORD}, headers={"Origin": server.base_url}
        )
        cookie = form.cookies[SESSION_COOKIE]
        secrets.sessions.append(cookie)
        http.cookies.clear()
        jar = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
        csrf = csrf_from_page(http.get("/counter/1", headers=jar).text)
        secrets.csrf.append(csrf)
        admin = {"Authorization": f"Bearer {bearer}"}
        # Kiosks: one paired over the API (and its link opened), one with the command line.
        paired = http.post("/api/v1/kiosks", json={"name": "kios-1"}, headers=admin).json()
        secrets.kiosks.append(paired["token"])
        http.get(paired["pair_url"])
        http.cookies.clear()
        done = server.cli("kiosk", "pair", "kios-2", "--db", str(server.db_path))
        cli_token = done.stdout.strip().rsplit("token=", 1)[-1]
        secrets.kiosks.append(cli_token)
        # Tickets from the web, from both kiosks, from the door (with Idempotency-Key) and by cookie.
        sources: list[dict[str, str]] = [
            {},
            {"X-Kiosk-Token": paired["token"]},
            {"X-Kiosk-Token": cli_token},
            {**admin, "Idempotency-Key": "pintu-1"},
            {**jar, CSRF_HEADER: csrf},
        ]
        for headers in sources:
            resp = http.post("/api/v1/tickets", json={"service": "a"}, headers=headers)
            assert resp.status_code == 201, resp.text
            secrets.tickets.append(resp.json()["token"])
        # Phones follow their tickets every way there is.
        for token in secrets.tickets:
            http.get(f"/api/v1/tickets/{token}")
            http.get(f"/t/{token}")
            http.get(f"/t/{token}/qr.svg")
        asyncio.run(follow_on_sockets(server, secrets.tickets))
        http.post(f"/api/v1/tickets/{secrets.tickets[0]}/print")
        http.delete(f"/api/v1/tickets/{secrets.tickets[-1]}")
        # Counters work through the queue, with the bearer and with the cookie.
        for _ in range(2):
            http.post("/api/v1/counters/1/call-next", headers=admin)
            http.post("/api/v1/counters/1/serve", headers={**jar, CSRF_HEADER: csrf})
            http.post("/api/v1/counters/1/finish", headers=admin)
        http.post("/api/v1/logout", headers=admin)
        http.post("/logout", data={"csrf": csrf}, headers={**jar, "Origin": server.base_url})
    return secrets


async def follow_on_sockets(server: ServerProcess, tokens: list[str]) -> None:
    """Open each ticket's WebSocket and the display feed, read the first frame of each."""
    for path in ["/ws/display", *[f"/ws/tickets/{t}" for t in tokens]]:
        async with connect(server.ws_url + path, open_timeout=10) as ws:
            await asyncio.wait_for(ws.recv(), 10)


def leaks(text: str, secrets: Secrets) -> list[str]:
    """Which secrets occur in `text` (by kind, with a short prefix of the value)."""
    return [
        f"{kind} {value[:8]}..."
        for kind, values in secrets.named().items()
        for value in values
        if value in text
    ]


def table_rows(db_path: Path, table: str) -> str:
    """Every value of a table as text."""
    with sqlite3.connect(db_path) as db:
        rows = db.execute(f'SELECT * FROM "{table}"').fetchall()  # names come from sqlite_master
    return "\n".join(" | ".join(str(value) for value in row) for row in rows)


@pytest.fixture(scope="module", params=["default", "verbose"])
def day(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, accounts_db: Path
) -> Iterator[tuple[ServerProcess, Secrets]]:
    """A server that has run an office day: as started by default, and with access + debug logs."""
    kind = ServerProcess if request.param == "default" else VerboseServer
    server = kind(tmp_path_factory.mktemp(f"secrets-{request.param}"), office_toml())
    server.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    server.start()
    try:
        secrets = office_day(server)
    except BaseException:
        server.stop()
        raise
    yield server, secrets
    server.stop()


def test_the_log_holds_no_password_or_token(day: tuple[ServerProcess, Secrets]) -> None:
    """After a day of logins and tickets, no password or token appears in the server's log."""
    server, secrets = day
    server.stop()  # flush and close the log: everything it will ever say about this day
    log = server.log_text()
    assert "POST /api/v1/login" in log or "uvicorn" in log, "the log file is empty: nothing was checked"
    found = leaks(log, secrets)
    assert not found, f"secrets in {server.log_path}: {found}"


def test_the_events_hold_no_token(day: tuple[ServerProcess, Secrets]) -> None:
    """The events table (what every screen receives) holds no token, token hash or password."""
    server, secrets = day
    with database(server) as db:
        count = db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert count >= 10, "the day made too few events to prove anything"
    found = leaks(table_rows(server.db_path, "events"), secrets)
    assert not found, f"secrets in the events table: {found}"


def test_screens_are_not_told_which_officer_served(day: tuple[ServerProcess, Secrets]) -> None:
    """Events go to lobby screens and phones: no staff name; the tickets table keeps it for reports."""
    server, _ = day
    with database(server) as db:
        officers = {row[0] for row in db.execute("SELECT officer FROM tickets WHERE officer IS NOT NULL")}
    assert officers, "no ticket was called by a logged-in officer: nothing was checked"
    events = table_rows(server.db_path, "events")
    assert not [name for name in officers if f'"{name}"' in events], "a staff account name is in the events"


def test_the_database_keeps_only_hashes_of_passwords_and_sessions(day: tuple[ServerProcess, Secrets]) -> None:
    """No table holds a password, a session, CSRF or kiosk token; ticket tokens only as hashes."""
    server, secrets = day
    with database(server) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        text = table_rows(server.db_path, table)
        found = [
            leak
            for leak in leaks(text, secrets)
            # A ticket's hash is how the server finds it. The idempotency table keeps the first
            # answer (with its token) for 48 h, so a repeated issue returns the same ticket.
            if not leak.startswith("ticket token hash")
            and not (table == "idempotency" and leak.startswith("ticket token"))
        ]
        assert not found, f"secrets in table {table}: {found}"
