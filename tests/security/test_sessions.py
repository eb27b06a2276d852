"""Sessions: cookie flags, CSRF on cookie-authenticated calls and forms, expiry, login throttling."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from queue_server.engine.accounts import ADDRESS_FREE_FAILURES
from tests.security.conftest import start_seeded
from tests.security.helpers import (
    ADMIN,
    CSRF_HEADER,
    OFFICER,
    SESSION_COOKIE,
    assert_error,
    cookie_session,
    csrf_from_page,
    database,
    form_login,
    scan_page,
    token_hash,
)
from tests.support.server import ROLE_ACCOUNTS, ServerProcess, office_toml

SESSION_HOURS = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[ServerProcess]:
    """A server whose sessions last one hour (the shortest the config allows)."""
    config = office_toml().replace("[office]\n", f"[office]\nsession_hours = {SESSION_HOURS}\n", 1)
    proc = start_seeded(tmp_path_factory.mktemp("sessions"), accounts_db, config)
    yield proc
    proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client that follows no redirects and keeps no cookies between tests."""
    with httpx.Client(base_url=server.base_url, timeout=20, follow_redirects=False) as client:
        yield client


def set_cookie_attributes(resp: httpx.Response, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for `name` (lower-case keys; flags map to "")."""
    for header in resp.headers.get_list("set-cookie"):
        if not header.startswith(f"{name}="):
            continue
        attributes = {"value": header.split(";", 1)[0].split("=", 1)[1]}
        for part in header.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            attributes[key.lower()] = value
        return attributes
    raise AssertionError(f"no Set-Cookie for {name}: {resp.headers.get_list('set-cookie')}")


def cookie_header(value: str) -> dict[str, str]:
    """The Cookie header of a browser holding the session cookie."""
    return {"Cookie": f"{SESSION_COOKIE}={value}"}


# ----- cookie flags ---------------------------------------------------------------------------


def test_login_form_sets_an_httponly_samesite_session_cookie(server: ServerProcess) -> None:
    """The /login form's cookie is HttpOnly, SameSite=Strict/Lax, Path=/ and lives as long as the session."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    resp = form_login(server, name, password)
    assert resp.status_code == 303, resp.text[:300]
    cookie = set_cookie_attributes(resp, SESSION_COOKIE)
    assert "httponly" in cookie, cookie
    assert cookie.get("samesite", "").lower() in ("strict", "lax"), cookie
    assert cookie.get("path") == "/", cookie
    assert int(cookie["max-age"]) == SESSION_HOURS * 3600, cookie
    assert "domain" not in cookie, "a Domain attribute would share the cookie with sibling hosts"


def test_session_cookie_is_secure_behind_a_tls_proxy(server: ServerProcess) -> None:
    """When a local TLS proxy says the request came over https, the cookie is marked Secure."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as from a reverse proxy on the same host.
    resp = httpx.post(
        f"{server.base_url}/login",
        data={"username": name, "password": password, "next": ""},
        headers={"Origin": server.base_url.replace("http://", "https://"), "X-Forwarded-Proto": "https"},
        follow_redirects=False,
        timeout=15,
    )
    assert resp.status_code == 303, resp.text[:300]
    assert "secure" in set_cookie_attributes(resp, SESSION_COOKIE)


def test_every_cookie_the_server_sets_is_httponly_and_samesite(
    server: ServerProcess, http: httpx.Client
) -> None:
    """Language and kiosk cookies too: no script can read them and other sites do not send them."""
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    pair_url = http.post("/api/v1/kiosks", json={"name": "kios-cookie"}, headers=admin).json()["pair_url"]
    answers = [http.get(pair_url), http.get("/kiosk?lang=en"), form_login(server, *ROLE_ACCOUNTS[OFFICER])]
    seen = 0
    for resp in answers:
        for header in resp.headers.get_list("set-cookie"):
            seen += 1
            parsed = SimpleCookie()
            parsed.load(header)
            for morsel in parsed.values():
                assert morsel["httponly"], header
                assert str(morsel["samesite"]).lower() in ("strict", "lax"), header
    assert seen >= 3, "expected the kiosk, language and session cookies"


def test_pages_never_put_the_session_token_in_the_html(server: ServerProcess, http: httpx.Client) -> None:
    """The counter page carries a CSRF token, never the HttpOnly session token itself."""
    session = cookie_session(server, OFFICER)
    page = http.get("/counter/1", headers=cookie_header(session))
    assert page.status_code == 200, page.text[:300]
    assert session not in page.text


# ----- CSRF -----------------------------------------------------------------------------------


def test_cookie_call_without_csrf_header_is_refused(server: ServerProcess, http: httpx.Client) -> None:
    """A state-changing API call authenticated only by the cookie needs X-CSRF-Token (403 csrf_failed)."""
    session = cookie_session(server, OFFICER)
    for method, path in [
        ("POST", "/api/v1/counters/1/open"),
        ("POST", "/api/v1/counters/1/call-next"),
        ("POST", "/api/v1/logout"),
        ("POST", "/api/v1/tickets"),  # a logged-in browser issuing on someone's behalf
    ]:
        resp = http.request(method, path, headers=cookie_header(session))
        assert_error(resp, 403, "csrf_failed")
        wrong = http.request(method, path, headers={**cookie_header(session), CSRF_HEADER: "0" * 40})
        assert_error(wrong, 403, "csrf_failed")
    # The session survived the refused logout: the refusal did nothing.
    assert http.get("/api/v1/me", headers=cookie_header(session)).status_code == 200


def test_a_non_ascii_csrf_header_is_refused_not_a_crash(server: ServerProcess, http: httpx.Client) -> None:
    """X-CSRF-Token with bytes outside ASCII (found by the fuzz) is a 403 csrf_failed, not a 500."""
    session = cookie_session(server, OFFICER)
    for value in (b"\xff", "é".encode("latin-1"), b"token-\xe9" + b"0" * 33):
        resp = http.post("/api/v1/counters/1/open", headers={**cookie_header(session), CSRF_HEADER: value})
        assert_error(resp, 403, "csrf_failed")


def test_cookie_call_with_the_pages_csrf_token_is_allowed(server: ServerProcess, http: httpx.Client) -> None:
    """The CSRF token the counter page carries makes the same cookie call succeed."""
    session = cookie_session(server, OFFICER)
    page = http.get("/counter/1", headers=cookie_header(session))
    assert page.status_code == 200, page.text[:300]
    csrf = csrf_from_page(page.text)
    resp = http.post("/api/v1/counters/1/open", headers={**cookie_header(session), CSRF_HEADER: csrf})
    assert resp.status_code == 200, resp.text
    # Another session's token is no good: it is bound to the session.
    other = cookie_session(server, OFFICER)
    assert_error(
        http.post("/api/v1/counters/1/open", headers={**cookie_header(other), CSRF_HEADER: csrf}),
        403,
        "csrf_failed",
    )


def test_safe_cookie_calls_need_no_csrf_token(server: ServerProcess, http: httpx.Client) -> None:
    """GET requests with the cookie work without the header (they change nothing)."""
    session = cookie_session(server, OFFICER)
    resp = http.get("/api/v1/me", headers=cookie_header(session))
    assert resp.status_code == 200, resp.text
    assert resp.json()["role"] == OFFICER


def test_cross_site_login_form_post_is_refused(server: ServerProcess, http: httpx.Client) -> None:
    """Login CSRF: a /login post from another site's page is refused and sets no cookie."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        resp = http.post("/login", data={"username": name, "password": password}, headers=headers)
        assert resp.status_code == 403, resp.text[:300]
        assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "http:evil.example", " //evil"],
)
def test_login_never_redirects_to_another_site(server: ServerProcess, next_url: str) -> None:
    """After logging in, a `next` pointing off the server is ignored (no open redirect)."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    resp = httpx.post(
        f"{server.base_url}/login",
        data={"username": name, "password": password, "next": next_url},
        headers={"Origin": server.base_url},
        follow_redirects=False,
        timeout=15,
    )
    assert resp.status_code == 303
    location = resp.headers["location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location


def test_logout_form_needs_same_origin_and_the_csrf_field(server: ServerProcess, http: httpx.Client) -> None:
    """A cross-site or token-less /logout post does not end the session; the page's form does."""
    session = cookie_session(server, OFFICER)
    jar = cookie_header(session)
    cross = http.post("/logout", data={}, headers={**jar, "Origin": "http://evil.example"})
    assert cross.status_code == 403
    http.post("/logout", data={}, headers={**jar, "Origin": server.base_url})
    assert http.get("/api/v1/me", headers=jar).status_code == 200, "logout without CSRF field ended it"
    csrf = csrf_from_page(http.get("/counter/1", headers=jar).text)
    done = http.post("/logout", data={"csrf": csrf}, headers={**jar, "Origin": server.base_url})
    assert done.status_code == 303
    assert_error(http.get("/api/v1/me", headers=jar), 401)


def test_every_post_form_on_the_staff_pages_carries_a_csrf_field(
    server: ServerProcess, http: httpx.Client
) -> None:
    """Each POST form on a logged-in page has a hidden csrf input (login relies on the Origin check)."""
    jars = {
        "/counter/1": cookie_header(cookie_session(server, OFFICER)),
        "/door": cookie_header(cookie_session(server, "door")),
    }
    forms_seen = 0
    for path, jar in jars.items():
        page = http.get(path, headers=jar)
        assert page.status_code == 200, f"{path}: {page.status_code}"
        for form in scan_page(page.text).forms:
            if form.method != "post" or form.action.startswith("/login"):
                continue
            forms_seen += 1
            assert "csrf" in form.inputs, f"{path}: POST form to {form.action!r} has no csrf field"
    assert forms_seen >= 1, "expected at least the logout form on the staff pages"


# ----- expiry ---------------------------------------------------------------------------------


def test_login_answer_states_the_configured_lifetime(server: ServerProcess, http: httpx.Client) -> None:
    """POST /api/v1/login says the token lives session_hours, and the stored expiry matches."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    before = time.time()
    resp = http.post("/api/v1/login", json={"username": name, "password": password})
    assert resp.status_code == 200, resp.text
    assert resp.json()["expires_in"] == SESSION_HOURS * 3600
    with database(server) as db:
        row = db.execute(
            "SELECT expires_at FROM sessions WHERE token_hash = ?", (token_hash(resp.json()["token"]),)
        ).fetchone()
    assert row is not None, "no session row for the token"
    assert before + SESSION_HOURS * 3600 - 5 <= row[0] <= time.time() + SESSION_HOURS * 3600 + 5


def test_expired_bearer_token_answers_401(server: ServerProcess, http: httpx.Client) -> None:
    """Once its session's expires_at has passed, a bearer token is refused with 401 everywhere."""
    token = server.officer_token()
    headers = {"Authorization": f"Bearer {token}"}
    assert http.get("/api/v1/me", headers=headers).status_code == 200
    # One hour is the shortest lifetime; move this session's end into the past instead of waiting.
    with database(server) as db:
        changed = db.execute(
            "UPDATE sessions SET expires_at = ? WHERE token_hash = ?", (time.time() - 1, token_hash(token))
        ).rowcount
    assert changed == 1, "the session row was not found by its token hash"
    assert_error(http.get("/api/v1/me", headers=headers), 401, "unauthorized")
    assert_error(http.post("/api/v1/counters/1/open", headers=headers), 401, "unauthorized")


def test_expired_cookie_session_is_logged_out(server: ServerProcess, http: httpx.Client) -> None:
    """An expired session cookie counts as no login: pages send to /login, the API answers 401."""
    session = cookie_session(server, OFFICER)
    with database(server) as db:
        db.execute(
            "UPDATE sessions SET expires_at = ? WHERE token_hash = ?", (time.time() - 1, token_hash(session))
        )
    page = http.get("/counter/1", headers=cookie_header(session))
    assert page.status_code == 303 and page.headers["location"].startswith("/login"), page.status_code
    assert_error(http.get("/api/v1/me", headers=cookie_header(session)), 401)


def test_logout_ends_the_bearer_token(server: ServerProcess, http: httpx.Client) -> None:
    """After POST /api/v1/logout the same token is refused."""
    headers = {"Authorization": f"Bearer {server.officer_token()}"}
    assert http.post("/api/v1/logout", headers=headers).status_code == 200
    assert_error(http.get("/api/v1/me", headers=headers), 401, "unauthorized")


# ----- throttling (own server: the throttle is per address, and every test comes from 127.0.0.1) -


@pytest.fixture
def fresh_server(tmp_path: Path, accounts_db: Path) -> Iterator[ServerProcess]:
    """A server no one has failed to log in to yet."""
    proc = start_seeded(tmp_path / "throttle", accounts_db)
    yield proc
    proc.stop()


def test_repeated_login_failures_are_throttled_with_retry_after(fresh_server: ServerProcess) -> None:
    """After a few wrong passwords, even the right one gets 429 too_many_attempts with Retry-After."""
    name, password = ROLE_ACCOUNTS[OFFICER]
    with httpx.Client(base_url=fresh_server.base_url, timeout=20) as http:
        statuses = []
        for attempt in range(12):
            resp = http.post("/api/v1/login", json={"username": name, "password": f"salah-{attempt}"})
            statuses.append(resp.status_code)
            if resp.status_code == 429:
                break
            assert_error(resp, 401, "invalid_credentials")
        assert statuses[-1] == 429, f"never throttled after {len(statuses)} wrong passwords"
        assert len(statuses) <= 11, "more than 10 guesses allowed in a row"
        throttled = http.post("/api/v1/login", json={"username": name, "password": password})
        assert_error(throttled, 429, "too_many_attempts")
        wait = int(throttled.headers["retry-after"])
        assert 1 <= wait <= 900, wait
        assert str(wait) in throttled.json()["error"]["message"], "the message should say how long to wait"
        # The HTML form tells the same story, in a page.
        form = http.post(
            "/login", data={"username": name, "password": password}, headers={"Origin": fresh_server.base_url}
        )
        assert form.status_code == 429 and "retry-after" in form.headers
        assert SESSION_COOKIE not in form.headers.get("set-cookie", "")
        # After waiting as told, the right password works again.
        time.sleep(int(form.headers["retry-after"]) + 0.2)
        assert http.post("/api/v1/login", json={"username": name, "password": password}).status_code == 200


def test_a_colleagues_typos_do_not_lock_out_the_next_officer(fresh_server: ServerProcess) -> None:
    """The officer whose name was mistyped into a lock waits; another account at the same address logs in."""
    name, _ = ROLE_ACCOUNTS[OFFICER]
    other, other_password = ROLE_ACCOUNTS[ADMIN]
    with httpx.Client(base_url=fresh_server.base_url, timeout=20) as http:
        for attempt in range(12):
            if (
                http.post("/api/v1/login", json={"username": name, "password": f"x{attempt}"}).status_code
                == 429
            ):
                break
        assert_error(http.post("/api/v1/login", json={"username": name, "password": "x"}), 429)
        assert (
            http.post("/api/v1/login", json={"username": other, "password": other_password}).status_code
            == 200
        )


def test_an_address_guessing_many_names_is_throttled(fresh_server: ServerProcess) -> None:
    """Guessing names is guessing: one address trying name after name soon has to wait, for every name."""
    with httpx.Client(base_url=fresh_server.base_url, timeout=20) as http:
        statuses = [
            http.post("/api/v1/login", json={"username": f"guess{n}", "password": "x"}).status_code
            for n in range(ADDRESS_FREE_FAILURES + 2)
        ]
        assert statuses[-1] == 429, statuses
        assert set(statuses[:ADDRESS_FREE_FAILURES]) == {401}, statuses
        name, password = ROLE_ACCOUNTS[OFFICER]
        assert_error(http.post("/api/v1/login", json={"username": name, "password": password}), 429)
