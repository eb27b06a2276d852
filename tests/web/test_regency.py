"""Many offices on one deployment (api-scale.md): each under /o/<id> with its own database,
numbering, accounts and events; the regency's list of offices; unknown offices and bad files refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from queue_server.config import parse_config
from queue_server.engine.accounts import hash_password
from queue_server.offices_dir import OfficesError, load_offices
from queue_server.store.accounts import upsert_user
from queue_server.store.db import Database
from queue_server.store.migrations import migrate
from queue_server.web.regency import create_regency_app
from tests.support.server import SMALL_OFFICE_TOML


def office_toml(name: str) -> str:
    return SMALL_OFFICE_TOML.replace('name = "', f'name = "{name} ', 1)


@pytest.fixture
def regency(tmp_path: Path) -> Iterator[TestClient]:
    offices = {"hulu": parse_config(office_toml("Hulu")), "hilir": parse_config(office_toml("Hilir"))}
    data = tmp_path / "data"
    data.mkdir()
    for office_id in offices:  # an officer in each office's own database
        db = Database(data / f"{office_id}.db")
        migrate(db.writer)
        upsert_user(db.writer, "budi", "officer", hash_password(f"sandi-{office_id}"), "2026-12-01T08:00:00")
        db.close()
    with TestClient(create_regency_app(offices, data)) as client:
        yield client


def service_of(client: TestClient, office: str) -> str:
    service: str = client.get(f"/o/{office}/api/v1/services").json()[0]["id"]
    return service


def test_each_office_numbers_its_own_tickets(regency: TestClient) -> None:
    """The first ticket of each office is number 1 of that office: numbering and seq are per office."""
    first = regency.post("/o/hulu/api/v1/tickets", json={"service": service_of(regency, "hulu")})
    other = regency.post("/o/hilir/api/v1/tickets", json={"service": service_of(regency, "hilir")})
    again = regency.post("/o/hulu/api/v1/tickets", json={"service": service_of(regency, "hulu")})
    assert first.status_code == other.status_code == again.status_code == 201
    assert first.json()["number"].endswith("001") and other.json()["number"].endswith("001")
    assert again.json()["number"].endswith("002")
    seqs = {office: regency.get(f"/o/{office}/api/v1/state").json()["seq"] for office in ("hulu", "hilir")}
    assert seqs["hilir"] < seqs["hulu"], "each office has its own seq"


def test_a_ticket_token_of_one_office_is_unknown_at_another(regency: TestClient) -> None:
    """Whoever holds a token follows that ticket at its office, and nowhere else."""
    issued = regency.post("/o/hulu/api/v1/tickets", json={"service": service_of(regency, "hulu")})
    token = issued.json()["token"]
    assert regency.get(f"/o/hulu/api/v1/tickets/{token}").status_code == 200
    answer = regency.get(f"/o/hilir/api/v1/tickets/{token}")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_ticket"


def test_an_account_logs_in_only_at_its_own_office(regency: TestClient) -> None:
    """Accounts live in each office's database: a bearer token of one office answers 401 at another."""
    login = regency.post("/o/hulu/api/v1/login", json={"username": "budi", "password": "sandi-hulu"})
    assert login.status_code == 200
    bearer = {"Authorization": f"Bearer {login.json()['token']}"}
    assert regency.get("/o/hulu/api/v1/me", headers=bearer).status_code == 200
    assert regency.get("/o/hilir/api/v1/me", headers=bearer).status_code == 401
    wrong = regency.post("/o/hilir/api/v1/login", json={"username": "budi", "password": "sandi-hulu"})
    assert wrong.status_code == 401


def test_a_display_hears_only_its_own_office(regency: TestClient) -> None:
    """A ticket issued at one office reaches that office's display socket, not the other's."""
    with (
        regency.websocket_connect("/o/hilir/ws/display") as hilir,
        regency.websocket_connect("/o/hulu/ws/display") as hulu,
    ):
        assert hilir.receive_json()["type"] == "snapshot" and hulu.receive_json()["type"] == "snapshot"
        regency.post("/o/hulu/api/v1/tickets", json={"service": service_of(regency, "hulu")})
        regency.post("/o/hilir/api/v1/tickets", json={"service": service_of(regency, "hilir")})
        regency.post("/o/hilir/api/v1/tickets", json={"service": service_of(regency, "hilir")})
        seen_hulu = hulu.receive_json()
        seen_hilir = [hilir.receive_json(), hilir.receive_json()]
    assert seen_hulu["type"] == "ticket.issued" and seen_hulu["seq"] == 1
    assert [e["seq"] for e in seen_hilir if e["type"] == "ticket.issued"][:1] == [1]


def test_the_regency_lists_every_office_with_its_queue(regency: TestClient) -> None:
    """GET /api/v1/offices gives each office's id, name, waiting, inside and capacity; /offices shows them."""
    regency.post("/o/hulu/api/v1/tickets", json={"service": service_of(regency, "hulu"), "party_size": 2})
    offices = {o["id"]: o for o in regency.get("/api/v1/offices").json()}
    assert set(offices) == {"hulu", "hilir"}
    assert offices["hulu"]["waiting"] == 1 and offices["hulu"]["inside"] == 2
    assert offices["hilir"]["waiting"] == 0
    assert offices["hulu"]["name"].startswith("Hulu") and offices["hulu"]["capacity"] > 0
    page = regency.get("/offices")
    assert page.status_code == 200 and "/o/hulu/display" in page.text and "Hilir" in page.text


def test_an_unknown_office_answers_unknown_office(regency: TestClient) -> None:
    """Any path under /o/<id> of an office that does not exist is 404 unknown_office."""
    for path in ("/o/nowhere/api/v1/state", "/o/nowhere", "/o/nowhere/kiosk"):
        answer = regency.get(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_office", path


def test_pages_under_an_office_link_within_that_office(regency: TestClient) -> None:
    """The kiosk at /o/hulu loads its scripts and styles from /o/hulu and tells its scripts the base path."""
    page = regency.get("/o/hulu/kiosk")
    assert page.status_code == 200 and 'data-base="/o/hulu"' in page.text
    assert '"/o/hulu/static/css/antre.css' in page.text
    assert regency.get("/o/hulu/static/css/antre.css").status_code == 200
    login = regency.get("/o/hulu/counter/1", follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"].startswith("/o/hulu/login?next=")


def test_a_bad_office_file_is_refused_with_its_name_and_key(tmp_path: Path) -> None:
    """A folder with a bad file stops serve with one line naming the file and the key."""
    (tmp_path / "good.toml").write_text(office_toml("Good"), encoding="utf-8")
    (tmp_path / "bad.toml").write_text(office_toml("Bad").replace("capacity = ", "capacity = -"), "utf-8")
    with pytest.raises(OfficesError, match=r"bad\.toml: office\.capacity"):
        load_offices(tmp_path)
    (tmp_path / "bad.toml").unlink()
    (tmp_path / "Not An Id.toml").write_text(office_toml("X"), encoding="utf-8")
    with pytest.raises(OfficesError, match="file name must be the office id"):
        load_offices(tmp_path)
