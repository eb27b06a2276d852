"""Counter steps: call-next, call, recall, serve, finish, no-show, transfer, open/close.

Tests on `shared_office` never issue a ticket, so its counters stay idle.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter

import httpx
import pytest

from tests.interface.helpers import (
    API,
    Office,
    OfficeFactory,
    assert_error,
    assert_office_time,
    bearer,
    request_concurrently,
)
from tests.support.server import office_toml


def test_call_next_calls_oldest_waiting_ticket(office: Office) -> None:
    """call-next answers 200 with the oldest waiting ticket, now called to that counter."""
    first = office.issue_ok("a")
    office.issue_ok("a")
    resp = office.call_next("1")
    assert resp.status_code == 200, resp.text
    called = resp.json()
    assert called["id"] == first["id"] and called["number"] == "A001"
    assert called["status"] == "called"
    assert called["counter"] == "1"
    assert called["position"] is None
    assert_office_time(called["called_at"])
    assert "token" not in called
    seen = office.ticket(first["token"])
    assert seen["status"] == "called" and seen["counter"] == "1"


def test_call_next_with_nothing_waiting_is_204(shared_office: Office) -> None:
    """call-next answers 204 with an empty body when no waiting ticket exists."""
    resp = shared_office.call_next("1")
    assert resp.status_code == 204
    assert resp.content == b""


def test_call_next_follows_counter_service_priority(office: Office) -> None:
    """A counter calls from its services in their configured order, oldest first within one."""
    b1 = office.issue_ok("b")
    a1 = office.issue_ok("a")
    b2 = office.issue_ok("b")
    assert office.call_next_ok("4")["id"] == b1["id"]  # counter 4: ["b", "a"]
    assert office.call_next_ok("1")["id"] == a1["id"]  # counter 1: ["a", "b"]
    assert office.call_next_ok("2")["id"] == b2["id"]  # no "a" left: falls to "b"
    assert office.call_next("3").status_code == 204


def test_call_next_ignores_services_the_counter_does_not_serve(
    office_factory: OfficeFactory,
) -> None:
    """A counter never calls a ticket of a service outside its list."""
    toml = office_toml().replace('services = ["b", "a"]', 'services = ["b"]')
    office = office_factory(toml)
    office.issue_ok("a")
    assert office.call_next("4").status_code == 204


def test_call_next_finishes_current_ticket_first(office: Office) -> None:
    """The counter's current called ticket becomes done when it calls the next one."""
    first = office.issue_ok("a")
    second = office.issue_ok("a")
    office.call_next_ok("1")
    assert office.call_next_ok("1")["id"] == second["id"]
    done = office.ticket(first["token"])
    assert done["status"] == "done"
    assert_office_time(done["finished_at"])


def test_call_next_finishes_serving_ticket_even_when_none_waits(office: Office) -> None:
    """A serving current ticket becomes done on call-next even when the answer is 204."""
    ticket = office.issue_ok("a")
    office.call_next_ok("1")
    office.step_ok("1", "serve")
    assert office.call_next("1").status_code == 204
    assert office.status(ticket["token"]) == "done"
    assert_error(office.counter("1", "recall"), 409, "no_current_ticket")


def test_recall_calls_current_ticket_again(office: Office) -> None:
    """recall answers 200 with the current ticket, still called to the same counter."""
    ticket = office.issue_ok("a")
    office.call_next_ok("2")
    body = office.step_ok("2", "recall")
    assert body["id"] == ticket["id"]
    assert body["status"] == "called" and body["counter"] == "2"


def test_recall_without_current_ticket_is_409(shared_office: Office) -> None:
    """recall on a counter with no current ticket answers 409 no_current_ticket."""
    assert_error(shared_office.counter("1", "recall"), 409, "no_current_ticket")


def test_serve_then_finish(office: Office) -> None:
    """serve makes the called ticket serving; finish makes it done."""
    ticket = office.issue_ok("a")
    office.call_next_ok("1")
    serving = office.step_ok("1", "serve")
    assert serving["id"] == ticket["id"] and serving["status"] == "serving"
    assert_office_time(serving["serving_at"])
    done = office.step_ok("1", "finish")
    assert done["id"] == ticket["id"] and done["status"] == "done"
    assert_office_time(done["finished_at"])
    assert office.status(ticket["token"]) == "done"


def test_serve_twice_is_409_invalid_transition(office: Office) -> None:
    """A step that does not fit the ticket's status answers 409 invalid_transition."""
    office.issue_ok("a")
    office.call_next_ok("1")
    office.step_ok("1", "serve")
    assert_error(office.counter("1", "serve"), 409, "invalid_transition")


@pytest.mark.parametrize("action", ["serve", "finish", "no-show"])
def test_step_without_current_ticket_is_409(shared_office: Office, action: str) -> None:
    """serve/finish/no-show on an idle counter answer 409."""
    assert_error(shared_office.counter("1", action), 409, {"no_current_ticket", "invalid_transition"})


def test_no_show_marks_called_ticket(office: Office) -> None:
    """no-show answers 200 with the called ticket now no_show; the counter is then idle."""
    ticket = office.issue_ok("a")
    office.call_next_ok("1")
    body = office.step_ok("1", "no-show")
    assert body["id"] == ticket["id"] and body["status"] == "no_show"
    assert office.status(ticket["token"]) == "no_show"
    assert_error(office.counter("1", "recall"), 409, "no_current_ticket")


def test_transfer_requeues_with_same_number_and_original_place(office: Office) -> None:
    """transfer puts the ticket back to waiting in the new service, by its original issue time."""
    a1 = office.issue_ok("a")
    b1 = office.issue_ok("b")
    b2 = office.issue_ok("b")
    office.call_next_ok("1")  # A001
    resp = office.counter("1", "transfer", json_body={"service": "b"})
    assert resp.status_code == 200, resp.text
    moved = resp.json()
    assert moved["id"] == a1["id"] and moved["number"] == "A001"
    assert moved["service"] == "b" and moved["status"] == "waiting"
    assert moved["counter"] is None
    assert moved["position"] == 1
    assert office.ticket(b1["token"])["position"] == 2
    assert office.ticket(b2["token"])["position"] == 3
    assert office.waiting() == {"a": 0, "b": 3}
    assert_error(office.counter("1", "recall"), 409, "no_current_ticket")
    assert office.call_next_ok("4")["id"] == a1["id"]


def test_transfer_to_unknown_service_is_404(office: Office) -> None:
    """transfer to a service that does not exist answers 404 unknown_service."""
    office.issue_ok("a")
    office.call_next_ok("1")
    resp = office.counter("1", "transfer", json_body={"service": "nope"})
    assert_error(resp, 404, "unknown_service")


def test_transfer_without_current_ticket_is_409(shared_office: Office) -> None:
    """transfer on an idle counter answers 409."""
    resp = shared_office.counter("1", "transfer", json_body={"service": "b"})
    assert_error(resp, 409, {"no_current_ticket", "invalid_transition"})


def test_close_blocks_calling_and_keeps_current_ticket(office: Office) -> None:
    """A closed counter answers 409 counter_closed to call-next, but keeps (and can finish) its ticket."""
    ticket = office.issue_ok("a")
    office.issue_ok("a")
    office.call_next_ok("1")
    assert office.step_ok("1", "close") == {"id": "1", "open": False}
    assert_error(office.call_next("1"), 409, "counter_closed")
    assert office.status(ticket["token"]) == "called"
    current = {c["id"]: c for c in office.state()["counters"]}["1"]
    assert current["open"] is False
    assert current["current"]["id"] == ticket["id"]
    assert office.waiting()["a"] == 1  # nothing was called by the refused call-next
    assert office.step_ok("1", "serve")["status"] == "serving"  # the current one can be finished
    assert office.step_ok("1", "finish")["status"] == "done"
    assert office.step_ok("1", "open") == {"id": "1", "open": True}
    assert office.call_next("1").status_code == 200


def test_close_with_reason_body(shared_office: Office) -> None:
    """close accepts an optional {"reason"} body, shown in the counter's state."""
    resp = shared_office.counter("3", "close", json_body={"reason": "prayer"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["open"] is False
    counter = {c["id"]: c for c in shared_office.state()["counters"]}["3"]
    assert counter["reason"] == "prayer"
    assert shared_office.step_ok("3", "open")["open"] is True


def test_counters_start_open_unless_config_says_open_false(office_factory: OfficeFactory) -> None:
    """Counters start open; a counter with `open = false` in the config starts closed."""
    office = office_factory(office_toml(closed_counters=("2",)))
    resp = office.http.get("/counters", headers=office.officer)
    assert resp.status_code == 200, resp.text
    opened = {c["id"]: c["open"] for c in resp.json()}
    assert opened == {"1": True, "2": False, "3": True, "4": True, "5": True, "6": True}
    office.issue_ok("a")
    assert_error(office.call_next("2"), 409, "counter_closed")


def test_counters_list_shows_open_and_current(office: Office) -> None:
    """GET /counters lists counters with open and current ticket."""
    office.issue_ok("b")
    called = office.call_next_ok("5")
    resp = office.http.get("/counters", headers=office.officer)
    assert resp.status_code == 200, resp.text
    by_id = {c["id"]: c for c in resp.json()}
    assert set(by_id) == {"1", "2", "3", "4", "5", "6"}
    assert by_id["5"]["current"]["id"] == called["id"]
    assert by_id["1"]["current"] is None and by_id["1"]["open"] is True


def test_call_by_number_calls_that_ticket(office: Office) -> None:
    """POST /counters/{id}/call {"number"} calls one waiting ticket out of order.

    A number not issued today answers 404 unknown_ticket_number; one that is not
    waiting any more answers 409 invalid_transition.
    """
    office.issue_ok("a")
    second = office.issue_ok("a")
    resp = office.counter("1", "call", json_body={"number": "A002"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == second["id"] and resp.json()["status"] == "called"
    assert_error(office.counter("2", "call", json_body={"number": "A002"}), 409, "invalid_transition")
    assert_error(office.counter("2", "call", json_body={"number": "A999"}), 404, "unknown_ticket_number")


@pytest.mark.parametrize("action", ["call-next", "recall", "serve", "finish", "no-show", "open", "close"])
def test_unknown_counter_is_404(shared_office: Office, action: str) -> None:
    """Every counter step on an unknown counter id answers 404 unknown_counter."""
    assert_error(shared_office.counter("99", action), 404, "unknown_counter")


def test_unknown_counter_transfer_is_404(shared_office: Office) -> None:
    """transfer on an unknown counter id answers 404 unknown_counter."""
    resp = shared_office.counter("99", "transfer", json_body={"service": "a"})
    assert_error(resp, 404, "unknown_counter")


def test_call_next_idempotency_key_repeats_without_second_effect(office: Office) -> None:
    """A repeated call-next with one Idempotency-Key returns the same ticket and calls no other."""
    first = office.issue_ok("a")
    second = office.issue_ok("a")
    one = office.call_next("1", key="press-1")
    two = office.call_next("1", key="press-1")
    assert one.status_code == 200 and two.status_code == 200
    assert one.json()["id"] == two.json()["id"] == first["id"]
    assert office.status(first["token"]) == "called"  # not finished by the repeat
    assert office.status(second["token"]) == "waiting"
    assert office.call_next("1", key="press-2").json()["id"] == second["id"]
    assert office.status(first["token"]) == "done"


async def test_call_next_idempotency_key_concurrent_repeats_call_once(office: Office) -> None:
    """Ten concurrent call-next with one Idempotency-Key call exactly one ticket."""
    tickets = [office.issue_ok("a") for _ in range(3)]
    headers = {**office.officer, "Idempotency-Key": "flaky-wifi-press"}
    resps = await request_concurrently(
        office.server.base_url, "POST", "/counters/1/call-next", [None] * 10, headers
    )
    assert {r.status_code for r in resps} == {200}
    assert {r.json()["id"] for r in resps} == {tickets[0]["id"]}
    assert [office.status(t["token"]) for t in tickets] == ["called", "waiting", "waiting"]


async def test_six_counters_calling_concurrently_never_share_a_ticket(
    office_factory: OfficeFactory,
) -> None:
    """Six counters calling at once get distinct tickets; every ticket is called exactly once."""
    office = office_factory(office_toml(capacity=1000))
    issued = [office.issue_ok("a" if i % 2 else "b") for i in range(120)]
    headers = office.officer
    calls: Counter[int] = Counter()
    per_counter: dict[str, list[int]] = {str(c): [] for c in range(1, 7)}

    async def work(client: httpx.AsyncClient, counter: str) -> None:
        while True:
            resp = await client.post(f"/counters/{counter}/call-next", headers=headers)
            if resp.status_code == 204:
                return
            assert resp.status_code == 200, resp.text
            ticket = resp.json()
            assert ticket["counter"] == counter
            calls[ticket["id"]] += 1
            per_counter[counter].append(ticket["id"])

    async with httpx.AsyncClient(base_url=office.server.base_url + API, timeout=30) as client:
        await asyncio.gather(*[work(client, c) for c in per_counter])
    assert set(calls) == {t["id"] for t in issued}
    assert max(calls.values()) == 1
    assert sum(len(v) for v in per_counter.values()) == len(issued)
    assert office.waiting() == {"a": 0, "b": 0}


async def test_concurrent_calls_with_small_capacity_admit_and_call_each_once(
    office_factory: OfficeFactory,
) -> None:
    """With capacity 4, concurrent calling drains 40 tickets via admission, each called once."""
    office = office_factory(office_toml(capacity=4))
    issued = [office.issue_ok("a" if i % 3 else "b") for i in range(40)]
    headers = office.officer
    calls: Counter[int] = Counter()

    async def work(client: httpx.AsyncClient, counter: str) -> None:
        idle_rounds = 0
        while idle_rounds < 3:
            resp = await client.post(f"/counters/{counter}/call-next", headers=headers)
            if resp.status_code == 204:
                idle_rounds += 1
                continue
            idle_rounds = 0
            assert resp.status_code == 200, resp.text
            calls[resp.json()["id"]] += 1

    async with httpx.AsyncClient(base_url=office.server.base_url + API, timeout=30) as client:
        for _ in range(5):  # until every ticket went through (admission trails the calls)
            await asyncio.gather(*[work(client, str(c)) for c in range(1, 7)])
            if len(calls) == len(issued):
                break
    assert set(calls) == {t["id"] for t in issued}
    assert max(calls.values()) == 1


def test_officer_account_is_recorded_on_called_ticket_but_not_shown(office: Office) -> None:
    """The database records who called the ticket (for reports); the public ticket view does not say."""
    ticket = office.issue_ok("a")
    called = office.call_next_ok("1")
    assert "officer" not in called and "officer" not in office.ticket(ticket["token"])
    with sqlite3.connect(office.server.db_path) as db:
        (officer,) = db.execute("SELECT officer FROM tickets WHERE id = ?", (ticket["id"],)).fetchone()
    assert officer not in (None, "")


def test_admin_can_work_a_counter(office: Office) -> None:
    """Role admin may use counter steps too."""
    office.issue_ok("a")
    resp = office.counter("1", "call-next", headers=bearer(office.token("admin")))
    assert resp.status_code == 200, resp.text
