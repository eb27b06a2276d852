"""The outbox and its sender, in process on a real SQLite file, against a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from queue_server.bus.hub import Hub
from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.engine import notify
from queue_server.engine.errors import Unavailable
from queue_server.engine.results import TicketResult
from queue_server.engine.service import OfficeService
from queue_server.store import Store
from queue_server.store.outbox import Due
from tests.engine.test_durability import START, Clock
from tests.support.receiver import Receiver
from tests.support.server import SMALL_OFFICE_TOML

SECRET = "rahasia-gerbang-pesan-0123456789"


def notify_toml(url: str, *, secret: str | None = SECRET, extra: str = "") -> str:
    lines = ["", "[notify]", f'url = "{url}"', "first_retry_seconds = 0.05", "max_retry_seconds = 0.2"]
    if secret is not None:
        lines.append(f'secret = "{secret}"')
    return SMALL_OFFICE_TOML + "\n".join(lines) + "\n" + extra + "\n"


class Phones:
    """Where the store finds a ticket's phone: the contacts table's lookup, given as a function."""

    def __init__(self) -> None:
        self.by_ticket: dict[int, str] = {}
        self.broken = False

    def __call__(self, conn: sqlite3.Connection, ticket_id: int) -> str | None:
        if self.broken:
            raise sqlite3.OperationalError("disk I/O error")
        return self.by_ticket.get(ticket_id)


async def started(db: Path, toml: str, phones: Phones, clock: Clock | None = None) -> OfficeService:
    service = OfficeService(parse_config(toml), Store(db, outbox_phone=phones), Hub(), clock or Clock())
    await service.start()
    return service


async def stopped(service: OfficeService) -> None:
    await service.stop()
    service.store.close()


def rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM outbox ORDER BY rowid")]
    finally:
        conn.close()


async def issue(service: OfficeService, service_id: str = "a") -> int:
    result = await service.execute(cmd.IssueTicket(service_id, 1, f"hash-{service.seq}"))
    assert isinstance(result, TicketResult)
    return int(result.ticket["id"])


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    gateway = Receiver(SECRET).start()
    yield gateway
    gateway.stop()


# ----- the pure parts ---------------------------------------------------------------------------


def test_signature_is_the_hmac_of_the_raw_body() -> None:
    body = b'{"id":"x"}'
    header = notify.sign("k" * 20, body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert notify.verify("k" * 20, body, header)
    assert not notify.verify("k" * 20, body + b" ", header)
    assert not notify.verify("j" * 20, body, header)


def test_backoff_doubles_up_to_the_ceiling_with_up_to_half_taken_off() -> None:
    assert [notify.backoff(n, 2, 300, lambda: 1.0) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert notify.backoff(20, 2, 300, lambda: 1.0) == 300
    assert notify.backoff(3, 2, 300, lambda: 0.0) == 4  # jitter takes off at most half
    delays = {notify.backoff(5, 2, 300) for _ in range(50)}
    assert len(delays) > 1 and all(16 <= d <= 32 for d in delays)


def test_the_body_is_the_same_bytes_on_every_attempt_and_carries_the_phone() -> None:
    row = Due("m1", 7, "called", "+628123456789", json.dumps({"kind": "called", "text": "A001"}), 0, 0.0)
    first, again = notify.body_of(row), notify.body_of(Due(**{**row.__dict__, "attempts": 3}))
    assert first == again
    assert json.loads(first) == {
        "id": "m1",
        "to": "+628123456789",
        "kind": "called",
        "text": "A001",
        "created_at": "1970-01-01T00:00:00+00:00",
    }


# ----- the engine ---------------------------------------------------------------------------------


async def test_a_call_sends_one_signed_message_to_a_ticket_with_a_phone(
    tmp_path: Path, receiver: Receiver
) -> None:
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    with_phone, without = await issue(service), await issue(service)
    phones.by_ticket[with_phone] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await service.execute(cmd.CallNext("2", "budi"))
    (message,) = await receiver.until(1)
    assert message.body["to"] == "+6281234567890"
    assert message.body["kind"] == "called"
    assert (
        message.body["text"]
        == "Kantor Uji: nomor antrean A001 (Layanan A) dipanggil. Silakan menuju Loket 1."
    )
    assert message.headers["idempotency-key"] == message.id
    assert int(message.headers["x-antre-timestamp"]) > 0
    assert receiver.bad_signatures == 0
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "sent")
    (row,) = rows(tmp_path / "q.db")  # the ticket without a phone got no row at all
    assert (row["ticket_id"], row["phone"], row["attempts"]) == (with_phone, None, 1)
    assert without not in {r["ticket_id"] for r in rows(tmp_path / "q.db")}
    await stopped(service)


async def test_a_failing_gateway_gets_the_same_message_until_it_accepts_it_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_next = 3
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await receiver.until(1)
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "sent")
    await asyncio.sleep(0.3)  # longer than the longest backoff: a second copy would have come by now
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200]
    assert len({r.raw for r in receiver.requests}) == 1  # the same bytes, the same id
    assert receiver.repeats == []
    assert rows(tmp_path / "q.db")[0]["attempts"] == 4
    assert service.notifier is not None and service.notifier.sent == 1
    await stopped(service)


async def test_unsent_messages_survive_a_restart_and_go_out_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.stop()  # the gateway (or the Wi-Fi) is down: connections are refused
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    for _ in range(3):
        phones.by_ticket[await issue(service)] = "+6281234567890"
    for counter in ("1", "2", "3"):
        await service.execute(cmd.CallNext(counter, "budi"))
    await eventually(lambda: rows(tmp_path / "q.db")[0]["attempts"] >= 1)
    await stopped(service)
    assert [r["status"] for r in rows(tmp_path / "q.db")] == ["pending"] * 3
    assert all(r["last_error"] == "ConnectError" for r in rows(tmp_path / "q.db")[:1])

    receiver.start()
    again = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    await receiver.until(3)
    await eventually(lambda: all(r["status"] == "sent" for r in rows(tmp_path / "q.db")))
    await asyncio.sleep(0.3)
    assert receiver.repeats == [] and len(receiver.requests) == 3
    assert [r["phone"] for r in rows(tmp_path / "q.db")] == [None] * 3
    await stopped(again)


async def test_a_message_and_its_event_are_committed_together_or_not_at_all(
    tmp_path: Path, receiver: Receiver
) -> None:
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    ticket = await issue(service)
    phones.by_ticket[ticket] = "+6281234567890"
    seq = service.seq
    phones.broken = True  # the outbox insert fails inside the batch's transaction
    with pytest.raises(Unavailable):
        await service.execute(cmd.CallNext("1", "budi"))
    assert service.seq == seq  # the call was rolled back with its message
    assert rows(tmp_path / "q.db") == []
    phones.broken = False
    await service.execute(cmd.CallNext("1", "budi"))
    await receiver.until(1)
    conn = sqlite3.connect(tmp_path / "q.db")
    called = conn.execute("SELECT seq FROM events WHERE type = 'ticket.called'").fetchall()
    conn.close()
    assert [(r["ticket_id"], r["event_seq"]) for r in rows(tmp_path / "q.db")] == [(ticket, called[0][0])]
    await stopped(service)


async def test_a_recall_sends_again_and_each_event_makes_at_most_one_row(
    tmp_path: Path, receiver: Receiver
) -> None:
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await service.execute(cmd.Recall("1"))
    await receiver.until(2)
    stored = rows(tmp_path / "q.db")
    assert len({(r["ticket_id"], r["kind"], r["event_seq"]) for r in stored}) == len(stored) == 2
    conn = sqlite3.connect(tmp_path / "q.db")
    first = stored[0]
    with pytest.raises(sqlite3.IntegrityError):  # the key the outbox relies on
        conn.execute(
            "INSERT INTO outbox (id, ticket_id, kind, event_seq, day, payload, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("other", first["ticket_id"], first["kind"], first["event_seq"], first["day"], "{}", "pending"),
        )
    conn.close()
    await stopped(service)


async def test_a_message_is_given_up_after_max_attempts_and_its_phone_goes(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_next = 1000
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url, extra="max_attempts = 3"), phones)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "failed")
    await asyncio.sleep(0.3)
    (row,) = rows(tmp_path / "q.db")
    assert (row["attempts"], row["phone"], row["last_error"]) == (3, None, "HTTP 500")
    assert len(receiver.requests) == 3
    await stopped(service)


async def test_a_gateway_refusal_is_final(tmp_path: Path) -> None:
    class Refusing(Receiver):
        def handle(self, raw: bytes, headers: dict[str, str]) -> int:
            super().handle(raw, headers)
            return 422

    gateway = Refusing(SECRET).start()
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml(gateway.url), phones)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "failed")
    assert len(gateway.requests) == 1 and rows(tmp_path / "q.db")[0]["phone"] is None
    await stopped(service)
    gateway.stop()


async def test_a_message_of_a_day_that_is_over_is_not_sent_and_its_phone_goes(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.stop()
    phones, clock = Phones(), Clock()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones, clock)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await stopped(service)
    clock.now = START + timedelta(days=1)
    receiver.start()
    again = await started(tmp_path / "q.db", notify_toml(receiver.url), phones, clock)
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "expired")
    assert rows(tmp_path / "q.db")[0]["phone"] is None and receiver.requests == []
    await stopped(again)


async def test_without_a_secret_one_is_generated_kept_and_used(tmp_path: Path) -> None:
    phones = Phones()
    service = await started(tmp_path / "q.db", notify_toml("http://127.0.0.1:9/x", secret=None), phones)
    secret = service.store.notify_secret()
    assert len(secret) == 64
    await stopped(service)
    store = Store(tmp_path / "q.db")
    assert store.notify_secret() == secret  # the same key after a restart: the gateway keeps verifying
    store.close()
    gateway = Receiver(secret).start()
    again = await started(tmp_path / "q.db", notify_toml(gateway.url, secret=None), phones)
    phones.by_ticket[await issue(again)] = "+6281234567890"
    await again.execute(cmd.CallNext("1", "budi"))
    await gateway.until(1)
    assert gateway.bad_signatures == 0
    await stopped(again)
    gateway.stop()


async def test_notify_off_writes_no_rows_and_starts_no_sender(tmp_path: Path) -> None:
    phones = Phones()
    service = await started(tmp_path / "q.db", SMALL_OFFICE_TOML, phones)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    assert service.notifier is None and rows(tmp_path / "q.db") == []
    await stopped(service)


async def test_notify_secret_prints_the_key_the_server_signs_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from queue_server import operations

    for secret in (None, SECRET):
        db = tmp_path / f"{secret}.db"
        service = await started(db, notify_toml("http://127.0.0.1:9/x", secret=secret), Phones())
        used = service.notifier.secret if service.notifier is not None else ""
        await stopped(service)
        capsys.readouterr()
        assert operations.notify_secret(db) == 0
        assert capsys.readouterr().out.strip() == used == (secret or used)
        assert len(used) >= 32


async def test_finished_rows_are_deleted_after_thirty_days(tmp_path: Path, receiver: Receiver) -> None:
    phones, clock = Phones(), Clock()
    service = await started(tmp_path / "q.db", notify_toml(receiver.url), phones, clock)
    phones.by_ticket[await issue(service)] = "+6281234567890"
    await service.execute(cmd.CallNext("1", "budi"))
    await eventually(lambda: rows(tmp_path / "q.db")[0]["status"] == "sent")
    await stopped(service)
    for days, left in ((30, 1), (31, 0)):
        clock.now = START + timedelta(days=days)
        again = await started(tmp_path / "q.db", notify_toml(receiver.url), phones, clock)
        if left:
            await asyncio.sleep(0.3)  # the sender's first pass has run by now, and kept it
        await eventually(lambda: len(rows(tmp_path / "q.db")) == left)  # noqa: B023 (awaited here)
        await stopped(again)
