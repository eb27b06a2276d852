"""The admin pages in a real browser: a change made on /admin is seen live by an open display."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.screens import PC, Screens

pytestmark = pytest.mark.browser


def test_admin_change_is_seen_live_by_an_open_display(screens: Screens) -> None:
    """Renaming a service and setting the running text on /admin updates an open lobby display, no reload."""
    display = screens.open("/display", name="display")
    admin = screens.open("/admin", name="admin", viewport=PC, role="admin", wait_live=False)
    form = admin.locator("[data-service-row='a'] form")
    form.locator("input[name='name']").fill("Layanan Pajak")
    form.locator("button[type='submit']").click()
    admin.wait_for_selector("#admin-toast.admin-toast-ok:not([hidden])")
    # The section is re-rendered from the server: it shows what was committed.
    admin.wait_for_function(
        "() => document.querySelector(\"[data-service-row='a'] input[name='name']\").value"
        " === 'Layanan Pajak'"
    )
    display.wait_for_function(
        "() => document.getElementById('waiting').textContent.includes('Layanan Pajak')", timeout=5000
    )
    admin.fill("#running-text-form input[name='running_text']", "Selamat datang di kantor uji")
    admin.click("#running-text-form button[type='submit']")
    display.wait_for_function(
        "() => { const t = document.getElementById('ticker');"
        " return !t.hidden && t.textContent.includes('Selamat datang di kantor uji'); }",
        timeout=5000,
    )
    assert not screens.problems


def test_admin_adds_a_service_and_a_closed_service_is_refused(screens: Screens) -> None:
    """Adding a service on /admin lists it; closing it makes the kiosk refuse it with service_closed."""
    admin = screens.open("/admin", name="admin", viewport=PC, role="admin", wait_live=False)
    admin.fill("#add-service input[name='id']", "ktp")
    admin.fill("#add-service input[name='name']", "KTP elektronik")
    admin.fill("#add-service input[name='prefix']", "K")
    admin.fill("#add-service textarea[name='requirements']", "Kartu Keluarga\nSurat pengantar")
    admin.fill("#add-service input[name='standard_minutes']", "12")
    admin.click("#add-service button[type='submit']")
    admin.wait_for_selector("[data-service-row='ktp']")
    services = {s["id"]: s for s in screens.state()["services"]}
    assert services["ktp"]["requirements"] == ["Kartu Keluarga", "Surat pengantar"]
    assert services["ktp"]["standard_minutes"] == 12
    row = admin.locator("[data-service-row='ktp'] form")
    row.locator("input[name='open']").uncheck()
    row.locator("button[type='submit']").click()
    admin.wait_for_selector("[data-service-row='ktp'] .admin-closed")
    kiosk = screens.open("/kiosk", name="kiosk")
    assert kiosk.locator("[data-service='ktp']").is_disabled()
    assert not screens.problems


def test_supervisor_cancels_and_reactivates_from_the_live_page(screens: Screens) -> None:
    """On /admin/live the supervisor cancels a waiting ticket, then brings it back to its place."""
    first = screens.issue("a")
    screens.issue("a")
    live = screens.open("/admin/live", name="live", viewport=PC, role="admin", wait_live=False)
    live.on("dialog", lambda dialog: dialog.accept())
    live.click(f"[data-ticket-row='{first['number']}'] button.btn-warn")
    live.wait_for_selector(f"#finished [data-ticket-row='{first['number']}']")
    live.click(f"#finished [data-ticket-row='{first['number']}'] button")
    live.wait_for_selector(f"[data-queue='a'] [data-ticket-row='{first['number']}']")
    queue = screens.state()["queues"]["a"]
    assert queue[0]["number"] == first["number"]
    assert not screens.problems


def test_kiosk_shows_the_closed_screen_with_the_next_opening(screens: Screens) -> None:
    """Outside the opening hours the kiosk's start screen is the closed screen naming the next opening."""
    today = screens.state()["day"]
    admin_token = screens.server.admin_token()
    every_day = {d: ["08:00-16:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    resp = httpx.put(
        f"{screens.base_url}/api/v1/hours",
        json={**every_day, "closed_dates": [today]},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert resp.status_code == 200, resp.text
    kiosk = screens.open("/kiosk", name="kiosk")
    kiosk.wait_for_selector("#step-closed:not([hidden])")
    text = kiosk.inner_text("#step-closed")
    assert "Kantor sedang tutup" in text and "08:00" in text
    assert kiosk.locator("#step-services").is_hidden()
    assert not screens.problems
