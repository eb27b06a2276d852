"""The visitor's survey in a real browser: after the visit the phone offers it once, one question a screen."""

from __future__ import annotations

import httpx
import pytest

from tests.browser.screens import PHONE, Screens

pytestmark = pytest.mark.browser


def test_a_finished_visitor_answers_the_nine_questions_once(screens: Screens) -> None:
    """Done -> four faces; a face, then the full survey, nine answers and a comment; a reload asks no more."""
    ticket = screens.issue("a")
    phone = screens.open(f"/t/{ticket['token']}", name="phone", viewport=PHONE)
    assert screens.officer_post("/api/v1/counters/1/call-next").status_code == 200
    assert screens.officer_post("/api/v1/counters/1/finish").status_code == 200
    phone.wait_for_selector("#phone-survey:not([hidden]) .survey-face[data-rating='4']", timeout=10000)
    phone.click("#phone-survey .survey-face[data-rating='4']")
    phone.click("#phone-survey-full")
    for _ in range(9):
        phone.wait_for_selector("#phone-survey-step:not([hidden])")
        phone.click("#phone-survey-step .survey-answer[data-answer='3']")
    phone.fill("#phone-survey-text", "Ruang tunggu nyaman")
    phone.click("#phone-survey-submit")
    phone.wait_for_selector("#phone-survey-thanks:not([hidden])")
    again = httpx.get(f"{screens.base_url}/api/v1/tickets/{ticket['token']}/survey", timeout=10).json()
    assert again == {"done": True, "answered": True}
    phone.reload()
    phone.wait_for_timeout(1500)
    assert phone.locator("#phone-survey").is_hidden(), "the survey is never offered twice"
    assert not screens.problems
