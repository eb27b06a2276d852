"""Every screen fits: what a person must see or press is inside the viewport and not covered, no scrolling.

Each screen is loaded at each size of the issue (1920x1080, 1366x768, 1280x800,
390x844; the TV pages also at 1280x720) on the example office in the middle of
a busy morning. For every element listed, its box must lie inside the viewport
and `document.elementFromPoint` at its centre must be the element or inside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.office_day import ADMIN, remote_office_text, seed
from tests.browser.screens import CHROMIUM_ARGS, SPEECH_STUB, wait_live_status
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

SIZES = {
    "1920x1080": {"width": 1920, "height": 1080},
    "1366x768": {"width": 1366, "height": 768},
    "1280x800": {"width": 1280, "height": 800},
    "390x844": {"width": 390, "height": 844},
}
TV_ONLY = {"1280x720": {"width": 1280, "height": 720}}

# The listed elements: every match of each selector must fit.
DISPLAY = [
    "#hero-number",
    "#hero-counter",
    ".call-row",
    "#waiting",
    "#occupancy-value",
    "#occupancy-meter",
    ".ticker",
]
ENTRANCE = ["#sign", "#admitted li:first-child", "#inside-capacity"]
KIOSK_SERVICES = [".kiosk-header h1", "[data-service]"]
KIOSK_DETAIL = [
    "#detail-name",
    "#detail-requirements li",
    "#party-minus",
    "#party-plus",
    "#detail-back",
    "#take-ticket",
]
KIOSK_TICKET = [
    "[data-ticket-card] [data-field='number']",
    "[data-ticket-card] [data-field='admission']",
    "#ticket-done",
]
COUNTER = [
    "#current-number",
    "#call-next",
    "#recall",
    "#serve",
    "#finish",
    "#no-show",
    "[data-pause]",
    "#transfer-service",
    "#transfer",
    "#call-number",
    "#call-number-button",
    "#waiting-list [data-count]",
    # At least the next four numbers of each service (a phone shows four, a PC six).
    ".next-number:nth-child(-n+4)",
]
DOOR = [
    "[data-priority]",
    "#door-number",
    "#door-checkin",
    "#door-rejoin",
    "#door-count",
    "#door-sign",
    "#door-minus",
    "#door-plus",
    "#party-minus",
    "#party-plus",
    "[data-issue]",
]
PHONE_PAGE = [
    "[data-field='number']",
    "[data-field='state']",
    "[data-field='position']",
    "[data-field='wait']",
]
REMOTE_SERVICES = ["h1", "[data-remote-service]:first-of-type"]
REMOTE_FORM = ["#remote-name", "#remote-quota", "#remote-day", "#remote-nik", "#remote-take"]
# A ticket at home once it may come: the message and the code to scan at the kiosk, no scrolling.
COME_NOW_PAGE = [
    "[data-field='number']",
    "[data-field='state']",
    "[data-field='checkin-qr']",
    ".phone-checkin figcaption",
]

CHECK = """
(selectors) => {
  const problems = [];
  const name = (el) => !el ? 'nothing' : el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
  if (window.scrollY !== 0 || document.scrollingElement.scrollTop !== 0) problems.push('page is scrolled');
  for (const sel of selectors) {
    const els = [...document.querySelectorAll(sel)];
    if (!els.length) { problems.push(sel + ': missing'); continue; }
    for (const el of els) {
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1) { problems.push(sel + ': not shown'); continue; }
      if (r.top < -1 || r.left < -1 || r.bottom > innerHeight + 1 || r.right > innerWidth + 1) {
        problems.push(`${sel}: outside the screen (${Math.round(r.left)},${Math.round(r.top)})-` +
          `(${Math.round(r.right)},${Math.round(r.bottom)}) of ${innerWidth}x${innerHeight}`);
        continue;
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || !(hit === el || el.contains(hit))) problems.push(`${sel}: covered by ${name(hit)}`);
    }
  }
  return problems;
}
"""


@pytest.fixture(scope="module")
def morning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str, str]]:
    """The example office mid-morning: (server, admin session token, a waiting ticket's token)."""
    # With issue 11 on: the kiosk's check-in line and priority choice, the door's number field.
    server = ServerProcess(tmp_path_factory.mktemp("fit-server"), remote_office_text())
    server.add_user(ADMIN[0], "admin", ADMIN[1])
    server.start()
    token = server.login(*ADMIN)
    ticket = seed(server, token)
    yield server, token, ticket
    server.stop()


def problems_on(page: Any, selectors: list[str]) -> list[str]:
    found: list[str] = page.evaluate(CHECK, selectors)
    return found


def open_page(
    browser: Any, server: ServerProcess, viewport: dict[str, int], path: str, token: str | None
) -> Any:
    context = browser.new_context(viewport=viewport, base_url=server.base_url)
    context.add_init_script(SPEECH_STUB)
    if token:
        context.add_cookies([{"name": "antre_session", "value": token, "url": server.base_url}])
    page = context.new_page()
    page.goto(path)
    wait_live_status(page)
    page.wait_for_timeout(150)  # the first render after the snapshot
    return page


def save_on_failure(page: Any, label: str, problems: list[str]) -> None:
    if problems:
        folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "fit"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{label}.png"))


@pytest.mark.parametrize("size", [*SIZES, *TV_ONLY])
def test_the_tv_pages_fit(browser: Any, morning: tuple[ServerProcess, str, str], size: str) -> None:
    """Lobby display (calls, counters, waiting, occupancy above the ticker) and entrance display fit."""
    server, _, _ = morning
    viewport = {**SIZES, **TV_ONLY}[size]
    found: dict[str, list[str]] = {}
    for path, selectors in (("/display", DISPLAY), ("/entrance", ENTRANCE)):
        page = open_page(browser, server, viewport, path, None)
        found[path] = problems_on(page, selectors)
        save_on_failure(page, f"{path.strip('/')}-{size}", found[path])
        page.context.close()
    assert {path: p for path, p in found.items() if p} == {}


@pytest.mark.parametrize("size", SIZES)
def test_the_kiosk_fits_on_each_step(
    browser: Any, morning: tuple[ServerProcess, str, str], size: str
) -> None:
    """Service list, a service's page with its take button, the ticket with its QR code (or follow link)."""
    server, _, _ = morning
    phone = SIZES[size]["width"] < 700
    page = open_page(browser, server, SIZES[size], "/kiosk", None)
    found = {"services": problems_on(page, KIOSK_SERVICES)}
    if not phone:
        found["services"] += problems_on(page, ["#checkin-bar"])
    page.click("[data-service='kk']")  # the longest requirements list
    # A phone opening the kiosk page claims no priority (that is done in person, kiosk or door).
    found["detail"] = problems_on(page, KIOSK_DETAIL if phone else [*KIOSK_DETAIL, "[data-priority]"])
    page.click("#take-ticket")
    page.wait_for_selector("#step-ticket:not([hidden])")
    page.wait_for_function("() => document.querySelector('[data-ticket-card] img.qr').complete")
    extra = ["#follow-link"] if phone else ["[data-ticket-card] img.qr", "#print-ticket"]
    found["ticket"] = problems_on(page, KIOSK_TICKET + extra)
    save_on_failure(page, f"kiosk-{size}", found["ticket"] + found["detail"])
    page.context.close()
    assert {step: p for step, p in found.items() if p} == {}


@pytest.mark.parametrize("size", SIZES)
def test_the_staff_pages_fit(browser: Any, morning: tuple[ServerProcess, str, str], size: str) -> None:
    """Counter (number, every button, pauses, transfer, call a number, waiting numbers), door, phone fit."""
    server, token, ticket = morning
    found: dict[str, list[str]] = {}
    for path, selectors in (("/counter/1", COUNTER), ("/door", DOOR), (f"/t/{ticket}", PHONE_PAGE)):
        page = open_page(browser, server, SIZES[size], path, token)
        found[path] = problems_on(page, selectors)
        if path == "/counter/1":
            # Right after a call the undo bar is there too, and everything still fits.
            page.click("#call-next")
            page.wait_for_timeout(500)
            page.click("#call-next")
            page.wait_for_selector("#undo-bar:not([hidden])")
            found["/counter/1 after a call"] = problems_on(page, [*selectors, "#undo"])
        save_on_failure(page, f"{path.strip('/').replace('/', '-')[:20]}-{size}", found[path])
        page.context.close()
    assert {path: p for path, p in found.items() if p} == {}


@pytest.mark.parametrize("size", SIZES)
def test_the_remote_pages_fit(browser: Any, morning: tuple[ServerProcess, str, str], size: str) -> None:
    """/remote (services, then the form with days, NIK and the take button) and a come-now ticket fit."""
    server, _, _ = morning
    found: dict[str, list[str]] = {}
    page = open_remote(browser, server, SIZES[size])
    found["services"] = problems_on(page, REMOTE_SERVICES)
    page.click("[data-remote-service='kk']")
    page.wait_for_selector("#remote-form:not([hidden])")
    if SIZES[size]["width"] >= 900:
        found["form"] = problems_on(page, REMOTE_FORM)
    else:
        # On a phone the form may scroll (its keyboard covers half of it anyway): each field in turn.
        for selector in REMOTE_FORM:
            page.locator(selector).scroll_into_view_if_needed()
            found[selector] = problems_on_scrolled(page, [selector])
    save_on_failure(page, f"remote-{size}", [p for v in found.values() for p in v])
    page.context.close()
    ticket = come_now_ticket(server)
    page = open_page(browser, server, SIZES[size], f"/t/{ticket}", None)
    page.wait_for_selector("[data-come-now='true']")
    page.wait_for_function("() => document.querySelector(\"[data-field='checkin-qr']\").complete")
    found["come now"] = problems_on(page, COME_NOW_PAGE)
    save_on_failure(page, f"come-now-{size}", found["come now"])
    page.context.close()
    # Given back, so the next size's ticket again has nobody from home ahead of it.
    httpx.delete(f"{server.base_url}/api/v1/tickets/{ticket}", timeout=10).raise_for_status()
    assert {step: p for step, p in found.items() if p} == {}


def open_remote(browser: Any, server: ServerProcess, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, base_url=server.base_url)
    page = context.new_page()
    page.goto("/remote")
    page.wait_for_selector("[data-remote-service]")
    return page


def problems_on_scrolled(page: Any, selectors: list[str]) -> list[str]:
    """problems_on, for a page a visitor may scroll: everything but the "page is scrolled" line."""
    return [p for p in problems_on(page, selectors) if p != "page is scrolled"]


def come_now_ticket(server: ServerProcess) -> str:
    """A fresh remote ticket of a quiet service: nobody ahead, so the server says come now."""
    answer = httpx.post(
        f"{server.base_url}/api/v1/tickets", json={"service": "izin", "remote": True}, timeout=10
    )
    answer.raise_for_status()
    body = answer.json()
    assert body["status"] == "remote" and body["come_now"] is True, body
    return str(body["token"])


def test_the_browser_fixture_uses_the_test_chromium_flags() -> None:
    """The fit tests run with the same Chromium flags as the other browser tests (autoplay for the TV)."""
    assert "--autoplay-policy=no-user-gesture-required" in CHROMIUM_ARGS
