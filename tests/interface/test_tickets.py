"""Ticket issuing, reading and cancelling (no login), plus /healthz."""

from __future__ import annotations

import re
from collections import defaultdict

import httpx

import queue_server
from tests.interface.helpers import (
    ROOMY,
    Json,
    Office,
    OfficeFactory,
    assert_error,
    assert_office_time,
    assert_ticket_shape,
    office_today,
    request_concurrently,
)
from tests.support.server import ServerProcess, office_toml


def number_of(ticket: Json) -> int:
    """The sequence part of a ticket number (A007 -> 7)."""
    return int(re.sub(r"^[A-Z]+", "", ticket["number"]))


def call_by_number(office: Office, counter: str, number: str) -> Json:
    """Call one particular waiting ticket (so shared-server tests touch only their own tickets)."""
    resp = office.counter(counter, "call", json_body={"number": number})
    assert resp.status_code == 200, resp.text
    ticket: Json = resp.json()
    return ticket


# -- on a fresh office ---------------------------------------------------------------


def test_issue_returns_201_ticket_with_documented_fields(office: Office) -> None:
    """POST /tickets answers 201 with a full ticket object plus a secret token."""
    resp = office.issue("a")
    assert resp.status_code == 201, resp.text
    ticket = resp.json()
    assert_ticket_shape(ticket)
    assert ticket["number"] == "A001"
    assert ticket["service"] == "a"
    assert ticket["status"] == "waiting"
    assert ticket["party_size"] == 1
    assert ticket["position"] == 1
    assert ticket["counter"] is None and "officer" not in ticket
    assert ticket["called_at"] is None and ticket["serving_at"] is None
    assert ticket["finished_at"] is None
    assert ticket["day"] in office_today()
    assert ticket["issued_at"].startswith(ticket["day"])
    assert_office_time(ticket["admitted_at"])


def test_numbers_count_per_service_from_001(office: Office) -> None:
    """Numbers are the service prefix plus a per-service sequence of >= 3 digits from 001."""
    numbers = [office.issue_ok(s)["number"] for s in ["a", "a", "b", "a", "b"]]
    assert numbers == ["A001", "A002", "B001", "A003", "B002"]


def test_waiting_counts_follow_issue_call_and_cancel(office: Office) -> None:
    """GET /services `waiting` counts tickets not yet called, per service, from 0."""
    assert office.waiting() == {"a": 0, "b": 0}
    a1 = office.issue_ok("a")
    a2 = office.issue_ok("a")
    office.issue_ok("b")
    assert office.waiting() == {"a": 2, "b": 1}
    office.call_next_ok("1")  # calls A001
    assert office.waiting() == {"a": 1, "b": 1}
    assert office.ticket(a1["token"])["position"] is None
    assert office.ticket(a2["token"])["position"] == 1
    office.cancel(a2["token"])
    assert office.waiting() == {"a": 0, "b": 1}


def test_outside_tickets_count_in_position_and_can_be_cancelled(
    office_factory: OfficeFactory,
) -> None:
    """Outside tickets (office full) count in position and waiting, and can be cancelled."""
    office = office_factory(office_toml(capacity=1))
    first = office.issue_ok("a")
    second = office.issue_ok("a")
    assert first["status"] == "waiting" and second["status"] == "outside"
    assert second["position"] == 2
    assert office.waiting() == {"a": 2, "b": 0}
    resp = office.cancel(second["token"])
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled"
    assert office.occupancy()["outside"] == 0
    assert office.waiting() == {"a": 1, "b": 0}


async def test_300_concurrent_issues_get_unique_contiguous_numbers(office: Office) -> None:
    """300 concurrent issues over two services give each service 001..n with no gap or repeat."""
    plan = ["a" if i % 3 else "b" for i in range(300)]
    bodies: list[Json | None] = [{"service": s} for s in plan]
    resps = await request_concurrently(office.server.base_url, "POST", "/tickets", bodies)
    assert all(r.status_code == 201 for r in resps), {r.status_code for r in resps}
    numbers: dict[str, list[int]] = defaultdict(list)
    for resp in resps:
        ticket = resp.json()
        assert ticket["number"].startswith(ticket["service"].upper())
        numbers[ticket["service"]].append(number_of(ticket))
    assert sorted(numbers["a"]) == list(range(1, plan.count("a") + 1))
    assert sorted(numbers["b"]) == list(range(1, plan.count("b") + 1))
    assert len({r.json()["token"] for r in resps}) == 300
    assert len({r.json()["id"] for r in resps}) == 300
    assert office.waiting() == {"a": plan.count("a"), "b": plan.count("b")}


# -- on the module's shared office ---------------------------------------------------


def test_healthz_answers_ok(shared_server: ServerProcess) -> None:
    """GET /healthz answers 200 {"status": "ok", "version": ...} once the server accepts work."""
    resp = httpx.get(shared_server.base_url + "/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": queue_server.__version__}


def test_services_list_ids_names_prefixes_and_waiting(shared_office: Office) -> None:
    """GET /services lists each configured service with id, name, prefix and an int waiting."""
    services = shared_office.services()
    assert [s["id"] for s in services] == ["a", "b"]
    by_id = {s["id"]: s for s in services}
    assert by_id["a"]["name"] == "Layanan A" and by_id["a"]["prefix"] == "A"
    assert by_id["b"]["name"] == "Layanan B" and by_id["b"]["prefix"] == "B"
    for service in services:
        assert isinstance(service["waiting"], int) and not isinstance(service["waiting"], bool)


def test_numbers_continue_without_gaps(shared_office: Office) -> None:
    """Successive issues of one service get successive numbers."""
    first = shared_office.issue_ok("b")
    second = shared_office.issue_ok("b")
    assert number_of(second) == number_of(first) + 1
    assert re.fullmatch(r"B\d{3,}", second["number"])


def test_token_is_long_random_and_distinct(shared_office: Office) -> None:
    """The token carries at least 128 bits (>= 22 URL-safe chars) and differs per ticket."""
    tickets = [shared_office.issue_ok("a") for _ in range(5)]
    tokens = [t["token"] for t in tickets]
    for token in tokens:
        assert isinstance(token, str) and len(token) >= 22, token
        assert re.fullmatch(r"[A-Za-z0-9_\-]+", token), "token must be URL-safe"
    assert len(set(tokens)) == len(tokens)
    assert len({t["id"] for t in tickets}) == len(tickets)


def test_get_ticket_by_token_without_token_field(shared_office: Office) -> None:
    """GET /tickets/{token} answers the same ticket, and never echoes the token."""
    issued = shared_office.issue_ok("b", party_size=2)
    got = shared_office.ticket(issued["token"])
    assert "token" not in got
    assert_ticket_shape(got)
    for key in ("id", "number", "service", "status", "party_size", "position", "issued_at", "day"):
        assert got[key] == issued[key]


def test_get_unknown_token_is_404_unknown_ticket(shared_office: Office) -> None:
    """GET of a token nobody holds answers 404 unknown_ticket."""
    assert_error(shared_office.http.get("/tickets/" + "x" * 43), 404, "unknown_ticket")


def test_party_size_is_kept_and_defaults_to_1(shared_office: Office) -> None:
    """party_size given at issue is stored on the ticket; the default is 1."""
    assert shared_office.issue_ok("a", party_size=3)["party_size"] == 3
    assert shared_office.issue_ok("a")["party_size"] == 1


def test_party_size_equal_to_capacity_is_accepted(shared_office: Office) -> None:
    """party_size may be as large as the capacity."""
    ticket = shared_office.issue_ok("a", party_size=ROOMY)
    assert ticket["party_size"] == ROOMY
    assert shared_office.cancel(ticket["token"]).status_code == 200  # let the others in again


def test_unknown_service_is_404_unknown_service(shared_office: Office) -> None:
    """Issuing for a service id not in the config answers 404 unknown_service."""
    assert_error(shared_office.issue("zzz"), 404, "unknown_service")


def test_position_counts_not_yet_called_tickets_in_issue_order(shared_office: Office) -> None:
    """position is 1-based among the service's outside+waiting tickets, in issue order."""
    base = shared_office.waiting()["a"]
    tickets = [shared_office.issue_ok("a") for _ in range(3)]
    assert [t["position"] for t in tickets] == [base + 1, base + 2, base + 3]
    other = shared_office.issue_ok("b")
    assert shared_office.cancel(tickets[0]["token"]).status_code == 200
    assert shared_office.ticket(tickets[1]["token"])["position"] == base + 1
    assert shared_office.ticket(tickets[2]["token"])["position"] == base + 2
    assert shared_office.ticket(other["token"])["position"] == other["position"]


def test_cancel_waiting_ticket(shared_office: Office) -> None:
    """DELETE of a waiting ticket answers 200 with status cancelled and no position."""
    before = shared_office.waiting()["a"]
    ticket = shared_office.issue_ok("a")
    resp = shared_office.cancel(ticket["token"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "cancelled" and body["position"] is None
    assert body["number"] == ticket["number"] and "token" not in body
    assert shared_office.status(ticket["token"]) == "cancelled"
    assert shared_office.waiting()["a"] == before


def test_cancel_twice_is_409_ticket_not_cancellable(shared_office: Office) -> None:
    """A cancelled ticket cannot be cancelled again (409 ticket_not_cancellable)."""
    ticket = shared_office.issue_ok("a")
    assert shared_office.cancel(ticket["token"]).status_code == 200
    assert_error(shared_office.cancel(ticket["token"]), 409, "ticket_not_cancellable")


def test_cancel_called_serving_done_tickets_is_409(shared_office: Office) -> None:
    """Only outside/waiting tickets can be cancelled; called, serving, done answer 409."""
    ticket = shared_office.issue_ok("a")
    call_by_number(shared_office, "3", ticket["number"])
    assert_error(shared_office.cancel(ticket["token"]), 409, "ticket_not_cancellable")
    shared_office.step_ok("3", "serve")
    assert_error(shared_office.cancel(ticket["token"]), 409, "ticket_not_cancellable")
    shared_office.step_ok("3", "finish")
    assert_error(shared_office.cancel(ticket["token"]), 409, "ticket_not_cancellable")
    assert shared_office.status(ticket["token"]) == "done"


def test_cancel_unknown_token_is_404(shared_office: Office) -> None:
    """DELETE of an unknown token answers 404 unknown_ticket."""
    assert_error(shared_office.cancel("nope" * 10), 404, "unknown_ticket")


def test_idempotent_issue_same_key_returns_same_ticket(shared_office: Office) -> None:
    """Repeating POST /tickets with one Idempotency-Key returns the same ticket, issues nothing."""
    before = shared_office.waiting()["a"]
    first = shared_office.issue("a", key="kiosk-1-press-77")
    second = shared_office.issue("a", key="kiosk-1-press-77")
    assert first.status_code == 201
    assert second.status_code in (200, 201)
    for key in ("id", "number", "token"):
        assert second.json()[key] == first.json()[key]
    assert shared_office.waiting()["a"] == before + 1
    assert number_of(shared_office.issue_ok("a")) == number_of(first.json()) + 1


def test_different_idempotency_keys_issue_different_tickets(shared_office: Office) -> None:
    """Two different keys are two tickets."""
    before = shared_office.waiting()["a"]
    one = shared_office.issue("a", key="k-1").json()
    two = shared_office.issue("a", key="k-2").json()
    assert one["id"] != two["id"]
    assert shared_office.waiting()["a"] == before + 2


async def test_idempotent_issue_concurrent_same_key_issues_once(shared_office: Office) -> None:
    """Twenty concurrent POSTs with one Idempotency-Key yield one ticket."""
    before = shared_office.waiting()["b"]
    resps = await request_concurrently(
        shared_office.server.base_url, "POST", "/tickets", [{"service": "b"}] * 20,
        headers={"Idempotency-Key": "same-press-20"},
    )  # fmt: skip
    assert all(r.status_code in (200, 201) for r in resps), [r.status_code for r in resps]
    assert len({r.json()["id"] for r in resps}) == 1
    assert len({r.json()["token"] for r in resps}) == 1
    assert shared_office.waiting()["b"] == before + 1
    assert number_of(shared_office.issue_ok("b")) == number_of(resps[0].json()) + 1
