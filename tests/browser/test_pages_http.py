"""The pages over plain HTTP: login and CSRF, roles, languages, the CSP-safe markup, the QR code."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

import httpx
import pytest

from queue_server.engine.accounts import csrf_token
from queue_server.web.auth import SESSION_COOKIE
from tests.support.server import ROLE_ACCOUNTS, ServerProcess

PUBLIC_PAGES = ("/", "/kiosk", "/display", "/entrance", "/login")


@pytest.fixture(scope="module")
def server(shared_server: ServerProcess) -> ServerProcess:
    """These tests only read pages and log in: one server for the module is enough."""
    return shared_server


def login_form(
    server: ServerProcess, role: str, *, origin: str | None = "same", next_url: str = ""
) -> httpx.Response:
    username, password = ROLE_ACCOUNTS[role]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin == "same":
        headers["Origin"] = server.base_url
    elif origin is not None:
        headers["Origin"] = origin
    body = f"username={quote(username)}&password={quote(password)}&next={quote(next_url)}"
    return httpx.post(f"{server.base_url}/login", content=body, headers=headers, timeout=15)


def test_staff_pages_send_a_logged_out_browser_to_the_login_form(server: ServerProcess) -> None:
    """/counter/1 and /door redirect to /login with the page to come back to."""
    for path in ("/counter/1", "/door"):
        answer = httpx.get(f"{server.base_url}{path}", timeout=10)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={quote(path, safe='')}"


def test_login_sets_a_strict_http_only_session_cookie_and_goes_back(server: ServerProcess) -> None:
    """A good login answers 303 to `next` with an HttpOnly, SameSite=Strict cookie that opens the counter."""
    answer = login_form(server, "officer", next_url="/counter/2")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/counter/2"
    cookie = answer.headers["set-cookie"].lower()
    for part in ("antre_session=", "httponly", "samesite=strict", "path=/", "max-age=43200"):
        assert part in cookie
    assert "secure" not in cookie  # plain http on the office LAN
    token = answer.cookies[SESSION_COOKIE]
    page = httpx.get(f"{server.base_url}/counter/2", cookies={SESSION_COOKIE: token}, timeout=10)
    assert page.status_code == 200
    assert f'<meta name="csrf-token" content="{csrf_token(token)}">' in page.text
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "http://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_login_refuses_a_form_posted_from_another_site(
    server: ServerProcess, headers: dict[str, str]
) -> None:
    """Login CSRF: a POST whose Origin (or Sec-Fetch-Site) is not this site gets 403 and no session."""
    username, password = ROLE_ACCOUNTS["officer"]
    answer = httpx.post(
        f"{server.base_url}/login",
        content=f"username={username}&password={password}",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        timeout=15,
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


def test_login_from_a_browser_under_no_referrer_policy_is_accepted(server: ServerProcess) -> None:
    """`Origin: null` with `Sec-Fetch-Site: same-origin` is our own form under a no-referrer policy."""
    username, password = ROLE_ACCOUNTS["door"]
    answer = httpx.post(
        f"{server.base_url}/login",
        content=f"username={username}&password={password}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "null",
            "Sec-Fetch-Site": "same-origin",
        },
        timeout=15,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/door"


def test_wrong_password_shows_the_form_again_with_a_message(server: ServerProcess) -> None:
    """A wrong password answers 401 with the form and the message, and sets no cookie."""
    answer = httpx.post(
        f"{server.base_url}/login",
        content="username=petugas&password=salah",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.base_url},
        timeout=15,
    )
    assert answer.status_code == 401
    assert "Nama pengguna atau kata sandi salah" in answer.text
    assert 'value="petugas"' in answer.text
    assert SESSION_COOKIE not in answer.cookies


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example"])
def test_login_never_redirects_to_another_site(server: ServerProcess, target: str) -> None:
    """`next` outside this server is ignored: the officer lands on the start page."""
    answer = login_form(server, "officer", next_url=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_door_page_refuses_an_officer_and_counter_page_refuses_the_door(server: ServerProcess) -> None:
    """Roles: an officer may not open /door, the door keeper may not open a counter (403 page)."""
    officer = {SESSION_COOKIE: server.officer_token()}
    door = {SESSION_COOKIE: server.door_token()}
    assert httpx.get(f"{server.base_url}/door", cookies=officer, timeout=10).status_code == 403
    refused = httpx.get(f"{server.base_url}/counter/1", cookies=door, timeout=10)
    assert refused.status_code == 403
    assert "/login?next=" in refused.text
    assert httpx.get(f"{server.base_url}/counter/99", cookies=officer, timeout=10).status_code == 404


def test_logout_ends_the_session(server: ServerProcess) -> None:
    """POST /logout with the page's CSRF value deletes the session and the cookie."""
    token = server.officer_token()
    answer = httpx.post(
        f"{server.base_url}/logout",
        content=f"csrf={csrf_token(token)}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.base_url},
        cookies={SESSION_COOKIE: token},
        timeout=10,
    )
    assert answer.status_code == 303
    assert (
        'antre_session=""' in answer.headers["set-cookie"]
        or "max-age=0" in answer.headers["set-cookie"].lower()
    )
    again = httpx.get(f"{server.base_url}/counter/1", cookies={SESSION_COOKIE: token}, timeout=10)
    assert again.status_code == 303


class InlineCode(HTMLParser):
    """Collects what a strict CSP (script-src 'self'; style-src 'self') would block."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "style":
            self.blocked.append("<style>")
        if tag == "script" and "src" not in named and named.get("type") != "application/json":
            self.blocked.append("inline <script>")
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.blocked.append(f"{tag}[{name}]")


def test_pages_have_no_inline_script_style_or_event_handler(server: ServerProcess) -> None:
    """Every page works under the server's CSP: scripts and styles only from /static."""
    ticket = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}, timeout=10).json()
    admin = {SESSION_COOKIE: server.admin_token()}
    paths = [*PUBLIC_PAGES, "/counter/1", "/door", f"/t/{ticket['token']}", "/t/unknown"]
    for path in paths:
        answer = httpx.get(f"{server.base_url}{path}", cookies=admin, timeout=10)
        assert answer.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        parser = InlineCode()
        parser.feed(answer.text)
        assert parser.blocked == [], path


def test_language_comes_from_the_office_then_the_switch_which_is_remembered(server: ServerProcess) -> None:
    """Indonesian by default; ?lang=en switches and sets a cookie that later pages follow."""
    assert '<html lang="id"' in httpx.get(f"{server.base_url}/kiosk", timeout=10).text
    switched = httpx.get(f"{server.base_url}/kiosk?lang=en", timeout=10)
    assert '<html lang="en"' in switched.text
    assert "Choose a service" in switched.text
    assert switched.cookies["antre_lang"] == "en"
    later = httpx.get(f"{server.base_url}/display", cookies={"antre_lang": "en"}, timeout=10)
    assert '<html lang="en"' in later.text
    ignored = httpx.get(f"{server.base_url}/kiosk?lang=xx", timeout=10)
    assert '<html lang="id"' in ignored.text and "antre_lang" not in ignored.cookies


def test_ticket_qr_code_is_an_svg_and_unknown_tickets_are_not_found(server: ServerProcess) -> None:
    """GET /t/<token>/qr.svg is an SVG; an unknown token gets 404 for the page and the code."""
    ticket = httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}, timeout=10).json()
    qr = httpx.get(f"{server.base_url}/t/{ticket['token']}/qr.svg", timeout=10)
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.lstrip().startswith("<svg")
    assert httpx.get(f"{server.base_url}/t/nope/qr.svg", timeout=10).status_code == 404
    assert httpx.get(f"{server.base_url}/t/nope", timeout=10).status_code == 404


def test_static_files_are_served_with_content_hashed_urls(server: ServerProcess) -> None:
    """Pages link /static files with ?v=<hash>, and those URLs serve the files."""
    page = httpx.get(f"{server.base_url}/display", timeout=10).text
    assert "/static/js/live/transport.js?v=" in page
    start = page.index("/static/js/pages/display.js?v=")
    url = page[start : page.index('"', start)]
    script = httpx.get(f"{server.base_url}{url}", timeout=10)
    assert script.status_code == 200
    assert "AntreAnnouncer" in script.text
