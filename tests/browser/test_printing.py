"""Ticket printing: ESC/POS bytes through python-escpos' Dummy printer and a file printer."""

from __future__ import annotations

from pathlib import Path

import httpx
from escpos.printer import Dummy

from queue_server.config import parse_config
from queue_server.web.i18n import Catalogs
from queue_server.web.pages import printing
from tests.support.server import ServerFactory, free_port, office_toml

QR_STORE = b"\x1d(k"  # GS ( k: the printer's own QR code commands
CUT = b"\x1dV"


def printer_office(kind: str, target: str, width_mm: int = 58) -> str:
    return office_toml() + f'\n[printer]\nkind = "{kind}"\ntarget = "{target}"\nwidth_mm = {width_mm}\n'


def test_rendered_ticket_holds_the_number_and_a_qr_code_of_the_phone_link() -> None:
    """The bytes for a 58 mm ticket carry the number, the service, a native QR code of the URL and a cut."""
    config = parse_config(office_toml())
    view = {
        "number": "A007", "service": "a", "status": "outside", "position": 3, "party_size": 2,
        "issued_at": "2026-11-27T08:03:12+08:00", "estimated_wait_minutes": 12,
    }  # fmt: skip
    url = "http://192.168.1.10:8000/t/secret-token"
    paper = printing.paper_ticket(config, view, Catalogs().translator("id"), url)
    dummy = Dummy()
    printing.render(dummy, paper, 58)
    data = dummy.output
    assert b"A007" in data
    assert b"Layanan A" in data
    assert b"27-11-2026 08:03" in data
    assert b"Urutan ke-3" in data
    assert QR_STORE in data and url.encode() in data
    assert data.index(b"A007") < data.index(QR_STORE)
    assert data.rstrip(b"\x00").endswith(CUT + b"\x00") or CUT in data[-8:]


def test_print_endpoint_writes_the_ticket_to_the_configured_file_printer(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    """POST /api/v1/tickets/<token>/print sends the ticket's bytes to `[printer] kind = "file"`."""
    device = tmp_path / "lp0"
    server = server_factory(printer_office("file", str(device)))
    ticket = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "b"}, timeout=10).json()
    answer = httpx.post(f"{server.base_url}/api/v1/tickets/{ticket['token']}/print", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"printed": True, "fallback": None}
    data = device.read_bytes()
    assert b"B001" in data
    assert QR_STORE in data
    assert f"{server.base_url}/t/{ticket['token']}".encode() in data


def test_print_endpoint_limits_reprints_and_refuses_unknown_tickets(
    server_factory: ServerFactory, tmp_path: Path
) -> None:
    """A ticket prints at most three times (paper costs money); unknown tokens get 404."""
    server = server_factory(printer_office("file", str(tmp_path / "lp0"), 80))
    token = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}, timeout=10).json()["token"]
    codes = [
        httpx.post(f"{server.base_url}/api/v1/tickets/{token}/print", timeout=10).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    missing = httpx.post(f"{server.base_url}/api/v1/tickets/nope/print", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_ticket"


def test_print_endpoint_without_a_printer_asks_the_browser_to_print(server_factory: ServerFactory) -> None:
    """With `[printer] kind = "none"` (the default) the answer tells the kiosk to use the browser's print."""
    server = server_factory()
    token = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}, timeout=10).json()["token"]
    answer = httpx.post(f"{server.base_url}/api/v1/tickets/{token}/print", timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"printed": False, "fallback": "browser"}


def test_unreachable_network_printer_answers_503(server_factory: ServerFactory) -> None:
    """A network printer that refuses the connection gives 503 printer_unavailable, not a crash."""
    server = server_factory(printer_office("network", f"127.0.0.1:{free_port()}"))
    token = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}, timeout=10).json()["token"]
    answer = httpx.post(f"{server.base_url}/api/v1/tickets/{token}/print", timeout=15)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "printer_unavailable"


def test_the_printed_ticket_shows_the_wait_as_a_range_and_the_next_visitor_as_next() -> None:
    """The paper says "sekitar 10-15 menit" like the screens, and "Anda berikutnya" at position 1."""
    config = parse_config(office_toml())
    t = Catalogs().translator("id")
    view = {
        "number": "A007", "service": "a", "status": "waiting", "position": 3, "party_size": 1,
        "issued_at": "2026-11-27T08:03:12+08:00",
        "estimated_wait_minutes": 12, "estimated_wait_range": [10, 15],
    }  # fmt: skip
    lines = printing.paper_ticket(config, view, t, "http://x/t/y").lines
    assert "Perkiraan waktu tunggu sekitar 10-15 menit" in lines
    first = {**view, "position": 1, "estimated_wait_minutes": 0, "estimated_wait_range": None}
    assert "Anda berikutnya" in printing.paper_ticket(config, first, t, "http://x/t/y").lines
