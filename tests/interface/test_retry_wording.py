"""Found 9 of issue 13: "try again in 1 seconds" reads "1 second", in both languages and in the API."""

from __future__ import annotations

import json
from pathlib import Path

from queue_server.web.i18n import Catalogs
from queue_server.web.pages import login as pages

CATALOGS = Path(pages.__file__).resolve().parents[1] / "messages"


def test_the_login_page_picks_the_singular_text_for_one_second() -> None:
    """One second has its own message; more seconds keep the plural one with {seconds}."""
    assert pages.retry_message_key("1") == "counter.too_many_attempts_one"
    assert pages.retry_message_key("30") == "counter.too_many_attempts"
    english = Catalogs(default="en").translator("en")
    assert english("counter.too_many_attempts_one") == "Too many attempts. Try again in 1 second."
    assert english("counter.too_many_attempts", seconds="30").endswith("30 seconds.")


def test_no_message_says_one_seconds() -> None:
    """No catalog text can render "1 seconds": the singular text exists in both languages."""
    for lang in ("id", "en"):
        messages = json.loads((CATALOGS / f"{lang}.json").read_text(encoding="utf-8"))
        assert "1 seconds" not in messages["counter.too_many_attempts_one"]
        assert "{seconds}" not in messages["counter.too_many_attempts_one"]
