"""Security headers on every answer, and a strict Content-Security-Policy on every HTML page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queue_server.config import load_config
from queue_server.web.app import create_app
from tests.security.helpers import (
    ADMIN,
    ANONYMOUS,
    DOOR,
    OFFICER,
    assert_error,
    assert_security_headers,
    assert_strict_csp,
    scan_page,
)
from tests.security.test_access_control import ACCESS_TABLE, PAGE, WS, Rule, Walker, rule_id
from tests.support.server import ServerProcess, office_toml


@pytest.fixture(scope="module")
def walker(module_server: ServerProcess) -> Iterator[Walker]:
    """A Walker (see the access table) on the module's server."""
    made = Walker(module_server)
    yield made
    made.close()


def roles_to_try(rule: Rule) -> list[str]:
    """Anonymous (often a refusal) and the least powerful allowed role (the real answer)."""
    allowed = [role for role in (ANONYMOUS, DOOR, OFFICER, ADMIN) if role in rule.allowed]
    return sorted({ANONYMOUS, allowed[0]})


@pytest.mark.parametrize("rule", [r for r in ACCESS_TABLE if r.kind != WS], ids=rule_id)
def test_every_answer_of_every_route_carries_the_security_headers(walker: Walker, rule: Rule) -> None:
    """nosniff, a strict Referrer-Policy and anti-framing on success, redirect and refusal alike."""
    for role in roles_to_try(rule):
        resp = walker.request(rule, role)
        assert_security_headers(resp)
        if resp.headers.get("content-type", "").startswith("text/html"):
            assert_strict_csp(resp)


def test_error_answers_carry_the_security_headers(walker: Walker) -> None:
    """404, 405, 400, 413, 422 and 401 answers are protected like any other."""
    http = walker.http
    answers = [
        http.get("/nope"),
        http.put("/api/v1/services"),
        http.post("/api/v1/tickets", content=b"{not json", headers={"Content-Type": "application/json"}),
        http.post("/api/v1/tickets", content=b"x" * (65 * 1024)),
        http.post("/api/v1/tickets", json={"service": "a", "evil": 1}),
        http.get("/api/v1/me"),
        http.get("/api/v1/tickets/unknown"),
    ]
    for resp in answers:
        assert 400 <= resp.status_code < 500, resp.status_code
        assert_security_headers(resp)


async def test_an_unexpected_error_still_carries_the_security_headers(tmp_path: Path) -> None:
    """Even a crash (500) answers with the error shape and the security headers."""
    config_path = tmp_path / "office.toml"
    config_path.write_text(office_toml(), encoding="utf-8")

    async def broken(request: Request) -> Response:
        """Fail like a handler with a bug."""
        raise RuntimeError("a bug somewhere in a handler")

    # A route that fails on purpose: no real route should crash, so this is the only way to see one.
    app = create_app(load_config(config_path), tmp_path / "queue.db", extra_routes=[Route("/broken", broken)])
    # In-process: the failing route needs no office, so no lifespan; the app re-raises after answering.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        resp = await client.get("/broken")
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "internal_error"
    assert "a bug somewhere" not in resp.text, "internal details leak to the client"
    assert_security_headers(resp)


def html_pages(walker: Walker) -> dict[str, httpx.Response]:
    """Every HTML page the server renders, including login and error pages, by label."""
    http = walker.http
    officer = {"Cookie": f"antre_session={walker.creds[OFFICER].cookie}"}
    door = {"Cookie": f"antre_session={walker.creds[DOOR].cookie}"}
    token = walker.fresh_ticket_token()
    return {
        "index": http.get("/"),
        "kiosk": http.get("/kiosk"),
        "kiosk (en)": http.get("/kiosk?lang=en"),
        "display": http.get("/display"),
        "entrance": http.get("/entrance"),
        "login": http.get("/login"),
        "login failed": http.post(
            "/login", data={"username": "x", "password": "y"}, headers={"Origin": walker.server.base_url}
        ),
        "door": http.get("/door", headers=door),
        "counter": http.get("/counter/1", headers=officer),
        "phone ticket": http.get(f"/t/{token}"),
        "unknown ticket page": http.get("/t/unknown-token"),
        "forbidden page": http.get("/door", headers=officer),
        "unknown counter page": http.get("/counter/99", headers=officer),
    }


def test_every_html_page_has_a_strict_csp_and_no_inline_code(walker: Walker) -> None:
    """No 'unsafe-inline', object-src 'none', no framing; no inline script or handler the CSP would block."""
    for label, resp in html_pages(walker).items():
        assert resp.status_code < 500, f"{label}: {resp.status_code} {resp.text[:300]}"
        assert resp.headers.get("content-type", "").startswith("text/html"), f"{label}: not HTML"
        assert_strict_csp(resp)
        assert_security_headers(resp)
        problems = scan_page(resp.text).problems
        assert not problems, f"{label} ({resp.request.url.path}) has inline code the CSP blocks: {problems}"


def test_pages_that_hold_secrets_are_not_cached(walker: Walker) -> None:
    """Staff pages (CSRF token) and the phone ticket (its token) tell caches not to store them."""
    officer = {"Cookie": f"antre_session={walker.creds[OFFICER].cookie}"}
    for resp in (
        walker.http.get("/counter/1", headers=officer),
        walker.http.get(f"/t/{walker.fresh_ticket_token()}"),
    ):
        assert "no-store" in resp.headers.get("cache-control", ""), resp.request.url.path


def test_no_cross_origin_reads_are_allowed(walker: Walker) -> None:
    """No CORS: another site's script may not read any answer (no Access-Control-Allow-Origin)."""
    evil = {"Origin": "http://evil.example"}
    for resp in (
        walker.http.get("/api/v1/state", headers=evil),
        walker.http.options("/api/v1/tickets", headers={**evil, "Access-Control-Request-Method": "POST"}),
        walker.http.get("/api/v1/me", headers={**evil, **walker.creds[ADMIN].api_headers()}),
    ):
        assert "access-control-allow-origin" not in resp.headers, resp.request.url.path
        assert "access-control-allow-credentials" not in resp.headers


def test_json_answers_are_not_sniffed_as_html(walker: Walker) -> None:
    """A JSON answer echoing user input is served as application/json with nosniff."""
    resp = walker.http.post("/api/v1/tickets", json={"service": "<script>alert(1)</script>"})
    assert_error(resp, 404, "unknown_service")
    assert resp.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "rule", [r for r in ACCESS_TABLE if r.kind == PAGE and r.method == "GET"], ids=rule_id
)
def test_static_and_page_answers_declare_their_content_type(walker: Walker, rule: Rule) -> None:
    """Every page or file names its type, so nosniff cannot break it and nothing is guessed."""
    role = roles_to_try(rule)[-1]
    resp = walker.request(rule, role)
    if resp.status_code == 200:
        assert resp.headers.get("content-type"), f"{rule_id(rule)} has no Content-Type"


XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
XSS_NO_SLASH = "\"'><img src=x onerror=alert(2)>"  # fits in one path segment, so it reaches the page


def test_reflected_input_is_escaped_in_pages(walker: Walker) -> None:
    """Path, query and header values that a page echoes come back HTML-escaped, never as markup."""
    officer = {"Cookie": f"antre_session={walker.creds[OFFICER].cookie}"}
    answers = [
        walker.http.get(f"/counter/{quote(XSS, safe='')}", headers=officer),
        walker.http.get(f"/counter/{quote(XSS_NO_SLASH, safe='')}", headers=officer),
        walker.http.get(f"/t/{quote(XSS_NO_SLASH, safe='')}"),
        walker.http.get(f"/login?next={quote('/' + XSS, safe='')}"),
        walker.http.get(f"/kiosk?lang={quote(XSS, safe='')}"),
        walker.http.get("/display", headers={"Accept-Language": XSS}),
        walker.http.get(f"/t/{quote(XSS, safe='')}"),
        walker.http.post(
            "/login",
            data={"username": XSS, "password": "x", "next": "/" + XSS},
            headers={"Origin": walker.server.base_url},
        ),
    ]
    for resp in answers:
        where = f"{resp.request.method} {resp.request.url}"
        assert resp.status_code < 500, where
        if not resp.headers["content-type"].startswith("text/html"):
            # A JSON error may echo the path; as JSON with nosniff no browser renders it.
            assert resp.headers["content-type"].startswith("application/json"), where
            assert resp.headers["x-content-type-options"] == "nosniff", where
            continue
        assert "<script>alert(1)" not in resp.text, f"{where} reflects markup"
        assert "onerror=alert(2)>" not in resp.text, f"{where} reflects markup"
        assert not scan_page(resp.text).problems, f"{where}: {scan_page(resp.text).problems}"
