"""The supervisor's endpoints, `backup` while serving under load, and `config export` round trips."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from queue_server.config import parse_config
from tests.interface.helpers import API, Office, assert_error
from tests.support.server import ServerProcess, office_toml


def _post(
    office: Office, ticket: dict[str, Any], action: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return office.http.post(f"/tickets/id/{ticket['id']}/{action}", json=body, headers=office.admin)


def test_supervisor_cancels_a_called_ticket_and_its_counter_is_free(office: Office) -> None:
    """Cancel from called: 200 cancelled, the counter has no current ticket; done tickets 409."""
    ticket = office.issue_ok("a")
    office.call_next_ok("1")
    resp = _post(office, ticket, "cancel")
    assert resp.status_code == 200 and resp.json()["status"] == "cancelled", resp.text
    counter = next(c for c in office.http.get("/counters").json() if c["id"] == "1")
    assert counter["current"] is None
    assert_error(_post(office, ticket, "cancel"), 409, "invalid_transition")
    assert_error(office.http.post("/tickets/id/999/cancel", headers=office.admin), 404, "unknown_ticket")


def test_reactivated_no_show_is_back_at_its_original_place(office: Office) -> None:
    """A no-show reactivated is waiting again at position 1, ahead of the tickets issued after it."""
    first = office.issue_ok("a")
    second = office.issue_ok("a")
    office.call_next_ok("1")
    office.step_ok("1", "no-show")
    resp = _post(office, first, "reactivate")
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "waiting" and resp.json()["position"] == 1
    assert office.ticket(second["token"])["position"] == 2
    assert_error(_post(office, second, "reactivate"), 409, "invalid_transition")


def test_supervisor_transfer_moves_any_open_ticket(office: Office) -> None:
    """Transfer a waiting ticket to b; unknown service 404; a done ticket 409."""
    ticket = office.issue_ok("a")
    resp = _post(office, ticket, "transfer", {"service": "b"})
    assert resp.status_code == 200 and resp.json()["service"] == "b", resp.text
    assert office.waiting() == {"a": 0, "b": 1}
    assert_error(_post(office, ticket, "transfer", {"service": "zz"}), 404, "unknown_service")
    assert_error(_post(office, ticket, "transfer", {}), 422)
    office.call_next_ok("4")
    office.step_ok("4", "finish")
    assert_error(_post(office, ticket, "transfer", {"service": "a"}), 409, "invalid_transition")


def test_ticket_list_filters_by_status_and_service_without_tokens(office: Office) -> None:
    """GET /tickets?status=&service= lists the day's tickets, oldest first, never a token."""
    a1 = office.issue_ok("a")
    office.issue_ok("b")
    office.call_next_ok("1")
    day = office.state()["day"]
    every = office.http.get(f"/tickets?day={day}", headers=office.admin).json()
    assert [t["number"] for t in every] == ["A001", "B001"]
    assert all("token" not in t for t in every)
    called = office.http.get("/tickets?status=called", headers=office.admin).json()
    assert [t["id"] for t in called] == [a1["id"]]
    assert office.http.get("/tickets?service=b", headers=office.admin).json()[0]["number"] == "B001"
    assert office.http.get("/tickets?day=2020-01-01", headers=office.admin).json() == []
    assert_error(office.http.get("/tickets?day=yesterday", headers=office.admin), 422)
    assert_error(office.http.get("/tickets?status=lost", headers=office.admin), 422)


def test_backup_during_load_serves_the_same_office_with_every_acknowledged_ticket(
    server: ServerProcess, tmp_path: Path
) -> None:
    """`queue-server backup` under load: a server on the copy has every ticket acknowledged before it."""
    acknowledged: list[str] = []
    stop = threading.Event()

    def issue_loop() -> None:
        with httpx.Client(base_url=server.base_url + API, timeout=30) as client:
            while not stop.is_set():
                resp = client.post("/tickets", json={"service": "a"})
                if resp.status_code == 201:
                    acknowledged.append(resp.json()["number"])

    workers = [threading.Thread(target=issue_loop) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        while len(acknowledged) < 30:
            threading.Event().wait(0.05)
        before = list(acknowledged)
        copy = tmp_path / "backup" / "copy.db"
        done = server.cli("backup", str(copy), "--db", str(server.db_path))
        assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    restored = ServerProcess(tmp_path / "restored", office_toml(capacity=1000))
    restored.db_path.parent.mkdir(parents=True, exist_ok=True)
    copy.replace(restored.db_path)
    with restored:
        tickets = httpx.get(f"{restored.base_url}{API}/state", timeout=10).json()
        numbers = {t["number"] for t in tickets["queues"]["a"]}
        assert set(before) <= numbers
        assert tickets["office"]["name"] == "Kantor Uji"
    refused = server.cli("backup", str(restored.db_path), "--db", str(server.db_path))
    assert refused.returncode == 2  # never overwrites a file


def test_config_export_round_trips_through_serve(office: Office, tmp_path: Path) -> None:
    """`config export` prints TOML that `serve` accepts and that reads back to the live configuration."""
    office.http.post(
        "/services",
        json={
            "id": "ktp",
            "name": 'KTP "elektronik"',
            "prefix": "K",
            "requirements": ["KK", "Akta"],
            "fee": "Rp 0",
        },
        headers=office.admin,
    )
    office.http.put(
        "/hours", json={"mon": ["08:00-12:00"], "closed_dates": ["2026-12-25"]}, headers=office.admin
    )
    office.http.patch("/counters/2", json={"services": ["ktp", "b"]}, headers=office.admin)
    done = office.server.cli("config", "export", "--db", str(office.server.db_path))
    assert done.returncode == 0, done.stderr
    exported = parse_config(done.stdout)
    services = {s.id: s for s in exported.services}
    assert services["ktp"].name == 'KTP "elektronik"' and services["ktp"].requirements == ("KK", "Akta")
    assert next(c for c in exported.counters if c.id == "2").services == ("ktp", "b")
    assert exported.hours is not None and exported.hours.as_dict()["mon"] == ["08:00-12:00"]
    # A new office served from the exported file serves the same services.
    again = ServerProcess(tmp_path / "again", done.stdout)
    with again:
        listed = httpx.get(f"{again.base_url}{API}/services", timeout=10).json()
        assert [s["id"] for s in listed] == [s["id"] for s in office.services()]
        assert httpx.get(f"{again.base_url}{API}/hours", timeout=10).json()["mon"] == ["08:00-12:00"]


def test_config_import_applies_the_toml_file_to_a_stopped_server(office: Office) -> None:
    """After an admin change the TOML differs; `config import` makes the file's configuration live again."""
    office.http.patch("/services/a", json={"name": "Diubah"}, headers=office.admin)
    server = office.server
    server.stop()
    done = server.cli("config", "import", "--config", str(server.config_path), "--db", str(server.db_path))
    assert done.returncode == 0, done.stderr
    server.start()
    assert next(s for s in office.services() if s["id"] == "a")["name"] == "Layanan A"
