"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against a real server.

Playwright cannot download its own browser here, so it launches the system's
Chromium (`ANTRE_CHROMIUM`, default /usr/bin/chromium; `scripts/ensure_chromium.sh`
installs it). Speech synthesis is stubbed: headless Chromium has no voice, and a
real one would start a speech-dispatcher process that outlives the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.screens import CHROMIUM_ARGS, Screens
from tests.support.server import ROLE_ACCOUNTS, ServerProcess

CHROMIUM = Path(os.environ.get("ANTRE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and the asyncio tests of later folders cannot run then.
    """
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: run scripts/ensure_chromium.sh or set ANTRE_CHROMIUM"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; a missing browser must not pass as a skip
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Remember each phase's report on the test item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def screens(browser: object, server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Screens]:
    """Open pages of the test's server; screenshots of every open page go to test-artifacts/ on failure."""
    opened = Screens(browser, server)
    yield opened
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        opened.save_artifacts(ARTIFACTS / request.node.name)
    opened.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[ServerProcess]:
    """One server per module, for tests that read pages and need no clean office."""
    proc = ServerProcess(tmp_path_factory.mktemp("pages-server"))
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    yield proc
    proc.stop()
