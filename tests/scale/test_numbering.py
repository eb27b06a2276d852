"""Numbers and calls stay those of one process when commands reach the office through any worker
(api-scale.md: numbers unique and contiguous, no ticket called twice, one effect per
Idempotency-Key whichever workers its retries reach)."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.cluster import API, Cluster, eventually

pytestmark = pytest.mark.scale

Json = dict[str, Any]


def _issue_fresh(cluster: Cluster, service: str, key: str | None = None) -> Json:
    """POST /tickets over a connection of its own (any worker)."""
    headers = {"Idempotency-Key": key} if key else {}
    with cluster.client() as client:
        answer = client.post(f"{API}/tickets", json={"service": service}, headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def _number(ticket: Json) -> int:
    return int(ticket["number"][1:])


def test_numbers_stay_unique_and_contiguous_and_no_ticket_is_called_twice(cluster: Cluster) -> None:
    """200 tickets issued at once from 16 threads over fresh connections (so through every
    worker) get numbers unique and contiguous per service; then 4 counters calling next at
    once, each through another worker, until nothing waits, call every ticket exactly once."""
    services = ["a", "b"] * 100
    with ThreadPoolExecutor(16) as pool:
        issued = list(pool.map(lambda s: _issue_fresh(cluster, s), services))
    for service, prefix in (("a", "A"), ("b", "B")):
        mine = [t for t in issued if t["service"] == service]
        assert all(t["number"].startswith(prefix) for t in mine)
        assert sorted(_number(t) for t in mine) == list(range(1, 101)), f"service {service}"
    assert len({t["id"] for t in issued}) == 200 and len({t["token"] for t in issued}) == 200

    pids = list(cluster.pinned())
    assert len(pids) == 3
    officer = cluster.officer()
    # One thread per counter, each with a connection of its own to its own worker (the 4th
    # counter shares the first one's worker).
    workers_of = dict(zip(["1", "2", "3", "4"], itertools.cycle(pids), strict=False))
    start = threading.Barrier(4, timeout=60)

    def counter(counter_id: str) -> list[Json]:
        mine: list[Json] = []
        client = cluster.own_client_on(workers_of[counter_id])
        try:
            start.wait()
            while True:
                answer = client.post(f"{API}/counters/{counter_id}/call-next", headers=officer)
                if answer.status_code == 204:
                    return mine
                assert answer.status_code == 200, answer.text
                ticket = answer.json()
                assert ticket["status"] == "called" and ticket["counter"] == counter_id
                mine.append(ticket)
        finally:
            client.close()

    with ThreadPoolExecutor(4) as pool:
        futures = {c: pool.submit(counter, c) for c in workers_of}
        called = {c: future.result(timeout=180) for c, future in futures.items()}
    every_call = [t["id"] for calls in called.values() for t in calls]
    assert len(every_call) == len(set(every_call)), "a ticket was called twice"
    assert sorted(every_call) == sorted(t["id"] for t in issued), "a ticket was never called"
    assert sum(1 for calls in called.values() if calls) >= 2, "the counters did not call concurrently"
    for client in cluster.pinned().values():  # every worker shows it within a second or so
        eventually(lambda c=client: c.get(f"{API}/state").json()["waiting"] == {"a": 0, "b": 0}, 2, "empty")


def test_one_idempotency_key_has_one_effect_whichever_workers_it_reaches(pair: Cluster) -> None:
    """The same Idempotency-Key on POST /tickets sent to two different workers gives one ticket
    (same id, number and token); the same for call-next: one ticket called, not two."""
    cluster = pair
    first_pid, second_pid = list(cluster.pinned())[:2]
    # Two tickets to call; the first issue's key is then tried on another worker.
    key = "kiosk-7-press-1"
    one = cluster.on(first_pid).post(
        f"{API}/tickets", json={"service": "a"}, headers={"Idempotency-Key": key}
    )
    two = cluster.on(second_pid).post(
        f"{API}/tickets", json={"service": "a"}, headers={"Idempotency-Key": key}
    )
    assert one.status_code == 201, one.text
    assert two.status_code in (200, 201), two.text
    fields = ("id", "number", "token")
    assert {f: two.json()[f] for f in fields} == {f: one.json()[f] for f in fields}
    other = cluster.on(second_pid).post(f"{API}/tickets", json={"service": "a"})
    assert other.status_code == 201 and other.json()["number"] == "A002", other.text

    # The same key sent to both at once, too.
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda pid: cluster.on(pid).post(
                    f"{API}/tickets", json={"service": "b"}, headers={"Idempotency-Key": "same-time"}
                ),
                [first_pid, second_pid],
            )
        )
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}, [a.text for a in answers]

    officer = cluster.officer()
    press = {**officer, "Idempotency-Key": "counter-1-press-1"}
    call_one = cluster.on(first_pid).post(f"{API}/counters/1/call-next", headers=press)
    call_two = cluster.on(second_pid).post(f"{API}/counters/1/call-next", headers=press)
    assert call_one.status_code == 200 and call_two.status_code == 200, (call_one.text, call_two.text)
    assert call_two.json()["id"] == call_one.json()["id"] == one.json()["id"]

    def current_of_1(state: Json) -> list[str]:
        return [c["current"]["number"] for c in state["counters"] if c["id"] == "1" and c["current"]]

    seq = cluster.on(cluster.writer_pid()).get(f"{API}/state").json()["seq"]
    for client in cluster.pinned().values():
        state = eventually(
            lambda c=client: (s := c.get(f"{API}/state").json())["seq"] == seq and s, 2, "the call everywhere"
        )
        assert state["waiting"] == {"a": 1, "b": 1}, "the repeated call-next called a second ticket"
        assert current_of_1(state) == ["A001"]
