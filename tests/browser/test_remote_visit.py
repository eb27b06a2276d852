"""Issue 11 in a real browser: a ticket from home on a phone, "come now" as the queue moves,
check-in at the kiosk by a scanned QR code, called at the counter, two route steps, the survey;
rejoin after a missed call; priority and check-in by number at the door."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.screens import PC, PHONE, Screens
from tests.support.server import ServerFactory, ServerProcess

pytestmark = pytest.mark.browser

OFFICE = """
[office]
name = "Kantor Uji Jarak Jauh"
timezone = "Asia/Makassar"
language = "id"
capacity = 10

[[services]]
id = "reg"
name = "Pendaftaran"
prefix = "A"
standard_minutes = 30
remote_quota = 5
next = "ambil"

[[services]]
id = "ambil"
name = "Pengambilan dokumen"
prefix = "B"
kiosk = false

[[counters]]
id = "1"
name = "Loket 1"
services = ["reg"]

[[counters]]
id = "2"
name = "Loket 2"
services = ["ambil"]

[limits]
tickets_per_minute_per_address = 0

[remote]
enabled = true
come_now_position = 1
lead_minutes = 0
book_days_ahead = 3
active_per_device = 5
nik = "optional"

[queue]
rejoin_within_calls = 3
rejoin_after = 1
priority_categories = ["lansia", "ibu_hamil"]
"""


@pytest.fixture
def office(server_factory: ServerFactory) -> ServerProcess:
    return server_factory(OFFICE)


@pytest.fixture
def screens(browser: Any, office: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Screens]:
    """Screens on the remote office (the conftest's screens are on the small office)."""
    opened = Screens(browser, office)
    yield opened
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        from tests.browser.conftest import ARTIFACTS

        opened.save_artifacts(ARTIFACTS / request.node.name)
    opened.close()


def post(server: ServerProcess, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def paired_kiosk(screens: Screens) -> Any:
    """The kiosk's browser opens its pairing link once (the HttpOnly cookie then rides on every call)."""
    paired = post(screens.server, "/api/v1/kiosks", screens.server.admin_token(), {"name": "pintu-depan"})
    assert paired.status_code == 201, paired.text
    return screens.open(paired.json()["pair_url"], name="kiosk", viewport=PC)


def scanner_types(page: Any, text: str, gap_s: float = 0.005) -> None:
    """A USB scanner reading `text`: key presses 5 ms apart, then Enter, through the browser's own input.

    Each key is stamped with its device time (CDP Input.dispatchKeyEvent `timestamp`), as a
    scanner's keys are by the OS: the page sees a scanner's rhythm however slowly a loaded test
    machine delivers them (Playwright's keyboard.type takes the delivery time instead).
    """
    cdp = page.context.new_cdp_session(page)
    start = time.time()
    keys = [{"key": ch, "text": ch} for ch in text]
    keys.append({"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"})
    for index, key in enumerate(keys):
        stamp = start + index * gap_s
        cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "timestamp": stamp, **key})
        up = {name: value for name, value in key.items() if name != "text"}
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "timestamp": stamp + 0.001, **up})
    cdp.detach()


def state_text(page: Any) -> str:
    text: str = page.inner_text("[data-field='state']")
    return text


def test_a_visit_from_home_through_two_route_steps(screens: Screens) -> None:
    """Phone at home -> come now as the queue moves -> scanned at the kiosk -> counter -> step 2 -> survey."""
    server = screens.server
    officer = server.officer_token()
    for _ in range(3):
        screens.issue("reg")

    phone = screens.open("/remote", name="phone", viewport=PHONE, wait_live=False)
    assert phone.locator("[data-remote-service]").count() == 1, "the pick-up step is never offered on its own"
    assert "Sisa kuota hari ini: 5" in phone.inner_text("[data-remote-service='reg']")
    phone.click("[data-remote-service='reg']")
    phone.click("#remote-take")
    phone.wait_for_url("**/t/**")
    phone.wait_for_selector("html[data-live-status='live']")
    assert state_text(phone) == "Anda antre dari rumah"
    assert phone.inner_text("[data-field='position']") == "4"
    assert phone.get_attribute("#phone", "data-come-now") == "false"
    assert phone.locator("[data-field='checkin-qr']").is_visible(), "the code to scan at the kiosk"
    phone.click("#enable-alerts")  # the gesture that lets the page ring later

    # The queue moves: with one ticket ahead the server says come now, and the phone rings once.
    assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    phone.wait_for_function("() => document.querySelector(\"[data-field='position']\").textContent === '3'")
    assert phone.get_attribute("#phone", "data-come-now") == "false"
    assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    phone.wait_for_selector("#phone[data-come-now='true']")
    assert state_text(phone) == "Silakan datang sekarang"
    assert phone.evaluate("window.antrePhone.alerts") == ["test", "come_now"]

    # At the entrance the scanner types the code (the ticket's URL) and Enter, with no field focused.
    kiosk = paired_kiosk(screens)
    scanner_types(kiosk, phone.url)
    kiosk.wait_for_selector("#step-checkin:not([hidden])")
    kiosk.wait_for_function("() => document.getElementById('checkin-number').textContent === 'A004'")
    assert "sudah tercatat hadir" in kiosk.inner_text("#checkin-state")
    assert kiosk.inner_text("#checkin-admission") == "Silakan masuk dan tunggu panggilan"
    phone.wait_for_selector("#phone[data-status='waiting']")
    assert phone.locator("[data-field='checkin']").is_hidden(), "checked in: no code to scan any more"

    # The counter calls A004 (A003 first), shows the route step, finishes: the ticket joins step 2.
    assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    counter = screens.open("/counter/1", name="counter", viewport=PC, role="officer")
    counter.click("#call-next")
    counter.wait_for_timeout(600)
    counter.click("#call-next")  # a visitor is at the counter: the second press confirms
    counter.wait_for_function("() => document.getElementById('current-number').textContent === 'A004'")
    assert counter.inner_text("#current-step") == "Langkah 1 dari 2: Pendaftaran"
    phone.wait_for_selector("#phone[data-status='called']")
    assert "Loket 1" in state_text(phone)
    counter.click("#finish")
    phone.wait_for_function(
        "() => document.querySelector(\"[data-field='step']\").textContent === "
        "'Langkah 2 dari 2: Pengambilan dokumen'"
    )
    assert phone.get_attribute("#phone", "data-status") == "waiting"

    # Step 2 at counter 2 (the three walk-ins went ahead of it there); then the survey, once.
    for _ in range(4):
        called = post(server, "/api/v1/counters/2/call-next", officer)
        assert called.status_code == 200, called.text
    assert called.json()["number"] == "A004"
    phone.wait_for_selector("#phone[data-status='called']")
    assert "Loket 2" in state_text(phone)
    assert post(server, "/api/v1/counters/2/finish", officer).status_code == 200
    phone.wait_for_selector("#phone[data-status='done']")
    phone.wait_for_selector("#phone-survey:not([hidden]) .survey-face[data-rating='4']", timeout=10000)
    assert not screens.problems


def test_a_missed_call_rejoins_from_the_phone_once(screens: Screens) -> None:
    """No-show -> "Antre lagi" puts it back behind one waiting ticket; a second no-show cannot rejoin."""
    server = screens.server
    officer = server.officer_token()
    mine = screens.issue("reg")
    for _ in range(2):
        screens.issue("reg")
    phone = screens.open(f"/t/{mine['token']}", name="phone", viewport=PHONE)
    assert phone.locator("#rejoin-area").is_hidden()
    assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    assert post(server, "/api/v1/counters/1/no-show", officer).status_code == 200
    phone.wait_for_selector("#rejoin-area:not([hidden])")
    phone.click("#rejoin")
    phone.wait_for_selector("#phone[data-status='waiting']")
    # rejoin_after = 1: exactly one of the two waiting goes first.
    assert phone.inner_text("[data-field='position']") == "2"
    assert post(server, "/api/v1/counters/1/call-next", officer).json()["number"] == "A002"
    assert post(server, "/api/v1/counters/1/call-next", officer).json()["number"] == "A001"
    assert post(server, "/api/v1/counters/1/no-show", officer).status_code == 200
    phone.wait_for_selector("#phone[data-status='no_show']")
    # Rejoined once already: the button is gone, and the API's refusal says why.
    assert phone.locator("#rejoin-area").is_hidden()
    again = httpx.post(f"{server.base_url}/api/v1/tickets/{mine['token']}/rejoin", timeout=10)
    assert again.status_code == 409 and again.json()["error"]["code"] == "rejoin_not_allowed"
    assert not screens.problems


def test_the_refusal_of_a_rejoin_is_shown_in_its_own_words(screens: Screens) -> None:
    """Too many calls since the no-show: the phone shows rejoin_not_allowed's message, not a generic one."""
    server = screens.server
    officer = server.officer_token()
    mine = screens.issue("reg")
    for _ in range(4):
        screens.issue("reg")
    phone = screens.open(f"/t/{mine['token']}", name="phone", viewport=PHONE)
    assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    assert post(server, "/api/v1/counters/1/no-show", officer).status_code == 200
    for _ in range(3):  # rejoin_within_calls = 3
        assert post(server, "/api/v1/counters/1/call-next", officer).status_code == 200
    phone.wait_for_selector("#rejoin-area:not([hidden])")
    phone.click("#rejoin")
    phone.wait_for_selector("#phone-message:not([hidden])")
    refusal = httpx.post(f"{server.base_url}/api/v1/tickets/{mine['token']}/rejoin", timeout=10).json()
    assert phone.inner_text("#phone-message") == refusal["error"]["message"]
    assert phone.get_attribute("#phone", "data-status") == "no_show"
    assert not screens.problems


def test_priority_at_the_kiosk_and_check_in_by_number_at_the_door(screens: Screens) -> None:
    """The kiosk's large priority choice marks the ticket (counter, TV); the door checks a remote one in."""
    server = screens.server
    kiosk = paired_kiosk(screens)
    # The same characters at a person's pace are no scan: nothing is checked in, the kiosk stays put.
    scanner_types(kiosk, f"{server.base_url}/t/{'x' * 43}", gap_s=0.12)
    kiosk.wait_for_timeout(500)
    assert kiosk.locator("#step-checkin").is_hidden()
    assert kiosk.evaluate("window.antreKiosk.checkin.scans") == 0
    kiosk.click("[data-service='reg']")
    kiosk.click("[data-priority='lansia']")
    assert kiosk.get_attribute("[data-priority='lansia']", "aria-pressed") == "true"
    assert kiosk.get_attribute("[data-priority='']", "aria-pressed") == "false"
    kiosk.click("#take-ticket")
    kiosk.wait_for_selector("#step-ticket:not([hidden])")
    number = kiosk.inner_text("[data-ticket-card] [data-field='number']")
    token = kiosk.evaluate("window.antreKiosk.token")
    taken = httpx.get(f"{server.base_url}/api/v1/tickets/{token}", timeout=10)
    assert taken.json()["priority"] == "lansia"
    assert kiosk.locator("[data-service='ambil']").count() == 0, "kiosk = false: not offered"

    display = screens.open("/display", name="display")
    counter = screens.open("/counter/1", name="counter", viewport=PC, role="officer")
    # Before the call, the waiting list already marks the priority visitor.
    counter.wait_for_selector(
        f"#waiting-list .next-number.is-priority[data-number='{number}'] .priority-badge"
    )
    later = httpx.post(
        f"{server.base_url}/api/v1/tickets", json={"service": "reg", "priority": "lansia"}, timeout=10
    )
    assert later.status_code == 201, later.text  # comes as an event to the open page: board.js marks it too
    counter.wait_for_selector(
        f"#waiting-list .is-priority[data-number='{later.json()['number']}'] .priority-badge"
    )
    counter.click("#call-next")
    counter.wait_for_function(f"() => document.getElementById('current-number').textContent === '{number}'")
    assert counter.inner_text("#current-priority") == "Prioritas: Lansia"
    display.wait_for_selector(".call-row.is-priority .priority-badge")
    assert display.inner_text("#hero-priority") == "Lansia"

    remote = {"service": "reg", "remote": True}
    home = httpx.post(f"{server.base_url}/api/v1/tickets", json=remote, timeout=10)
    assert home.status_code == 201 and home.json()["status"] == "remote", home.text
    door = screens.open("/door", name="door", viewport=PC, role="door")
    door.fill("#door-number", home.json()["number"].lower())
    door.click("#door-checkin")
    door.wait_for_selector("#number-answer:not([hidden])")
    assert door.inner_text("#number-answer").startswith(f"{home.json()['number']} hadir")
    view = httpx.get(f"{server.base_url}/api/v1/tickets/{home.json()['token']}", timeout=10).json()
    assert view["status"] == "waiting"
    door.fill("#door-number", home.json()["number"])
    door.click("#door-checkin")
    door.wait_for_function("() => document.getElementById('number-answer').classList.contains('form-error')")
    assert not screens.problems


def test_a_booking_for_a_later_day_and_a_refusal_in_the_visitors_words(screens: Screens) -> None:
    """A bad NIK is refused with its catalog text; tomorrow's ticket is booked, with its day and code."""
    phone = screens.open("/remote?lang=en", name="phone", viewport=PHONE, wait_live=False)
    phone.click("[data-remote-service='reg']")
    days = phone.locator("#remote-day option")
    assert days.count() == 4, "today and book_days_ahead = 3 more"
    assert days.first.inner_text() == "Today"
    phone.fill("#remote-nik", "1234")
    phone.click("#remote-take")
    phone.wait_for_selector("#remote-error:not([hidden])")
    assert phone.inner_text("#remote-error") == (
        "This NIK is not valid. A NIK has 16 digits; please check it against your KTP."
    )
    assert "/remote" in phone.url, "a refusal keeps the visitor on the form"
    phone.fill("#remote-nik", "")
    tomorrow = days.nth(1).get_attribute("value")
    phone.select_option("#remote-day", tomorrow)
    phone.click("#remote-take")
    phone.wait_for_url("**/t/**")
    phone.wait_for_selector("#phone[data-status='booked']")
    assert state_text(phone).startswith("Booked for ")
    assert phone.locator("[data-field='checkin-qr']").is_visible()
    assert phone.locator("[data-field='facts']").is_hidden(), "no place in the queue before its day"
    token = phone.url.rsplit("/", 1)[1]
    view = httpx.get(f"{screens.base_url}/api/v1/tickets/{token}", timeout=10).json()
    assert view["status"] == "booked" and view["date"] == tomorrow
    assert not screens.problems


def test_an_office_without_remote_tickets_says_so(server: ServerProcess, browser: Any) -> None:
    """Remote off (the small test office): /remote says so, and the offer lists nothing."""
    offer = httpx.get(f"{server.base_url}/api/v1/remote/services", timeout=10).json()
    assert offer["enabled"] is False and offer["services"] == []
    opened = Screens(browser, server)
    try:
        page = opened.open("/remote", name="phone", viewport=PHONE, wait_live=False)
        assert page.locator("#remote-disabled").is_visible()
        assert page.locator("#remote-services").is_hidden()
        assert "belum dibuka di kantor ini" in page.inner_text("#remote-disabled")
        assert not opened.problems
    finally:
        opened.close()
