"""Both languages: every message the pages use exists in both catalogs, and no page shows a raw key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from queue_server.domain.errors import CODES as DOMAIN_CODES
from queue_server.domain.tickets import Status
from queue_server.web.errors import HTTP_CODES
from queue_server.web.i18n import LANGUAGES
from queue_server.web.pages.screens import PAUSE_REASONS
from tests.browser.screens import PC, RAW_KEY, Screens, wait_live_status

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "queue_server" / "web" / "messages"
TEMPLATE_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]""")
SCRIPT_KEY = re.compile(r"""\bmsg\(\s*['"]([a-z0-9_.]+)['"]""")
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
# Error codes the pages may show that are not in errors.py's tables.
EXTRA_ERROR_CODES = {
    "network", "csrf_failed", "too_many_attempts", "print_limit", "printer_unavailable",
    "ticket_not_printable", "shutting_down", "invalid_json", "internal_error", "storage_error",
}  # fmt: skip


def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def used_keys() -> set[str]:
    """Literal keys in templates and page scripts, plus the families they build at run time."""
    keys: set[str] = set()
    for template in (ROOT / "queue_server" / "web" / "templates").glob("*.html"):
        keys |= set(TEMPLATE_KEY.findall(template.read_text(encoding="utf-8")))
    for script in (ROOT / "queue_server" / "web" / "static" / "js" / "pages").glob("*.js"):
        keys |= set(SCRIPT_KEY.findall(script.read_text(encoding="utf-8")))
    # "common.status." + status and the like are prefixes: their families are listed below.
    keys = {key for key in keys if not key.endswith((".", "_"))}
    keys |= {f"common.status.{status}" for status in Status}
    keys |= {f"common.reason.{reason}" for reason in PAUSE_REASONS}
    keys |= {f"common.lang_{lang}" for lang in LANGUAGES}
    codes = set(DOMAIN_CODES) | set(HTTP_CODES.values()) | EXTRA_ERROR_CODES
    keys |= {f"error.{code}" for code in codes}
    return keys


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    """id.json and en.json hold the same keys, and each message takes the same {placeholders}."""
    indonesian, english = catalog("id"), catalog("en")
    assert sorted(set(indonesian) ^ set(english)) == []
    different = [
        key
        for key in indonesian
        if set(PLACEHOLDER.findall(indonesian[key])) != set(PLACEHOLDER.findall(english[key]))
    ]
    assert different == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_the_pages_use_is_in_the_catalog(lang: str) -> None:
    """Each key a template or page script asks for exists in the language's catalog, non-empty."""
    messages = catalog(lang)
    missing = sorted(key for key in used_keys() if not messages.get(key, "").strip())
    assert missing == []


def page_problems(page: Any, lang: str) -> list[str]:
    """What is wrong with a rendered page in `lang`: wrong lang attribute, raw keys, missing messages."""
    problems = []
    if page.evaluate("() => document.documentElement.lang") != lang:
        problems.append("html lang attribute")
    raw = sorted(set(RAW_KEY.findall(page.inner_text("body"))))
    if raw:
        problems.append(f"raw keys on screen: {raw}")
    missing = page.evaluate("() => window.Antre ? Object.keys(window.Antre.missing) : []")
    if missing:
        problems.append(f"scripts asked for missing messages: {missing}")
    return problems


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_renders_in_the_language_with_no_missing_message(screens: Screens, lang: str) -> None:
    """Every page, with its live parts filled and its ticket shown, in Indonesian and in English."""
    messages = catalog(lang)
    screens.issue("b")
    screens.officer_post("/api/v1/counters/4/call-next")
    screens.officer_post("/api/v1/counters/3/close")
    page = screens.open(f"/kiosk?lang={lang}", name=f"kiosk-{lang}", viewport=PC, role="admin")
    found: dict[str, list[str]] = {}

    assert messages["kiosk.choose_service"] in page.inner_text("body")
    page.click("[data-service='a']")
    page.click("#take-ticket")
    page.wait_for_selector("#step-ticket:not([hidden])")
    token = page.evaluate("() => window.antreKiosk.token")
    found["/kiosk"] = page_problems(page, lang)

    # The cookie set by ?lang= carries the language to every later page.
    for path in ("/display", "/entrance", f"/t/{token}", "/counter/1", "/door"):
        page.goto(path)
        wait_live_status(page)
        if path == "/counter/1":
            page.click("#call-next")
            page.wait_for_function("() => !window.antreCounter.busy && window.antreCounter.current")
        found[path] = page_problems(page, lang)
    for path in ("/", "/login", "/remote", "/t/unknown-token"):
        page.goto(path)
        found[path] = page_problems(page, lang)
    assert messages["phone.unknown"] in page.inner_text("body")

    assert {path: problems for path, problems in found.items() if problems} == {}
    assert not screens.problems
