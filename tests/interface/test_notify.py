"""[notify] through the public interface: a real uvicorn posts "come now" and "called" messages to a
local gateway that fails, goes away and comes back; every message arrives once, signed, even across
a kill -9 between the message's commit and its sending."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.interface.helpers import Json, Office
from tests.support.receiver import Receiver
from tests.support.server import ROLE_ACCOUNTS, ServerProcess

SECRET = "rahasia-gerbang-pesan-0123456789"
GATEWAY_KEY = "kunci-api-gerbang-42"  # gateways often take their API key in the URL
PHONES = {"first": "0812-3456-7001", "second": "+62 812 3456 7002", "walk_in": "081234567003"}


def notify_office(url: str) -> str:
    return f"""
[office]
name = "Kantor Uji"
timezone = "Asia/Makassar"
language = "id"
capacity = 100

[remote]
enabled = true
come_now_position = 1
lead_minutes = 0

[notify]
url = "{url}"
secret = "{SECRET}"
first_retry_seconds = 0.05
max_retry_seconds = 0.3

[notify.templates.id]
come_now = "{{office}}: {{number}} silakan datang sekarang"

[[services]]
id = "a"
name = "Layanan A"
prefix = "A"
remote_quota = 50

[[counters]]
id = "1"
name = "Loket 1"
services = ["a"]
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    gateway = Receiver(SECRET).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def server(tmp_path: Path, accounts_db: Path, receiver: Receiver) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "server", notify_office(f"{receiver.url}?key={GATEWAY_KEY}"))
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    yield proc
    proc.stop()


def issue(office: Office, body: Json) -> Json:
    resp = office.http.post("/tickets", json=body, headers=office.door)
    assert resp.status_code == 201, resp.text
    ticket: Json = resp.json()
    return ticket


def health(server: ServerProcess) -> Json:
    resp = httpx.get(server.base_url + "/healthz")
    assert resp.status_code == 200, resp.text
    body: Json = resp.json()
    return body


def outbox(server: ServerProcess) -> list[dict[str, Any]]:
    conn = sqlite3.connect(server.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY rowid")]
    finally:
        conn.close()


def test_every_message_arrives_once_through_failures_and_a_kill(
    server: ServerProcess, receiver: Receiver
) -> None:
    receiver.fail_next = 2  # the gateway answers 500 twice first
    office = Office(server)
    walk_in = issue(office, {"service": "a", "phone": PHONES["walk_in"]})
    first = issue(office, {"service": "a", "remote": True, "phone": PHONES["first"]})  # 1 ahead: come now
    second = issue(office, {"service": "a", "remote": True, "phone": PHONES["second"]})  # 2 ahead: not yet
    issue(office, {"service": "a", "remote": True})  # no phone: never a message
    assert (first["come_now"], second["come_now"]) == (True, False)

    office.call_next_ok("1")  # the walk-in: called; the second remote ticket is now 1 ahead
    assert office.http.post(f"/tickets/{first['token']}/check-in", headers=office.door).status_code == 200
    office.step_ok("1", "finish")
    office.call_next_ok("1")  # the first remote ticket, checked in
    receiver.wait_for(4)
    assert [r.status for r in receiver.requests[:2]] == [500, 500]

    # The gateway goes down (connections refused); a call is committed with its message, and the
    # server is killed before it could send it.
    receiver.stop()
    assert office.http.post(f"/tickets/{second['token']}/check-in", headers=office.door).status_code == 200
    office.step_ok("1", "finish")
    called = office.call_next_ok("1")
    assert called["number"] == second["number"]
    assert health(server)["notify"]["pending"] == 1
    server.kill()
    office.close()
    assert [r["status"] for r in outbox(server)][-1] == "pending"

    receiver.start()
    server.start()
    accepted = receiver.wait_for(5)
    time.sleep(1.0)  # longer than the longest backoff: a second copy would have come by now

    got = sorted((m.body["kind"], m.body["ticket"]["number"], m.body["to"]) for m in accepted)
    assert got == sorted(
        [
            ("called", walk_in["number"], "+6281234567003"),
            ("come_now", first["number"], "+6281234567001"),
            ("come_now", second["number"], "+6281234567002"),
            ("called", first["number"], "+6281234567001"),
            ("called", second["number"], "+6281234567002"),
        ]
    )
    assert receiver.repeats == [] and receiver.bad_signatures == 0
    come_now = next(m for m in accepted if m.body["kind"] == "come_now")
    assert come_now.body["text"] == f"Kantor Uji: {come_now.body['ticket']['number']} silakan datang sekarang"
    assert all(m.headers["idempotency-key"] == m.id for m in accepted)

    rows = outbox(server)
    assert [r["status"] for r in rows] == ["sent"] * 5 and all(r["phone"] is None for r in rows)
    tries = {r["id"]: r["attempts"] for r in rows}
    requests = {m: sum(1 for r in receiver.requests if r.id == m) for m in tries}
    # Every request the gateway saw is an attempt the server counted (refused connections are
    # attempts the gateway never saw): five accepted copies and the two 500s, nothing else.
    assert all(requests[m] <= tries[m] for m in tries) and sum(requests.values()) == len(receiver.requests)
    assert len(receiver.requests) == 5 + 2
    assert health(server)["notify"] == {"pending": 0, "sent": 5, "failed": 0, "expired": 0}
    log = server.log_text()
    assert not any(p[-4:] + "\n" in log or p.replace(" ", "")[-8:] in log for p in PHONES.values())
    assert GATEWAY_KEY not in log and "sent" in log  # outcomes are logged by message id, not URL
    assert "Traceback" not in log, log[-3000:]
