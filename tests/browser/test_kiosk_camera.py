"""The kiosk's camera reads a ticket's QR code (vendored jsQR): Chromium's fake camera plays a
picture of the code, the kiosk checks the ticket in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno

from tests.browser.conftest import CHROMIUM
from tests.browser.screens import CHROMIUM_ARGS, PC
from tests.browser.test_remote_visit import OFFICE, post
from tests.support.server import ServerFactory, ServerProcess

pytestmark = pytest.mark.browser


def qr_video(text: str, path: Path, size: int = 480) -> Path:
    """A one-frame Y4M video of `text`'s QR code (black on white), for --use-file-for-fake-video-capture."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    scale = size // len(matrix)
    luma = bytearray([235]) * (size * size)
    for y in range(len(matrix) * scale):
        for x in range(len(matrix) * scale):
            if matrix[y // scale][x // scale]:
                luma[y * size + x] = 16
    chroma = bytes([128]) * (size // 2 * size // 2)
    header = f"YUV4MPEG2 W{size} H{size} F5:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def office(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(OFFICE)


@pytest.fixture
def camera_kiosk(tmp_path: Path, office: ServerProcess) -> Iterator[tuple[Any, str]]:
    """A paired kiosk in a Chromium whose camera shows a remote ticket's QR code; (page, ticket number)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    remote = {"service": "reg", "remote": True}
    ticket = httpx.post(f"{office.base_url}/api/v1/tickets", json=remote, timeout=10).json()
    video = qr_video(f"{office.base_url}/t/{ticket['token']}", tmp_path / "qr.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    paired = post(office, "/api/v1/kiosks", office.admin_token(), {"name": "kamera"}).json()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        context = browser.new_context(viewport=PC, base_url=office.base_url, permissions=["camera"])
        page = context.new_page()
        page.goto(paired["pair_url"])
        yield page, ticket["number"]
        browser.close()


def test_the_kiosk_camera_reads_a_code_and_checks_the_ticket_in(camera_kiosk: tuple[Any, str]) -> None:
    """With a camera the kiosk offers it; the code in front of it checks the remote ticket in, once."""
    page, number = camera_kiosk
    page.wait_for_selector("#camera-start:not([hidden])")
    assert page.evaluate("typeof window.jsQR") == "undefined", "no decoder until the camera is used"
    page.click("#camera-start")
    page.wait_for_function(f"() => document.getElementById('checkin-number').textContent === '{number}'")
    assert "sudah tercatat hadir" in page.inner_text("#checkin-state")
    assert page.locator("#camera-box").is_hidden(), "the camera closes once it has read a code"
    assert page.evaluate("window.antreKiosk.checkin.last") == {"status": 200, "code": None}
