"""Accounts and roles: login, bearer tokens, 401/403, logout, `user add`, login throttling."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.interface.helpers import Office, assert_error, bearer
from tests.support.server import ROLE_ACCOUNTS, ServerProcess

# (method, path, body) of every endpoint that needs a login, with the roles allowed.
COUNTER_STEPS = [
    ("POST", "/counters/1/call-next", None),
    ("POST", "/counters/1/recall", None),
    ("POST", "/counters/1/serve", None),
    ("POST", "/counters/1/finish", None),
    ("POST", "/counters/1/no-show", None),
    ("POST", "/counters/1/transfer", {"service": "b"}),
    ("POST", "/counters/1/call", {"number": "A001"}),
    ("POST", "/counters/1/open", None),
    ("POST", "/counters/1/close", None),
]
DOOR_STEPS = [
    ("POST", "/occupancy/enter", {"count": 1}),
    ("POST", "/occupancy/exit", {"count": 1}),
]
ADMIN_STEPS = [("PUT", "/capacity", {"capacity": 10})]
ALL_STEPS = COUNTER_STEPS + DOOR_STEPS + ADMIN_STEPS


def send(office: Office, step: tuple[str, str, object], headers: dict[str, str]) -> httpx.Response:
    """Send one endpoint request with the given headers."""
    method, path, body = step
    return office.http.request(method, path, json=body, headers=headers)


def test_login_returns_bearer_token(shared_office: Office) -> None:
    """POST /login with a right password answers 200 {"token"} usable as a bearer token."""
    name, password = ROLE_ACCOUNTS["officer"]
    resp = shared_office.http.post("/login", json={"username": name, "password": password})
    assert resp.status_code == 200, resp.text
    token = resp.json()["token"]
    assert isinstance(token, str) and len(token) >= 22
    me = shared_office.http.get("/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    text = json.dumps(me.json())
    assert name in text and "officer" in text
    assert password not in text


@pytest.mark.parametrize(
    "body",
    [
        {"username": "petugas", "password": "wrong-password"},
        {"username": "nobody-here", "password": "sandi-petugas-uji-1"},
        {"username": "PETUGAS", "password": "sandi-petugas-uji-1"},
    ],
)
def test_bad_credentials_are_401_invalid_credentials(shared_office: Office, body: dict[str, str]) -> None:
    """A wrong password or unknown user answers 401 invalid_credentials."""
    shared_office.token("officer")  # make sure the account exists
    assert_error(shared_office.http.post("/login", json=body), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "petugas"},
        {"username": 5, "password": "x"},
        {"username": "a", "password": None},
        {"username": "petugas", "password": ""},
    ],
)
def test_login_body_must_have_username_and_password_strings(shared_office: Office, body: object) -> None:
    """A login body without non-empty string username and password answers 422."""
    assert_error(shared_office.http.post("/login", json=body), 422)


@pytest.mark.parametrize("step", ALL_STEPS, ids=[f"{m} {p}" for m, p, _ in ALL_STEPS])
def test_no_token_is_401(shared_office: Office, step: tuple[str, str, object]) -> None:
    """Every endpoint that needs a login answers 401 unauthorized without a token."""
    assert_error(send(shared_office, step, {}), 401, "unauthorized")


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token-000000000000", "Bearer", "", "Basic cGV0dWdhczpzYW5kaQ==", "petugas"],
)
def test_bad_token_is_401(shared_office: Office, header: str) -> None:
    """A made-up, empty or non-bearer Authorization header answers 401."""
    resp = shared_office.http.post("/counters/1/call-next", headers={"Authorization": header})
    assert_error(resp, 401, "unauthorized")
    assert_error(shared_office.http.get("/me", headers={"Authorization": header}), 401, "unauthorized")


def test_ticket_token_is_not_a_login(shared_office: Office) -> None:
    """A visitor's ticket token does not work as a bearer token."""
    ticket = shared_office.issue_ok("a")
    resp = shared_office.http.post("/counters/1/call-next", headers=bearer(ticket["token"]))
    assert_error(resp, 401, "unauthorized")
    assert shared_office.cancel(ticket["token"]).status_code == 200


@pytest.mark.parametrize("step", COUNTER_STEPS, ids=[p for _, p, _ in COUNTER_STEPS])
def test_door_role_cannot_work_counters(shared_office: Office, step: tuple[str, str, object]) -> None:
    """Counter steps answer 403 forbidden to a door token."""
    assert_error(send(shared_office, step, shared_office.door), 403, "forbidden")


@pytest.mark.parametrize("step", DOOR_STEPS + ADMIN_STEPS, ids=[p for _, p, _ in DOOR_STEPS + ADMIN_STEPS])
def test_officer_cannot_count_at_door_or_set_capacity(
    shared_office: Office, step: tuple[str, str, object]
) -> None:
    """Door counting and capacity answer 403 forbidden to an officer token."""
    assert_error(send(shared_office, step, shared_office.officer), 403, "forbidden")


def test_door_cannot_set_capacity(shared_office: Office) -> None:
    """PUT /capacity answers 403 forbidden to a door token."""
    assert_error(send(shared_office, ADMIN_STEPS[0], shared_office.door), 403, "forbidden")


def test_admin_may_do_every_role_step(shared_office: Office) -> None:
    """An admin token works for counter, door and capacity endpoints."""
    admin = shared_office.admin
    occupancy = shared_office.occupancy()
    for step in [
        ("POST", "/counters/2/close", None),
        ("POST", "/counters/2/open", None),
        ("POST", "/occupancy/enter", {"count": 1}),
        ("POST", "/occupancy/exit", {"count": 1}),
        ("PUT", "/capacity", {"capacity": occupancy["capacity"]}),
    ]:
        resp = send(shared_office, step, admin)
        assert resp.status_code == 200, f"{step}: {resp.status_code} {resp.text}"


@pytest.mark.parametrize("path", ["/services", "/occupancy", "/state", "/events?since=0"])
def test_public_reads_need_no_login(shared_office: Office, path: str) -> None:
    """Services, occupancy, state and events are readable without a token."""
    assert shared_office.http.get(path).status_code == 200


def test_logout_ends_the_token(shared_server: ServerProcess, shared_office: Office) -> None:
    """After POST /logout the token answers 401."""
    token = shared_server.officer_token()
    assert shared_office.http.get("/me", headers=bearer(token)).status_code == 200
    resp = shared_office.http.post("/logout", headers=bearer(token))
    assert resp.status_code in (200, 204), resp.text
    assert_error(shared_office.http.get("/me", headers=bearer(token)), 401, "unauthorized")
    assert_error(shared_office.http.post("/counters/1/recall", headers=bearer(token)), 401, "unauthorized")


def test_user_add_updates_password_and_role(shared_server: ServerProcess, shared_office: Office) -> None:
    """`user add` on an existing name replaces its password and role."""
    shared_server.add_user("budi", "officer", "first-password-1")
    token = shared_server.login("budi", "first-password-1")
    assert shared_office.http.post("/counters/5/recall", headers=bearer(token)).status_code == 409
    shared_server.add_user("budi", "door", "second-password-2")
    resp = shared_office.http.post("/login", json={"username": "budi", "password": "first-password-1"})
    assert_error(resp, 401, "invalid_credentials")
    token = shared_server.login("budi", "second-password-2")
    assert_error(shared_office.http.post("/counters/5/recall", headers=bearer(token)), 403, "forbidden")


def test_user_add_rejects_unknown_role(shared_server: ServerProcess, shared_office: Office) -> None:
    """`user add --role chief` exits non-zero and creates no account."""
    done = shared_server.cli(
        "user", "add", "siti", "--role", "chief", "--password-stdin", "--db", str(shared_server.db_path),
        input_text="whatever-pass-1\n",
    )  # fmt: skip
    assert done.returncode != 0
    resp = shared_office.http.post("/login", json={"username": "siti", "password": "whatever-pass-1"})
    assert_error(resp, 401, "invalid_credentials")


def test_repeated_failed_logins_are_throttled(server: ServerProcess) -> None:
    """Many failed logins answer 429 too_many_attempts with a Retry-After header."""
    with httpx.Client(base_url=server.base_url + "/api/v1", timeout=30) as client:
        for _ in range(100):
            resp = client.post("/login", json={"username": "petugas", "password": "guess"})
            if resp.status_code == 429:
                break
            assert_error(resp, 401, "invalid_credentials")
        assert_error(resp, 429, "too_many_attempts")
        assert int(resp.headers["Retry-After"]) > 0
