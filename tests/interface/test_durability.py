"""Durability: restarts (SIGTERM, SIGINT) and kill -9 lose nothing that was answered."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter

import httpx

from tests.interface.helpers import (
    API,
    Json,
    Office,
    OfficeFactory,
    display_feed,
    open_ws,
    recv_json,
    recv_n,
)
from tests.support.server import ServerProcess, office_toml

CLEAN_EXIT = {0, -signal.SIGTERM, -signal.SIGINT}  # uvicorn re-raises the signal after a clean stop
STATE_KEYS = ("seq", "day", "services", "counters", "waiting", "occupancy", "recent_calls")


def assert_clean_log(server: ServerProcess) -> None:
    """The server printed no traceback."""
    assert "Traceback" not in server.log_text(), server.log_text()[-3000:]


def busy_office(office: Office) -> list[Json]:
    """Put the office in a varied state; return the issued tickets (with tokens)."""
    tickets = [office.issue_ok(s, party_size=p) for s, p in zip("aabab", [1, 2, 1, 3, 1], strict=True)]
    office.call_next_ok("1")
    office.step_ok("1", "serve")
    office.call_next_ok("4")
    office.cancel(tickets[4]["token"])
    office.door_count("enter", 1)
    office.counter("6", "close", json_body={"reason": "meeting"})
    return tickets


async def test_sigterm_restart_keeps_every_ticket_and_the_seq(office: Office) -> None:
    """After SIGTERM and a new start, every ticket, counter, occupancy figure and the seq are as before."""
    server = office.server
    tickets = busy_office(office)
    before_tickets = [office.ticket(t["token"]) for t in tickets]
    before = office.state()
    assert server.stop(signal.SIGTERM) in CLEAN_EXIT
    assert_clean_log(server)

    server.start()
    office.forget_tokens()
    assert [office.ticket(t["token"]) for t in tickets] == before_tickets
    after = office.state()
    for key in STATE_KEYS:
        assert after[key] == before[key], key
    assert office.issue_ok("a")["number"] == "A004"
    assert office.issue_ok("b")["number"] == "B003"
    assert office.seq() == before["seq"] + 4  # two times ticket.issued + occupancy.changed


async def test_seq_continues_and_history_replays_across_restart(office: Office) -> None:
    """Events after a restart continue the seq, and ?since=N replays events from before the restart."""
    server = office.server
    async with display_feed(server) as feed:
        busy_office(office)
        seq = office.seq()
        await feed.wait_seq(seq)
        last_five = [e for e in feed.events if e["seq"] > seq - 5]
    server.restart()
    office.forget_tokens()
    async with open_ws(server, f"/ws/display?since={seq - 5}") as ws:
        assert await recv_n(ws, 5) == last_five
        office.issue_ok("b")
        live = await recv_json(ws)
    assert live["type"] == "ticket.issued" and live["seq"] == seq + 1


def test_sigint_stops_cleanly_and_keeps_data(office: Office) -> None:
    """SIGINT (Ctrl+C) stops the server cleanly; its tickets are there after a new start."""
    server = office.server
    ticket = office.issue_ok("b")
    assert server.stop(signal.SIGINT) in CLEAN_EXIT
    assert_clean_log(server)
    server.start()
    assert office.ticket(ticket["token"])["number"] == "B001"


def test_idempotency_key_survives_restart(office: Office) -> None:
    """An Idempotency-Key repeated after a restart still returns the same ticket."""
    first = office.issue("a", key="press-before-restart")
    assert first.status_code == 201
    office.server.restart()
    again = office.issue("a", key="press-before-restart")
    assert again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert office.waiting()["a"] == 1


async def test_kill9_during_concurrent_issuing_loses_no_answered_ticket(office: Office) -> None:
    """kill -9 while many tickets are being issued: every ticket answered 201 is there after restart."""
    server = office.server
    assert server.process is not None
    pid = server.process.pid
    answered: list[Json] = []
    killed = asyncio.Event()
    gate = asyncio.Semaphore(60)

    async def issue(i: int) -> None:
        async with gate:
            if killed.is_set():
                return
            async with httpx.AsyncClient(base_url=server.base_url + API, timeout=10, verify=False) as c:
                try:
                    resp = await c.post("/tickets", json={"service": "ab"[i % 2]})
                except httpx.TransportError:
                    return
            if resp.status_code == 201:
                answered.append(resp.json())
                if len(answered) >= 150 and not killed.is_set():
                    killed.set()
                    os.kill(pid, signal.SIGKILL)

    await asyncio.gather(*[issue(i) for i in range(600)])
    assert killed.is_set(), "the server answered everything before the kill"
    server.kill()

    server.start()
    for ticket in answered:
        got = office.ticket(ticket["token"])
        assert (got["id"], got["number"], got["service"]) == (
            ticket["id"],
            ticket["number"],
            ticket["service"],
        )
    assert len({t["number"] for t in answered}) == len(answered)
    for service in "ab":
        highest = max(int(t["number"][1:]) for t in answered if t["service"] == service)
        fresh = office.issue_ok(service)
        assert int(fresh["number"][1:]) > highest, "a number was given out twice"


async def test_kill9_during_concurrent_calls_keeps_answered_calls(
    office_factory: OfficeFactory,
) -> None:
    """kill -9 while six counters call: answered calls stay called, and no ticket is called twice."""
    office = office_factory(office_toml(capacity=1000))
    server = office.server
    tokens = {t["id"]: t["token"] for t in (office.issue_ok("ab"[i % 2]) for i in range(90))}
    headers = office.officer
    assert server.process is not None
    pid = server.process.pid
    before_kill: list[Json] = []
    killed = asyncio.Event()

    async def work(counter: str) -> None:
        async with httpx.AsyncClient(base_url=server.base_url + API, timeout=10, verify=False) as c:
            while not killed.is_set():
                try:
                    resp = await c.post(f"/counters/{counter}/call-next", headers=headers)
                except httpx.TransportError:
                    return
                if resp.status_code != 200:
                    return
                before_kill.append(resp.json())
                if len(before_kill) >= 30 and not killed.is_set():
                    killed.set()
                    os.kill(pid, signal.SIGKILL)

    await asyncio.gather(*[work(str(c)) for c in range(1, 7)])
    server.kill()
    server.start()
    office.forget_tokens()
    for ticket in before_kill:
        assert office.status(tokens[ticket["id"]]) in {"called", "done"}, ticket["number"]

    after: list[int] = []
    while True:
        progressed = False
        for counter in range(1, 7):
            resp = office.call_next(str(counter))
            if resp.status_code == 200:
                after.append(resp.json()["id"])
                progressed = True
        if not progressed:
            break
    calls = Counter([t["id"] for t in before_kill] + after)
    assert max(calls.values()) == 1, [i for i, n in calls.items() if n > 1]
    unanswered = set(tokens) - set(calls)  # called in the instant of the kill, never answered
    for ticket_id in unanswered:
        assert office.status(tokens[ticket_id]) in {"called", "done"}
    assert office.waiting() == {"a": 0, "b": 0}
