"""[notify] cost and delay (not a test: prints figures).

    .venv/bin/python tests/bench/bench_notify.py [--calls 200]

In process, on a real SQLite file and a local HTTP receiver (tests/support/receiver.py):
issue N tickets, then call them one by one and time each call's answer (the commit) and,
with notify on, the time from the call until the receiver has the signed message. Every
ticket has a phone, so every call makes a message.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from queue_server.bus.hub import Hub
from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.engine.service import OfficeService
from queue_server.store import Store
from tests.support.receiver import Receiver
from tests.support.server import SMALL_OFFICE_TOML

SECRET = "rahasia-gerbang-pesan-0123456789"


def every_ticket_has_a_phone(conn: sqlite3.Connection, ticket_id: int) -> str | None:
    return "+6281234567890"


def quantile(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))] * 1000


async def run(calls: int, notify: bool) -> str:
    receiver = Receiver(SECRET).start()
    toml = SMALL_OFFICE_TOML
    if notify:
        toml += f'\n[notify]\nurl = "{receiver.url}"\nsecret = "{SECRET}"\n'
    folder = Path(tempfile.mkdtemp())
    store = Store(folder / "q.db", outbox_phone=every_ticket_has_a_phone)
    service = OfficeService(parse_config(toml), store, Hub())
    await service.start()
    for index in range(calls):
        await service.execute(cmd.IssueTicket("a", 1, f"h{index}"))
    answers, arrivals = [], []
    for index in range(calls):
        start = time.perf_counter()
        await service.execute(cmd.CallNext(str(1 + index % 3), "budi"))
        answers.append(time.perf_counter() - start)
        if notify:
            while len(receiver.accepted) < index + 1:
                await asyncio.sleep(0.0005)
            arrivals.append(time.perf_counter() - start)
    await service.stop()
    store.close()
    receiver.stop()
    line = f"notify {'on ' if notify else 'off'}: call p50 {quantile(answers, 0.5):.1f} ms"
    line += f", p90 {quantile(answers, 0.9):.1f} ms"
    if notify:
        line += (
            f"; call -> gateway p50 {quantile(arrivals, 0.5):.1f} ms, p90 {quantile(arrivals, 0.9):.1f} ms"
        )
        line += f"; {len(receiver.accepted)} messages, {len(receiver.repeats)} repeats"
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    for notify in (False, True):
        print(asyncio.run(run(args.calls, notify)))


if __name__ == "__main__":
    main()
