"""Live administration through HTTP (api-office.md): services, counters, hours, accounts, audit."""

from __future__ import annotations

from typing import Any

from tests.interface.helpers import Office, assert_error, bearer
from tests.support.server import office_toml


def _new_service(office: Office, **body: Any) -> Any:
    return office.http.post("/services", json=body, headers=office.admin)


def test_created_service_is_listed_with_its_details_and_issues_tickets(office: Office) -> None:
    """POST /services answers 201 with the service; GET /services lists it; tickets take its prefix."""
    resp = _new_service(
        office, id="ktp", name="KTP", prefix="K", requirements=["KK"], standard_minutes=7, fee="Gratis"
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body == {
        "id": "ktp",
        "name": "KTP",
        "prefix": "K",
        "requirements": ["KK"],
        "standard_minutes": 7,
        "fee": "Gratis",
        "open": True,
    }
    listed = {s["id"]: s for s in office.services()}
    assert listed["ktp"]["requirements"] == ["KK"] and listed["ktp"]["open"] is True
    assert listed["a"]["requirements"] == [] and listed["a"]["fee"] == ""
    assert office.issue_ok("ktp")["number"] == "K001"


def test_service_conflicts_and_bad_values(office: Office) -> None:
    """409 service_exists, 409 prefix_taken, 422 for a bad id or prefix, unknown fields 422."""
    assert_error(_new_service(office, id="a", name="X", prefix="X"), 409, "service_exists")
    assert_error(_new_service(office, id="x", name="X", prefix="A"), 409, "prefix_taken")
    assert_error(_new_service(office, id="Bad Id", name="X", prefix="X"), 422, "invalid_request")
    assert_error(_new_service(office, id="x", name="X", prefix="x1"), 422, "invalid_request")
    assert_error(_new_service(office, id="x", name="X", prefix="X", colour="red"), 422)
    assert_error(
        office.http.patch("/services/nope", json={"name": "N"}, headers=office.admin), 404, "unknown_service"
    )


def test_closed_service_refuses_new_tickets_but_serves_its_queue(office: Office) -> None:
    """PATCH open=false: new tickets 409 service_closed; a ticket issued before is still called."""
    before = office.issue_ok("a")
    resp = office.http.patch("/services/a", json={"open": False, "fee": "Rp 10.000"}, headers=office.admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["open"] is False and resp.json()["fee"] == "Rp 10.000"
    assert_error(office.issue("a"), 409, "service_closed")
    assert office.call_next_ok("1")["number"] == before["number"]
    office.http.patch("/services/a", json={"open": True}, headers=office.admin)
    assert office.issue("a").status_code == 201


def test_counters_are_created_and_their_services_changed(office: Office) -> None:
    """POST /counters 201 (closed until opened); 409 counter_exists; 404 unknown_service; PATCH services."""
    resp = office.http.post(
        "/counters", json={"id": "7", "name": "Loket 7", "services": ["b"]}, headers=office.admin
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["id"] == "7" and resp.json()["services"] == ["b"] and resp.json()["name"] == "Loket 7"
    again = office.http.post(
        "/counters", json={"id": "7", "name": "L", "services": ["b"]}, headers=office.admin
    )
    assert_error(again, 409, "counter_exists")
    ghost = office.http.post(
        "/counters", json={"id": "8", "name": "L", "services": ["zz"]}, headers=office.admin
    )
    assert_error(ghost, 404, "unknown_service")
    office.step_ok("7", "open")
    ticket_a = office.issue_ok("a")
    assert office.call_next("7").status_code == 204  # serves only b
    changed = office.http.patch("/counters/7", json={"services": ["a"]}, headers=office.admin)
    assert changed.status_code == 200 and changed.json()["services"] == ["a"]
    assert office.call_next_ok("7")["number"] == ticket_a["number"]
    assert_error(
        office.http.patch("/counters/99", json={"name": "x"}, headers=office.admin), 404, "unknown_counter"
    )


def test_hours_round_trip_and_closed_office_refuses_tickets(office: Office) -> None:
    """PUT /hours then GET (no login) gives the same; outside the hours office_closed with opens_at."""
    assert office.http.get("/hours").json()["mon"] == []
    waiting = office.issue_ok("a")
    # Open only on a date long past: closed now, with no next opening.
    body = {"closed_dates": ["2026-12-25"]}
    resp = office.http.put("/hours", json=body, headers=office.admin)
    assert resp.status_code == 200, resp.text
    got = office.http.get("/hours").json()
    assert got["closed_dates"] == ["2026-12-25"] and got["mon"] == [] and "always_open" not in got
    refused = office.issue("a")
    assert_error(refused, 409, "office_closed")
    assert refused.json()["error"]["opens_at"] is None
    # Counters keep serving the queue already issued.
    assert office.call_next_ok("1")["number"] == waiting["number"]
    every_day = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    assert office.http.put("/hours", json=every_day, headers=office.admin).status_code == 200
    assert office.issue("a").status_code == 201
    bad = office.http.put("/hours", json={"mon": ["8-12"]}, headers=office.admin)
    assert_error(bad, 422, "invalid_request")


def test_closed_office_names_the_next_opening(office_factory: Any) -> None:
    """With hours that open at 00:00 on no day but a future weekday range, opens_at is an ISO time."""
    text = office_toml() + "\n[hours]\nclosed_dates = []\n"
    office = office_factory(text)
    assert_error(office.issue("a"), 409, "office_closed")
    all_week = {d: ["23:59-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    office.http.put("/hours", json=all_week, headers=office.admin)
    resp = office.issue("a")
    if resp.status_code == 409:  # not the last minute of the day: it opens at 23:59
        error = resp.json()["error"]
        assert error["code"] == "office_closed" and error["opens_at"].endswith("23:59:00+08:00")
        assert "23:59" in error["message"]


def test_accounts_are_managed_and_disabling_ends_sessions(office: Office) -> None:
    """POST/PATCH /users; no hash in answers; disable or a new password ends the account's sessions."""
    resp = office.http.post(
        "/users", json={"username": "budi", "role": "officer", "password": "rahasia123"}, headers=office.admin
    )
    assert resp.status_code == 201 and resp.json() == {
        "username": "budi",
        "role": "officer",
        "disabled": False,
    }
    dup = office.http.post(
        "/users", json={"username": "budi", "role": "officer", "password": "rahasia123"}, headers=office.admin
    )
    assert_error(dup, 409, "user_exists")
    short = office.http.post(
        "/users", json={"username": "c", "role": "officer", "password": "short"}, headers=office.admin
    )
    assert_error(short, 422)
    role = office.http.post(
        "/users", json={"username": "c", "role": "boss", "password": "long enough"}, headers=office.admin
    )
    assert_error(role, 422)
    listed = office.http.get("/users", headers=office.admin).json()
    assert {"username": "budi", "role": "officer", "disabled": False} in listed
    assert all(set(u) == {"username", "role", "disabled"} for u in listed)
    token = office.http.post("/login", json={"username": "budi", "password": "rahasia123"}).json()["token"]
    assert office.http.get("/me", headers=bearer(token)).status_code == 200
    office.http.patch("/users/budi", json={"password": "baru-sekali"}, headers=office.admin)
    assert_error(office.http.get("/me", headers=bearer(token)), 401)
    token = office.http.post("/login", json={"username": "budi", "password": "baru-sekali"}).json()["token"]
    disabled = office.http.patch("/users/budi", json={"disabled": True}, headers=office.admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert_error(office.http.get("/me", headers=bearer(token)), 401)
    assert_error(office.http.post("/login", json={"username": "budi", "password": "baru-sekali"}), 401)
    assert_error(
        office.http.patch("/users/nobody", json={"disabled": True}, headers=office.admin), 404, "unknown_user"
    )


def test_audit_lists_admin_changes_and_counter_steps_oldest_first(office: Office) -> None:
    """GET /audit?from&to: every admin change and counter step with the account, oldest first."""
    _new_service(office, id="ktp", name="KTP", prefix="K")
    office.issue_ok("a")
    office.call_next_ok("1")
    office.http.post(
        "/users", json={"username": "sari", "role": "door", "password": "12345678"}, headers=office.admin
    )
    day = office.state()["day"]
    resp = office.http.get(f"/audit?from={day}&to={day}", headers=office.admin)
    assert resp.status_code == 200, resp.text
    actions = [(e["action"], e["target"]) for e in resp.json()["entries"]]
    assert actions.index(("service_created", "ktp")) < actions.index(("call_next", "1"))
    assert ("user_created", "sari") in actions
    entry = resp.json()["entries"][0]
    assert set(entry) == {"at", "user", "action", "target", "detail"} and isinstance(entry["detail"], dict)
    assert_error(office.http.get("/audit?from=2026-13-01&to=2026-12-01", headers=office.admin), 422)


def test_officer_and_door_keeper_get_403_on_admin_endpoints(office: Office) -> None:
    """Every admin endpoint refuses the officer and the door keeper with 403."""
    calls = [
        ("POST", "/services", {"id": "x", "name": "X", "prefix": "X"}),
        ("PATCH", "/services/a", {"name": "X"}),
        ("POST", "/counters", {"id": "9", "name": "X", "services": ["a"]}),
        ("PATCH", "/counters/1", {"name": "X"}),
        ("PUT", "/hours", {}),
        ("GET", "/users", None),
        ("POST", "/users", {"username": "x", "role": "door", "password": "12345678"}),
        ("PATCH", "/users/x", {"disabled": True}),
        ("GET", "/audit", None),
        ("GET", "/tickets", None),
        ("POST", "/tickets/id/1/cancel", None),
        ("POST", "/tickets/id/1/reactivate", None),
        ("POST", "/tickets/id/1/transfer", {"service": "b"}),
    ]
    for headers in (office.officer, office.door):
        for method, path, body in calls:
            resp = office.http.request(method, path, json=body, headers=headers)
            assert_error(resp, 403, "forbidden")
    assert_error(office.http.get("/users"), 401)


def test_admin_changes_survive_a_restart_and_the_toml_no_longer_rules(office: Office) -> None:
    """After a restart the database's services, counters and hours are served, not the TOML's."""
    _new_service(office, id="ktp", name="KTP", prefix="K")
    office.http.patch("/services/a", json={"name": "Layanan Baru"}, headers=office.admin)
    office.http.put("/capacity", json={"capacity": 55}, headers=office.admin)
    office.server.stop()
    office.server.start()
    office.forget_tokens()
    services = {s["id"]: s for s in office.services()}
    assert services["a"]["name"] == "Layanan Baru" and "ktp" in services
    assert office.occupancy()["capacity"] == 55
    assert "no longer matches" in office.server.log_text()
