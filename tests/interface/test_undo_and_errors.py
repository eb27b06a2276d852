"""POST /counters/{id}/undo, refusals with details, and service_not_served, over HTTP."""

from __future__ import annotations

import asyncio

from tests.interface.helpers import Office, OfficeFactory, assert_error, open_ws, recv_json
from tests.support.server import office_toml


def test_undo_of_a_call_puts_both_visitors_back(office: Office) -> None:
    """After call-next, undo answers 200: the previous visitor is current again, the called one waits."""
    first = office.issue_ok("a")
    second = office.issue_ok("a")
    office.call_next_ok("1")
    office.step_ok("1", "serve")
    office.call_next_ok("1")
    body = office.step_ok("1", "undo")
    assert body["undone"] == "call" and body["counter"] == "1"
    assert body["current"]["number"] == first["number"] and body["current"]["status"] == "serving"
    assert {t["number"]: t["status"] for t in body["tickets"]} == {"A001": "serving", "A002": "waiting"}
    assert office.ticket(second["token"])["position"] == 1
    state = office.state()
    assert state["counters"][0]["current"]["number"] == "A001"
    assert [c["number"] for c in state["recent_calls"]] == ["A001"]
    assert [t["number"] for t in state["queues"]["a"]] == ["A002"]


def test_undo_with_nothing_to_undo_is_409(office: Office) -> None:
    """A counter that did nothing, or already undid its step, answers 409 nothing_to_undo."""
    assert_error(office.counter("1", "undo"), 409, "nothing_to_undo")
    office.issue_ok("a")
    office.call_next_ok("1")
    office.step_ok("1", "undo")
    assert_error(office.counter("1", "undo"), 409, "nothing_to_undo")
    assert_error(office.counter("99", "undo"), 404, "unknown_counter")


def test_undo_honours_the_idempotency_key(office: Office) -> None:
    """A retried undo with the same key returns the first answer and does not fail the second time."""
    office.issue_ok("a")
    office.call_next_ok("1")
    first = office.counter("1", "undo", key="undo-press-1")
    again = office.counter("1", "undo", key="undo-press-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()


def test_undo_needs_an_officer(office: Office) -> None:
    """Without a token 401; the door role 403."""
    assert_error(office.counter("1", "undo", headers={}), 401, "unauthorized")
    assert_error(office.counter("1", "undo", headers=office.door), 403, "forbidden")


async def test_undo_sends_ticket_undone_events_to_the_displays(office: Office) -> None:
    """Displays get ticket.undone with the ticket after the revert, the counter and the waiting map."""
    office.issue_ok("a")
    office.call_next_ok("1")
    async with open_ws(office.server, "/ws/display") as ws:
        snapshot = await recv_json(ws)
        assert snapshot["type"] == "snapshot"
        await asyncio.to_thread(office.step_ok, "1", "undo")
        event = await recv_json(ws)
    assert event["type"] == "ticket.undone" and event["counter"] == "1"
    assert event["ticket"]["status"] == "waiting" and event["waiting"] == {"a": 1, "b": 0}
    assert event["seq"] == snapshot["seq"] + 1


def test_calling_a_number_that_is_not_waiting_carries_details(office: Office) -> None:
    """The 409 body has error.details: number, status, counter, counter_name, at, service, service_name."""
    office.issue_ok("a")
    office.call_next_ok("2")
    office.step_ok("2", "finish")
    body = office.counter("1", "call", json_body={"number": "A001"}).json()
    assert body["error"]["code"] == "invalid_transition"
    details = body["error"]["details"]
    assert (details["number"], details["status"], details["counter"]) == ("A001", "done", "2")
    assert details["counter_name"] == "Loket 2" and details["service_name"] == "Layanan A"
    assert details["at"][11:13].isdigit()


def test_an_unknown_number_is_404_with_the_number(office: Office) -> None:
    """unknown_ticket_number carries details.number, upper-cased."""
    resp = office.counter("1", "call", json_body={"number": "z999"})
    assert_error(resp, 404, "unknown_ticket_number")
    assert resp.json()["error"]["details"] == {"number": "Z999"}


def test_a_number_of_a_service_the_counter_does_not_serve_is_refused(office_factory: OfficeFactory) -> None:
    """409 service_not_served, unless the counter has call_any_service = true."""
    text = office_toml().replace(
        'id = "1"\nname = "Loket 1"\nservices = ["a", "b"]', 'id = "1"\nname = "Loket 1"\nservices = ["a"]'
    )
    text = text.replace(
        'id = "2"\nname = "Loket 2"\nservices = ["a", "b"]',
        'id = "2"\nname = "Loket 2"\nservices = ["a"]\ncall_any_service = true',
    )
    assert 'services = ["a"]\ncall_any_service = true' in text
    office = office_factory(text)
    office.issue_ok("b")
    resp = office.counter("1", "call", json_body={"number": "B001"})
    assert_error(resp, 409, "service_not_served")
    details = resp.json()["error"]["details"]
    assert details["counter_name"] == "Loket 1" and details["service_name"] == "Layanan B"
    called = office.counter("2", "call", json_body={"number": "B001"})
    assert called.status_code == 200 and called.json()["counter"] == "2"
