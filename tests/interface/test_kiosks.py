"""Paired kiosks issue without limit; anonymous devices follow tickets_per_minute_per_address."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.server import ServerProcess, office_toml


def test_anonymous_issuing_is_limited_but_a_paired_kiosk_is_not(tmp_path: Path) -> None:
    """Over the per-address limit an anonymous device gets 429; a paired kiosk keeps issuing."""
    server = ServerProcess(tmp_path, office_toml(limits={"tickets_per_minute_per_address": 2}))
    server.start()
    try:
        admin = server.admin_token()
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            for _ in range(2):
                assert client.post("/api/v1/tickets", json={"service": "a"}).status_code == 201
            refused = client.post("/api/v1/tickets", json={"service": "a"})
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "too_many_requests"
            paired = client.post(
                "/api/v1/kiosks", json={"name": "kiosk-1"}, headers={"Authorization": f"Bearer {admin}"}
            )
            assert paired.status_code == 201
            kiosk_token = paired.json()["token"]
            for _ in range(5):
                issued = client.post(
                    "/api/v1/tickets", json={"service": "a"}, headers={"X-Kiosk-Token": kiosk_token}
                )
                assert issued.status_code == 201
            pair_page = client.get(paired.json()["pair_url"], follow_redirects=False)
            assert pair_page.status_code == 303
            assert "antre_kiosk" in pair_page.headers["set-cookie"]
            assert "httponly" in pair_page.headers["set-cookie"].lower()
    finally:
        server.stop()


def test_pairing_needs_an_admin(tmp_path: Path) -> None:
    """Officers and anonymous callers cannot pair kiosks."""
    server = ServerProcess(tmp_path)
    server.start()
    try:
        officer = server.officer_token()
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            assert client.post("/api/v1/kiosks", json={"name": "x"}).status_code == 401
            forbidden = client.post(
                "/api/v1/kiosks", json={"name": "x"}, headers={"Authorization": f"Bearer {officer}"}
            )
            assert forbidden.status_code == 403
            assert client.get("/kiosk/pair?token=nope", follow_redirects=False).status_code == 404
    finally:
        server.stop()
