"""api-remote through the public interface: remote tickets, bookings, check-in, rejoin, priority and
routes, and every refusal the spec names, on a real uvicorn."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.interface.helpers import OFFICE_TZ, Json, Office, OfficeFactory, assert_error, request_concurrently
from tests.support.server import ROLE_ACCOUNTS, ServerProcess

VALID_NIK = "3201014101900001"  # born 1 January 1990, a woman (day + 40)
SECOND_NIK = "3201010101900002"  # born 1 January 1990, a man


def remote_office(
    *,
    quota: int = 50,
    nik: str = "optional",
    per_device: int = 2,
    capacity: int = 1000,
    rejoin_within: int = 2,
) -> str:
    """An office with remote tickets on: `a` takes them, `b` not; `c` -> `d` is a two-step route."""
    return f"""
[office]
name = "Kantor Uji Remote"
timezone = "Asia/Makassar"
language = "id"
capacity = {capacity}

[remote]
enabled = true
come_now_position = 1
lead_minutes = 0
book_days_ahead = 3
active_per_device = {per_device}
nik = "{nik}"

[queue]
rejoin_within_calls = {rejoin_within}
rejoin_after = 1
priority_categories = ["lansia", "disabilitas"]
max_priority_in_a_row = 2

[[services]]
id = "a"
name = "Layanan A"
prefix = "A"
remote_quota = {quota}

[[services]]
id = "b"
name = "Layanan B"
prefix = "B"

[[services]]
id = "c"
name = "Perekaman"
prefix = "C"
next = "d"

[[services]]
id = "d"
name = "Pengambilan"
prefix = "D"
kiosk = false

[[counters]]
id = "1"
name = "Loket 1"
services = ["a", "b"]

[[counters]]
id = "2"
name = "Loket 2"
services = ["c"]

[[counters]]
id = "3"
name = "Loket 3"
services = ["d"]

[[counters]]
id = "4"
name = "Loket 4"
services = ["b"]
"""


@pytest.fixture(scope="module")
def remote_server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Any) -> Iterator[ServerProcess]:
    """One server per module with api-remote switched on."""
    proc = ServerProcess(tmp_path_factory.mktemp("remote-server"), remote_office())
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    yield proc
    proc.stop_soon()


@pytest.fixture(scope="module")
def office(remote_server: ServerProcess) -> Iterator[Office]:
    client = Office(remote_server)
    yield client
    client.close()


def today() -> dt.date:
    return dt.datetime.now(OFFICE_TZ).date()


def issue(office: Office, body: Json, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    """POST /tickets; staff headers by default so the per-device limit stays out of the way."""
    return office.http.post(
        "/tickets", json=body, headers=office.door if headers is None else headers, params=params
    )


def issue_ok(office: Office, body: Json) -> Json:
    resp = issue(office, body)
    assert resp.status_code == 201, resp.text
    ticket: Json = resp.json()
    return ticket


def call(office: Office, counter: str, number: str) -> Json:
    resp = office.counter(counter, "call", json_body={"number": number})
    assert resp.status_code == 200, resp.text
    ticket: Json = resp.json()
    return ticket


# -- remote tickets for today ------------------------------------------------------------------


def test_a_remote_ticket_waits_at_home_until_checked_in(office: Office) -> None:
    """201 `remote` with today's date, a number and a token; not inside, never called; check-in at the
    door makes it `waiting` and then a counter can call it."""
    inside = office.occupancy()["inside"]
    ticket = issue_ok(office, {"service": "a", "remote": True})
    assert ticket["status"] == "remote" and ticket["date"] == today().isoformat()
    assert ticket["number"].startswith("A") and ticket["token"]
    assert isinstance(ticket["position"], int) and ticket["come_now"] in (True, False)
    assert office.occupancy()["inside"] == inside
    refused = office.counter("1", "call", json_body={"number": ticket["number"]})
    assert_error(refused, 409, "invalid_transition")
    resp = office.http.post(f"/tickets/{ticket['token']}/check-in", headers=office.door)
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "waiting" and resp.json()["checked_in_at"]
    assert office.occupancy()["inside"] == inside + 1
    assert call(office, "1", ticket["number"])["status"] == "called"
    office.step_ok("1", "finish")


def test_a_remote_ticket_keeps_its_place_by_issue_time_after_check_in(office: Office) -> None:
    """Checked in after a later walk-in, the remote ticket is still ahead of it."""
    remote = issue_ok(office, {"service": "a", "remote": True})
    walk_in = office.issue_ok("a")
    assert office.ticket(walk_in["token"])["position"] == office.ticket(remote["token"])["position"] + 1
    resp = office.http.post("/check-in", json={"number": remote["number"]}, headers=office.door)
    assert resp.status_code == 200 and resp.json()["status"] == "waiting"
    ahead = office.ticket(remote["token"])["position"]
    assert office.ticket(walk_in["token"])["position"] == ahead + 1


def test_come_now_turns_true_when_few_are_ahead(office: Office) -> None:
    """come_now_position 1: false with two ahead, true once at most one is ahead."""
    first, second = office.issue_ok("b"), office.issue_ok("b")
    remote_b = issue(office, {"service": "b", "remote": True})
    assert_error(remote_b, 409, "remote_disabled")
    mine = issue_ok(office, {"service": "a", "remote": True})
    ahead = office.ticket(mine["token"])["position"] - 1
    assert office.ticket(mine["token"])["come_now"] is (ahead <= 1)
    for ticket in (first, second):
        call(office, "4", ticket["number"])
        office.step_ok("4", "finish")


def test_a_booking_has_that_days_number_and_no_position(office: Office) -> None:
    """A date ahead: `booked`, the day's own number, position null; check-in today is refused."""
    day = (today() + dt.timedelta(days=2)).isoformat()
    booked = issue_ok(office, {"service": "a", "remote": True, "date": day})
    assert booked["status"] == "booked" and booked["date"] == day and booked["position"] is None
    assert booked["number"] == "A001"
    again = issue_ok(office, {"service": "a", "date": day})
    assert again["number"] == "A002" and again["status"] == "booked"
    assert office.ticket(booked["token"])["status"] == "booked"
    resp = office.http.post(f"/tickets/{booked['token']}/check-in", headers=office.door)
    assert assert_error(resp, 409, "booked_for_another_day")
    assert office.cancel(again["token"]).json()["status"] == "cancelled"


# -- every refusal -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"service": "b", "remote": True}, 409, "remote_disabled"),
        ({"service": "a", "remote": True, "date": "2020-01-01"}, 422, "invalid_date"),
        ({"service": "a", "remote": True, "date": "31-12-2030"}, 422, "invalid_date"),
        ({"service": "a", "remote": True, "nik": "12345"}, 422, "invalid_nik"),
        ({"service": "a", "remote": True, "nik": "3201013213900001"}, 422, "invalid_nik"),
        ({"service": "a", "remote": True, "nik": "3201017201900001"}, 422, "invalid_nik"),
        ({"service": "a", "remote": True, "phone": "12345"}, 422, "invalid_phone"),
        ({"service": "a", "remote": True, "phone": "+6512345678"}, 422, "invalid_phone"),
        ({"service": "a", "priority": "vip"}, 422, "unknown_priority"),
        ({"service": "a", "remote": True, "priority": "vip"}, 422, "unknown_priority"),
        ({"service": "a", "remote": True, "colour": "red"}, 422, "invalid_request"),
        ({"service": "a", "remote": "yes"}, 422, "invalid_request"),
        ({"service": "zz", "remote": True}, 404, "unknown_service"),
    ],
)
def test_issue_refusals(office: Office, body: Json, status: int, code: str) -> None:
    """Each bad remote request answers the spec's status and code."""
    assert_error(issue(office, body), status, code)


def test_a_date_beyond_the_window_is_refused(office: Office) -> None:
    """book_days_ahead 3: three days ahead is fine, four is not."""
    far = (today() + dt.timedelta(days=4)).isoformat()
    assert_error(issue(office, {"service": "a", "remote": True, "date": far}), 422, "invalid_date")


def test_one_active_remote_ticket_per_nik_and_the_nik_is_never_shown(office: Office) -> None:
    """A second remote ticket for the same NIK is refused while the first is active; the NIK appears
    in no answer and no event."""
    first = issue(office, {"service": "a", "remote": True, "nik": VALID_NIK, "phone": "0812-3456-7890"})
    assert first.status_code == 201, first.text
    assert VALID_NIK not in first.text and "3456" not in first.text
    day = (today() + dt.timedelta(days=1)).isoformat()
    second = issue(office, {"service": "a", "remote": True, "nik": VALID_NIK, "date": day})
    assert_error(second, 409, "nik_has_active_ticket")
    other = issue(office, {"service": "a", "remote": True, "nik": SECOND_NIK})
    assert other.status_code == 201, other.text
    events = office.http.get("/events", params={"since": 0}).text
    assert VALID_NIK not in events and SECOND_NIK not in events and "81234567890" not in events
    assert office.cancel(first.json()["token"]).status_code == 200
    again = issue(office, {"service": "a", "remote": True, "nik": VALID_NIK})
    assert again.status_code == 201, again.text


def test_check_in_refusals(office: Office) -> None:
    """From home: 403 checkin_at_entrance; a walk-in ticket: 409 not_remote; unknown token or number: 404."""
    remote = issue_ok(office, {"service": "a", "remote": True})
    for headers in ({}, office.officer):
        resp = office.http.post(f"/tickets/{remote['token']}/check-in", headers=headers)
        assert_error(resp, 403, "checkin_at_entrance")
    walk_in = office.issue_ok("a")
    resp = office.http.post(f"/tickets/{walk_in['token']}/check-in", headers=office.door)
    assert_error(resp, 409, "not_remote")
    resp = office.http.post("/tickets/not-a-token/check-in", headers=office.door)
    assert_error(resp, 404, "unknown_ticket")
    resp = office.http.post("/check-in", json={"number": "Z999"}, headers=office.door)
    assert_error(resp, 404, "unknown_ticket_number")
    resp = office.http.post("/check-in", json={"number": remote["number"]}, headers=office.officer)
    assert_error(resp, 403, "forbidden")
    resp = office.http.post("/check-in", json={"number": remote["number"], "x": 1}, headers=office.door)
    assert_error(resp, 422, "invalid_request")


def test_a_paired_kiosk_may_check_in(office: Office) -> None:
    """The kiosk's X-Kiosk-Token is the entrance."""
    paired = office.http.post("/kiosks", json={"name": "pintu"}, headers=office.admin)
    assert paired.status_code == 201, paired.text
    remote = issue_ok(office, {"service": "a", "remote": True})
    resp = office.http.post(
        f"/tickets/{remote['token']}/check-in", headers={"X-Kiosk-Token": paired.json()["token"]}
    )
    assert resp.status_code == 200, resp.text


def test_messages_follow_the_language(office: Office) -> None:
    """The office speaks Indonesian; ?lang=en answers in English; both name what went wrong."""
    body = {"service": "b", "remote": True}
    indonesian = issue(office, body).json()["error"]["message"]
    english = issue(office, body, lang="en").json()["error"]["message"]
    assert "tidak tersedia" in indonesian and "not offered" in english


# -- missed calls ----------------------------------------------------------------------------------


def test_rejoin_after_a_missed_call_once_and_behind_one(office: Office) -> None:
    """rejoin_after 1: the visitor's rejoin puts them behind one of those waiting; a second time no."""
    missed = office.issue_ok("b")
    call(office, "4", missed["number"])
    office.step_ok("4", "no-show")
    others = [office.issue_ok("b"), office.issue_ok("b")]
    resp = office.http.post(f"/tickets/{missed['token']}/rejoin")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "waiting" and resp.json()["number"] == missed["number"]
    positions = [office.ticket(t["token"])["position"] for t in (others[0], missed, others[1])]
    assert positions == sorted(positions)
    call(office, "4", missed["number"])
    office.step_ok("4", "no-show")
    again = office.http.post("/rejoin", json={"number": missed["number"]}, headers=office.officer)
    assert_error(again, 409, "rejoin_not_allowed")
    assert "sudah" in again.json()["error"]["message"]
    for ticket in others:
        call(office, "4", ticket["number"])
        office.step_ok("4", "finish")


def test_rejoin_refusals_say_why(office: Office) -> None:
    """A waiting ticket cannot rejoin; past its window (two calls) a no-show cannot either; anonymous
    staff rejoin is 401."""
    waiting = office.issue_ok("b")
    assert_error(office.http.post(f"/tickets/{waiting['token']}/rejoin"), 409, "rejoin_not_allowed")
    missed = office.issue_ok("b")
    call(office, "4", missed["number"])
    office.step_ok("4", "no-show")
    for _ in range(2):
        later = office.issue_ok("b")
        call(office, "4", later["number"])
        office.step_ok("4", "finish")
    late = office.http.post("/rejoin", json={"number": missed["number"]}, headers=office.door)
    assert_error(late, 409, "rejoin_not_allowed")
    assert "terlalu banyak" in late.json()["error"]["message"].lower()
    assert_error(office.http.post("/rejoin", json={"number": missed["number"]}), 401, "unauthorized")
    unknown = office.http.post("/rejoin", json={"number": "Z999"}, headers=office.door)
    assert_error(unknown, 404, "unknown_ticket_number")
    call(office, "4", waiting["number"])
    office.step_ok("4", "finish")


# -- priority and routes -------------------------------------------------------------------------------


def test_priority_call_order_is_the_specs_example(office_factory: OfficeFactory) -> None:
    """max 2, issued N1 N2 N3 P1 P2 P3: calls P1 P2 N1 P3 N2 N3; the view carries the category."""
    office = office_factory(remote_office())
    normal = [office.issue_ok("a")["number"] for _ in range(3)]
    priority = [issue_ok(office, {"service": "a", "priority": "lansia"}) for _ in range(3)]
    assert priority[0]["priority"] == "lansia"
    called = [office.call_next_ok("1")["number"] for _ in range(6)]
    p = [t["number"] for t in priority]
    assert called == [p[0], p[1], normal[0], p[2], normal[1], normal[2]]


def test_a_route_moves_the_ticket_on_and_ends_at_its_last_step(office: Office) -> None:
    """c -> d: finishing c puts it at the back of d (same number, still inside); finishing d ends it."""
    ticket = office.issue_ok("c")
    assert ticket["route"] == ["c", "d"] and ticket["step"] == 1
    inside = office.occupancy()["inside"]
    call(office, "2", ticket["number"])
    office.step_ok("2", "finish")
    moved = office.ticket(ticket["token"])
    assert (moved["status"], moved["service"], moved["step"], moved["number"]) == (
        "waiting",
        "d",
        2,
        ticket["number"],
    )
    assert office.occupancy()["inside"] == inside
    events = office.http.get("/events", params={"since": 0}).json()["events"]
    routed = [e for e in events if e["type"] == "ticket.routed" and e["ticket"]["id"] == ticket["id"]]
    assert routed and routed[0]["from_service"] == "c" and routed[0]["from_counter"] == "2"
    assert office.call_next_ok("3")["number"] == ticket["number"]
    office.step_ok("3", "finish")
    assert office.ticket(ticket["token"])["status"] == "done"
    assert office.occupancy()["inside"] == inside - 1


# -- limits under load, on fresh servers -----------------------------------------------------------------


def test_300_concurrent_remote_requests_for_a_quota_of_20_give_exactly_20(
    office_factory: OfficeFactory,
) -> None:
    """The quota is a rule of the office's one writer: no race lets a 21st ticket through."""
    office = office_factory(remote_office(quota=20))
    bodies: list[Json | None] = [{"service": "a", "remote": True} for _ in range(300)]
    answers = asyncio.run(
        request_concurrently(office.server.base_url, "POST", "/tickets", bodies, headers=office.door)
    )
    created = [r for r in answers if r.status_code == 201]
    assert len(created) == 20
    assert len({r.json()["number"] for r in created}) == 20
    for refused in (r for r in answers if r.status_code != 201):
        assert_error(refused, 409, "remote_quota_reached")
    assert_error(issue(office, {"service": "a", "remote": True}), 409, "remote_quota_reached")


def test_too_many_active_per_device_and_nik_required(office_factory: OfficeFactory) -> None:
    """active_per_device 2 from one address: the third is 429; nik required: 422 without one."""
    office = office_factory(remote_office(per_device=2, nik="required"))
    assert_error(issue(office, {"service": "a", "remote": True}, headers={}), 422, "nik_required")
    for nik in (VALID_NIK, SECOND_NIK):
        resp = issue(office, {"service": "a", "remote": True, "nik": nik}, headers={})
        assert resp.status_code == 201, resp.text
        assert office.http.cookies.get("antre_device"), "the device cookie names this phone"
    third = issue(office, {"service": "a", "remote": True, "nik": "3201010202900003"}, headers={})
    assert_error(third, 429, "too_many_active")
