"""Take the documentation screenshots: every page at each size the screens must fit.

Sizes: 1920x1080 (lobby TV), 1366x768 (the common cheap TV and laptop), 1280x800
and 390x844 (phone); every shot is one screen, not the whole page, because
every screen fits without scrolling (tests/browser/test_fit.py checks it).
Starts a throwaway server for the example office (config/office.toml) on
127.0.0.1, fills it with the morning of tests/browser/office_day.py (tickets,
calls, a counter paused for prayer, a full office with visitors waiting
outside), then drives Debian's Chromium through Playwright and writes
docs/screenshots/<page>-<size>.png.

The pages of issue 11 (/remote, its form, a ticket from home told to come now)
come from a second server: the same office with `[remote]` on
(`remote_office_text()` of tests/browser/office_day.py).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--lang id|en] [--only all|remote]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.office_day import ADMIN, remote_office_text, seed  # noqa: E402
from tests.browser.screens import CHROMIUM_ARGS, SPEECH_STUB, wait_live_status  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

CHROMIUM = os.environ.get("ANTRE_CHROMIUM", "/usr/bin/chromium")
SIZES = {
    "1920x1080": {"width": 1920, "height": 1080},
    "1366x768": {"width": 1366, "height": 768},
    "1280x800": {"width": 1280, "height": 800},
    "390x844": {"width": 390, "height": 844},
}


def shoot(
    browser: Any, server: ServerProcess, out: Path, lang: str, admin_token: str, ticket: str
) -> list[Path]:
    pages = [
        ("kiosk", "/kiosk"),
        ("display", "/display"),
        ("entrance", "/entrance"),
        ("counter", "/counter/1"),
        ("door", "/door"),
        ("phone-ticket", f"/t/{ticket}"),
        ("login", "/login"),
    ]
    written: list[Path] = []
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, base_url=server.base_url, device_scale_factor=1)
        context.add_init_script(SPEECH_STUB)
        context.add_cookies([{"name": "antre_lang", "value": lang, "url": server.base_url}])
        for name, path in pages:
            if name == "login":
                context.clear_cookies()
                context.add_cookies([{"name": "antre_lang", "value": lang, "url": server.base_url}])
            elif name == "counter":
                context.add_cookies([{"name": "antre_session", "value": admin_token, "url": server.base_url}])
            page = context.new_page()
            page.goto(path)
            if name != "login":
                wait_live_status(page)
            # Let the display's running text scroll into view and the fonts settle.
            page.wait_for_timeout(5000 if name == "display" else 600)
            target = out / f"{name}-{size}.png"
            page.screenshot(path=str(target))
            written.append(target)
            if name == "kiosk":
                page.click("[data-service='ktp']")
                page.wait_for_timeout(300)
                target = out / f"kiosk-service-{size}.png"
                page.screenshot(path=str(target))
                written.append(target)
                page.click("#take-ticket")
                page.wait_for_selector("#step-ticket:not([hidden])")
                page.wait_for_timeout(500)
                target = out / f"kiosk-ticket-{size}.png"
                page.screenshot(path=str(target))
                written.append(target)
            page.close()
        context.close()
    return written


def shoot_remote(browser: Any, server: ServerProcess, out: Path, lang: str) -> list[Path]:
    """/remote (the services, then a service's form) and a ticket from home once it may come."""
    import httpx

    written: list[Path] = []
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, base_url=server.base_url, device_scale_factor=1)
        context.add_cookies([{"name": "antre_lang", "value": lang, "url": server.base_url}])
        page = context.new_page()
        page.goto("/remote")
        page.wait_for_selector("[data-remote-service]")
        page.wait_for_timeout(400)
        written.append(out / f"remote-{size}.png")
        page.screenshot(path=str(written[-1]))
        page.click("[data-remote-service='kk']")
        page.wait_for_selector("#remote-form:not([hidden])")
        page.wait_for_timeout(300)
        written.append(out / f"remote-form-{size}.png")
        page.screenshot(path=str(written[-1]))
        # Nobody from home ahead in a quiet service: the server says come now at once.
        answer = httpx.post(
            f"{server.base_url}/api/v1/tickets", json={"service": "izin", "remote": True}, timeout=10
        )
        answer.raise_for_status()
        token = answer.json()["token"]
        page.goto(f"/t/{token}")
        page.wait_for_selector("[data-come-now='true']")
        page.wait_for_function("() => document.querySelector(\"[data-field='checkin-qr']\").complete")
        page.wait_for_timeout(400)
        written.append(out / f"phone-come-now-{size}.png")
        page.screenshot(path=str(written[-1]))
        httpx.delete(f"{server.base_url}/api/v1/tickets/{token}", timeout=10).raise_for_status()
        context.close()
    return written


def run_server(config: str, work: Path, pages: Any) -> list[Path]:
    """A seeded throwaway server for `config`; `pages(browser, server, admin_token, ticket)` shoots."""
    from playwright.sync_api import sync_playwright

    server = ServerProcess(work, config)
    server.add_user(ADMIN[0], "admin", ADMIN[1])
    server.start()
    try:
        admin_token = server.login(*ADMIN)
        ticket = seed(server, admin_token)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                written: list[Path] = pages(browser, server, admin_token, ticket)
            finally:
                browser.close()
    finally:
        server.stop()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=["id", "en"], default="id")
    parser.add_argument("--only", choices=["all", "remote"], default="all")
    args = parser.parse_args()

    config = (ROOT / "config" / "office.toml").read_text(encoding="utf-8")
    args.out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="antre-shots-") as work:
        if args.only == "all":
            written += run_server(
                config,
                Path(work) / "office",
                lambda browser, server, token, ticket: shoot(
                    browser, server, args.out, args.lang, token, ticket
                ),
            )
        written += run_server(
            remote_office_text(),
            Path(work) / "remote",
            lambda browser, server, token, ticket: shoot_remote(browser, server, args.out, args.lang),
        )
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
