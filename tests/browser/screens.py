"""Opening the Antre pages in Chromium for tests and for the documentation screenshots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ROLE_ACCOUNTS, ServerProcess

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A lobby TV runs its browser like this (kiosk mode); without it every
    # call would wait for a tap on "enable sound".
    "--autoplay-policy=no-user-gesture-required",
]

TV = {"width": 1920, "height": 1080}
PC = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# Headless Chromium has no voice; a fake one that "speaks" at once keeps the
# announcer's speech fallback path testable and starts no speech-dispatcher.
SPEECH_STUB = """
(() => {
  const spoken = [];
  class FakeUtterance { constructor(text) { this.text = text; this.lang = ''; } }
  const fake = {
    speaking: false, pending: false, paused: false,
    speak(u) { spoken.push(u.text); setTimeout(() => { if (u.onend) u.onend({}); }, 5); },
    cancel() {}, pause() {}, resume() {},
    getVoices() { return []; },
    addEventListener() {}, removeEventListener() {}
  };
  Object.defineProperty(window, 'speechSynthesis', { value: fake, configurable: true });
  Object.defineProperty(window, 'SpeechSynthesisUtterance', { value: FakeUtterance, configurable: true });
  window.__spoken = spoken;
})();
"""

# Dotted catalog keys as they would leak into a page when a message is missing.
RAW_KEY = re.compile(
    r"\b(?:common|kiosk|counter|display|entrance|door|phone|ticket|error|index|remote|priority)\.[a-z_]+\b"
)


class Screens:
    """Browser contexts on one server: each `open()` is a separate device (own cookies)."""

    def __init__(self, browser: Any, server: ServerProcess) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.pages: dict[str, Any] = {}
        self.problems: list[str] = []
        self._officer_token: str | None = None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def open(
        self,
        path: str,
        *,
        name: str | None = None,
        viewport: dict[str, int] = TV,
        role: str | None = None,
        wait_live: bool = True,
        block_websockets: bool = False,
    ) -> Any:
        """Open `path` on a new device, logged in with the role's test account if `role` is given."""
        context = self.browser.new_context(viewport=viewport, base_url=self.base_url)
        context.add_init_script(SPEECH_STUB)
        self.contexts.append(context)
        if role is not None:
            username, password = ROLE_ACCOUNTS[role]
            context.add_cookies(
                [
                    {
                        "name": "antre_session",
                        "value": self.server.login(username, password),
                        "url": self.base_url,
                    }
                ]
            )
        page = context.new_page()
        label = name or path
        page.on("pageerror", lambda error: self.problems.append(f"{label}: page error: {error}"))
        page.on("console", lambda message: self._console(label, message))
        if block_websockets:
            # Like a proxy or an old TV browser that cannot do WebSockets: every socket is closed at once.
            page.route_web_socket("**/ws/**", lambda socket: socket.close())
        page.goto(path)
        if wait_live:
            wait_live_status(page)
        self.pages[label] = page
        return page

    def _console(self, label: str, message: Any) -> None:
        # A CSP violation means something on the page silently does not work.
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.problems.append(f"{label}: {message.text}")

    def issue(self, service: str = "a", party_size: int = 1) -> dict[str, Any]:
        """Issue a ticket through the API, as another kiosk or phone would."""
        answer = httpx.post(
            f"{self.base_url}/api/v1/tickets", json={"service": service, "party_size": party_size}, timeout=10
        )
        assert answer.status_code == 201, answer.text
        ticket: dict[str, Any] = answer.json()
        return ticket

    def officer_post(self, path: str) -> httpx.Response:
        """POST as the test officer (bearer token), as another counter would."""
        if self._officer_token is None:
            self._officer_token = self.server.officer_token()
        return httpx.post(
            f"{self.base_url}{path}", headers={"Authorization": f"Bearer {self._officer_token}"}, timeout=10
        )

    def state(self) -> dict[str, Any]:
        """GET /api/v1/state: the server's truth."""
        answer = httpx.get(f"{self.base_url}/api/v1/state", timeout=10)
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state

    def save_artifacts(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for label, page in self.pages.items():
            safe = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_") or "page"
            try:
                page.screenshot(path=str(folder / f"{safe}.png"), full_page=True)
            except Exception as exc:  # a closed page must not hide the test's own failure
                (folder / f"{safe}.txt").write_text(f"no screenshot: {exc}\n")

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def wait_live_status(page: Any, status: str = "live", timeout: float = 10_000) -> None:
    """Wait until live.js reports the status on <html data-live-status>."""
    page.wait_for_function(
        "s => document.documentElement.getAttribute('data-live-status') === s", arg=status, timeout=timeout
    )


def visible_text(page: Any) -> str:
    text: str = page.inner_text("body")
    return text
