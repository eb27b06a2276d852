"""A regency deployment in a real browser: an office's kiosk and lobby display under /o/<id>
talk to that office only (their scripts build every URL on the office's base path)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.screens import SPEECH_STUB, TV, wait_live_status
from tests.support.server import SMALL_OFFICE_TOML, free_port, server_env, wait_for_health

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def regency_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("regency")
    conf = folder / "offices"
    conf.mkdir()
    (conf / "hulu.toml").write_text(SMALL_OFFICE_TOML, encoding="utf-8")
    hilir = SMALL_OFFICE_TOML.replace("Kantor Uji", "Kantor Hilir")
    (conf / "hilir.toml").write_text(hilir, encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "queue_server", "serve", "--config-dir", str(conf), "--port", str(port)],
        cwd=folder, env=server_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def open_page(browser: Any, base: str, path: str, problems: list[str]) -> Any:
    context = browser.new_context(viewport=TV, base_url=base)
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"{path}: {error}"))
    page.goto(path)
    wait_live_status(page)
    return page


def test_a_kiosk_ticket_reaches_its_own_offices_display_only(browser: Any, regency_url: str) -> None:
    """Kiosk at /o/hulu issues A001; the /o/hulu display shows it waiting, the /o/hilir display does not."""
    problems: list[str] = []
    hulu_tv = open_page(browser, regency_url, "/o/hulu/display", problems)
    hilir_tv = open_page(browser, regency_url, "/o/hilir/display", problems)
    kiosk = open_page(browser, regency_url, "/o/hulu/kiosk", problems)
    kiosk.click("[data-service='a']")
    kiosk.click("#take-ticket")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    assert "A001" in kiosk.locator("[data-ticket-card]").inner_text()
    assert kiosk.locator("[data-ticket-card] img.qr").get_attribute("src").startswith("/o/hulu/t/")
    # The office's own TV counts the new visitor live (over its socket); the other office's stays at 0.
    count = "#waiting .count"
    hulu_tv.wait_for_function(f"document.querySelector('{count}').textContent === '1'", timeout=5000)
    hilir_tv.wait_for_timeout(500)
    assert hilir_tv.locator(count).first.inner_text() == "0"
    assert not problems, problems
