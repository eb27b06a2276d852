"""Ticket issuing limits beyond tests/interface/test_kiosks.py: per address, clear, not for kiosks or staff.

Every request here comes from 127.0.0.1, which uvicorn trusts as a local reverse
proxy, so `X-Forwarded-For` gives each test its own visitor address and one
server serves the whole module.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from queue_server.config import EXAMPLE_CONFIG, load_config
from tests.security.conftest import start_seeded
from tests.security.helpers import assert_error
from tests.support.server import ServerProcess, office_toml

LIMIT = 3
_addresses = itertools.count(1)


def visitor() -> dict[str, str]:
    """Headers of a phone at an address no other test used."""
    return {"X-Forwarded-For": f"10.77.0.{next(_addresses)}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[ServerProcess]:
    """A server allowing LIMIT anonymous tickets per minute per address."""
    config = office_toml(capacity=500, limits={"tickets_per_minute_per_address": LIMIT})
    proc = start_seeded(tmp_path_factory.mktemp("limits"), accounts_db, config)
    yield proc
    proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client without redirects or remembered cookies."""
    with httpx.Client(base_url=server.base_url, timeout=20, follow_redirects=False) as client:
        yield client


def issue(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    """POST one ticket for service a."""
    resp = http.post("/api/v1/tickets", json={"service": "a"}, headers=headers)
    http.cookies.clear()
    return resp


def pair(server: ServerProcess, http: httpx.Client, name: str) -> dict[str, str]:
    """Pair a kiosk as the admin; return the answer (name, token, pair_url)."""
    resp = http.post(
        "/api/v1/kiosks", json={"name": name}, headers={"Authorization": f"Bearer {server.admin_token()}"}
    )
    assert resp.status_code == 201, resp.text
    paired: dict[str, str] = resp.json()
    return paired


def test_over_the_limit_the_answer_says_what_to_do(http: httpx.Client) -> None:
    """The refused ticket is a 429 with Retry-After and a message a visitor can act on."""
    phone = visitor()
    for _ in range(LIMIT):
        assert issue(http, phone).status_code == 201
    refused = issue(http, phone)
    assert_error(refused, 429, "too_many_requests")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    message = refused.json()["error"]["message"].lower()
    assert "wait" in message or "tunggu" in message, message


def test_a_retry_of_an_answered_ticket_is_never_limited(http: httpx.Client) -> None:
    """A phone that lost the answer and retries with its Idempotency-Key gets its ticket, at the limit too."""
    phone = visitor()
    first = http.post(
        "/api/v1/tickets", json={"service": "a"}, headers={**phone, "Idempotency-Key": "lost-1"}
    )
    assert first.status_code == 201
    for _ in range(LIMIT - 1):
        assert issue(http, phone).status_code == 201
    retry = http.post(
        "/api/v1/tickets", json={"service": "a"}, headers={**phone, "Idempotency-Key": "lost-1"}
    )
    assert retry.status_code in (200, 201), retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert_error(issue(http, phone), 429, "too_many_requests")


def test_refused_requests_do_not_use_up_the_allowance(http: httpx.Client) -> None:
    """Asking for a service that does not exist is a 404 and leaves the phone its tickets."""
    phone = visitor()
    for _ in range(LIMIT + 2):
        assert_error(
            http.post("/api/v1/tickets", json={"service": "nope"}, headers=phone), 404, "unknown_service"
        )
    assert all(issue(http, phone).status_code == 201 for _ in range(LIMIT))


def test_the_limit_counts_each_address_apart(http: httpx.Client) -> None:
    """One busy phone does not block the next visitor's phone."""
    first, second = visitor(), visitor()
    for _ in range(LIMIT):
        issue(http, first)
    assert issue(http, first).status_code == 429
    assert issue(http, second).status_code == 201


def test_a_kiosk_paired_by_its_link_is_never_limited(server: ServerProcess, http: httpx.Client) -> None:
    """The cookie the pairing link leaves on the kiosk lifts the limit, far past it."""
    link = pair(server, http, "kios-tautan")["pair_url"]
    opened = http.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/kiosk"
    kiosk_cookie = opened.cookies["antre_kiosk"]
    http.cookies.clear()
    device = {**visitor(), "Cookie": f"antre_kiosk={kiosk_cookie}"}
    for _ in range(LIMIT * 4):
        assert issue(http, device).status_code == 201


def test_a_kiosk_paired_on_the_command_line_is_never_limited(
    server: ServerProcess, http: httpx.Client
) -> None:
    """`queue_server kiosk pair NAME` prints a link whose token lifts the limit."""
    done = server.cli("kiosk", "pair", "kios-cli", "--db", str(server.db_path), "--url", server.base_url)
    assert done.returncode == 0, done.stderr
    link = next(line for line in done.stdout.splitlines() if "/kiosk/pair?token=" in line)
    token = link.rsplit("token=", 1)[1].strip()
    device = {**visitor(), "X-Kiosk-Token": token}
    for _ in range(LIMIT * 3):
        assert issue(http, device).status_code == 201


def test_an_unpaired_kiosk_is_limited_again(server: ServerProcess, http: httpx.Client) -> None:
    """After the admin unpairs a kiosk, its token is worth nothing: it issues like a phone."""
    paired = pair(server, http, "kios-dicabut")
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    assert http.delete(f"/api/v1/kiosks/{paired['name']}", headers=admin).status_code == 200
    device = {**visitor(), "X-Kiosk-Token": paired["token"]}
    statuses = [issue(http, device).status_code for _ in range(LIMIT + 1)]
    assert statuses == [201] * LIMIT + [429], statuses
    link = http.get(paired["pair_url"])
    assert_error(link, 404, "unknown_kiosk")


def test_a_made_up_kiosk_token_counts_as_anonymous(http: httpx.Client) -> None:
    """A forged X-Kiosk-Token or kiosk cookie does not lift the limit."""
    for forged in (
        {"X-Kiosk-Token": "a" * 43},
        {"Cookie": "antre_kiosk=" + "b" * 43},
        {"X-Kiosk-Token": "x" * 5000},
    ):
        device = {**visitor(), **forged}
        statuses = [issue(http, device).status_code for _ in range(LIMIT + 1)]
        assert statuses == [201] * LIMIT + [429], (forged, statuses)


def test_logged_in_staff_issuing_for_visitors_are_not_limited(
    server: ServerProcess, http: httpx.Client
) -> None:
    """The door keeper issuing tickets for visitors without phones is not a phone."""
    door = {**visitor(), "Authorization": f"Bearer {server.door_token()}"}
    for _ in range(LIMIT * 3):
        assert issue(http, door).status_code == 201


def test_no_limit_by_default(tmp_path: Path, accounts_db: Path) -> None:
    """Without [limits] (tickets_per_minute_per_address = 0) an address may issue many tickets."""
    proc = start_seeded(tmp_path / "nolimit", accounts_db, office_toml(capacity=500))
    try:
        with httpx.Client(base_url=proc.base_url, timeout=20) as client:
            assert all(issue(client, {}).status_code == 201 for _ in range(25))
    finally:
        proc.stop()


def test_the_example_office_sets_a_sensible_limit() -> None:
    """The shipped example office limits anonymous issuing (a few a minute, not 0 nor hundreds)."""
    assert 1 <= load_config(EXAMPLE_CONFIG).tickets_per_minute_per_address <= 30
