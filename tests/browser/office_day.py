"""A believable morning at the example office, for the fit tests and the documentation screenshots.

Four services with real requirements, four counters: tickets of every service
(some for two people), counters calling and serving, counter 4 paused for
prayer, a full office with visitors waiting outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "queue_server" / "example_office.toml"
ADMIN = ("kepala", "sandi-contoh-kepala")


def example_office_text() -> str:
    """The example office with a phone limit high enough for seeding from one address."""
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    return text.replace("tickets_per_minute_per_address = 6", "tickets_per_minute_per_address = 0")


def seed(server: ServerProcess, token: str) -> str:
    """Fill the office as admin (`token`); return the token of a waiting ticket for the phone page."""
    api = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def post(path: str, body: dict[str, Any] | None = None) -> Any:
        answer = api.post(path, json=body) if body is not None else api.post(path)
        answer.raise_for_status()
        return answer.json() if answer.status_code != 204 else None

    api.put("/api/v1/capacity", json={"capacity": 16}).raise_for_status()
    services = ["ktp", "kk", "ktp", "legal", "ktp", "izin", "kk", "ktp", "legal", "kk"]
    for index, service in enumerate(services * 2):
        post("/api/v1/tickets", {"service": service, "party_size": 2 if index % 7 == 3 else 1})
    for counter in ("1", "2", "3"):
        post(f"/api/v1/counters/{counter}/call-next")
    post("/api/v1/counters/2/serve")
    post("/api/v1/counters/1/finish")
    post("/api/v1/counters/1/call-next")
    post("/api/v1/counters/3/finish")
    post("/api/v1/counters/3/call-next")
    post("/api/v1/counters/4/close", {"reason": "prayer"})
    phone = post("/api/v1/tickets", {"service": "kk"})
    post("/api/v1/tickets", {"service": "ktp"})
    api.close()
    return str(phone["token"])


def remote_office_text() -> str:
    """The example office with issue 11 on: remote tickets (a week ahead, NIK optional), priority
    visitors, and the KTP-el a two-step route (registration, then pick-up, which the kiosk hides)."""
    text = example_office_text()
    for prefix in ("A", "B", "C", "D"):
        text = text.replace(f'prefix = "{prefix}"\n', f'prefix = "{prefix}"\nremote_quota = 20\n', 1)
    text = text.replace('id = "ktp"\n', 'id = "ktp"\nnext = "ambil"\n', 1)
    pickup = (
        '\n[[services]]\nid = "ambil"\nname = "Pengambilan dokumen"\nprefix = "E"\nkiosk = false\n'
        'standard_minutes = 5\nfee = "Gratis"\n'
    )
    first_counter = text.index("[[counters]]")
    text = text[:first_counter] + pickup.lstrip("\n") + "\n" + text[first_counter:]
    four = 'services = ["izin", "legal", "ktp"]'
    text = text.replace(four, four.replace('"ktp"]', '"ktp", "ambil"]'), 1)
    return text + (
        "\n[remote]\nenabled = true\ncome_now_position = 2\nlead_minutes = 10\nbook_days_ahead = 7\n"
        'active_per_device = 50\nnik = "optional"\n\n[queue]\nrejoin_within_calls = 5\nrejoin_after = 2\n'
        'priority_categories = ["lansia", "disabilitas", "ibu_hamil"]\nmax_priority_in_a_row = 2\n'
    )
