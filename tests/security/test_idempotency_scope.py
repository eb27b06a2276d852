"""An Idempotency-Key on ticket issue belongs to one client and one request.

Every request comes from 127.0.0.1, which uvicorn trusts as a local reverse
proxy, so `X-Forwarded-For` stands for each visitor's phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.security.conftest import start_seeded
from tests.support.server import ServerProcess, office_toml


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[httpx.Client]:
    proc: ServerProcess = start_seeded(
        tmp_path_factory.mktemp("idem"), accounts_db, office_toml(capacity=500)
    )
    with httpx.Client(base_url=proc.base_url + "/api/v1", timeout=20) as client:
        yield client
    proc.stop()


def issue(http: httpx.Client, address: str, key: str, service: str = "a") -> httpx.Response:
    resp = http.post(
        "/tickets",
        json={"service": service},
        headers={"X-Forwarded-For": address, "Idempotency-Key": key},
    )
    assert resp.status_code in (200, 201), resp.text
    return resp


def test_the_same_phone_repeating_its_key_gets_its_own_ticket_back(http: httpx.Client) -> None:
    first = issue(http, "10.9.0.1", "retry-me")
    again = issue(http, "10.9.0.1", "retry-me")
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["token"] == first.json()["token"]


def test_another_phone_sending_the_same_key_gets_a_ticket_of_its_own(http: httpx.Client) -> None:
    """A guessed or copied key never hands over someone else's ticket token."""
    mine = issue(http, "10.9.0.2", "1")
    theirs = issue(http, "10.9.0.3", "1")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["token"] != mine.json()["token"]


def test_the_same_key_for_another_service_is_a_new_ticket(http: httpx.Client) -> None:
    first = issue(http, "10.9.0.4", "reused", service="a")
    second = issue(http, "10.9.0.4", "reused", service="b")
    assert second.status_code == 201
    assert second.json()["service"] == "b" and second.json()["id"] != first.json()["id"]
