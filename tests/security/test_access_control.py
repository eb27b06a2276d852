"""Who may do what: the access table, walked with every role and none, against a real server.

`ACCESS_TABLE` below is the documentation: every endpoint, page, WebSocket and
static mount the server has, and the roles that may use it. A route the server
has but the table lacks makes `test_every_route_of_the_app_is_in_the_table`
fail, so nothing new becomes reachable without someone deciding who may use it.

Refusals look different by kind of route:
- `api` (JSON): anonymous -> 401, wrong role -> 403, both `{"error": {"code", "message"}}`.
- `page` (HTML): anonymous -> 303 to `/login?next=<the page>`, wrong role -> 403 HTML page.
- `ws`: all WebSockets are public read-only feeds today.
- `entrance` (api-remote's check-in by ticket token): anyone but a paired kiosk, a door keeper or an
  admin -> 403 `checkin_at_entrance` (a visitor must not check in from home), logged in or not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from websockets.sync.client import connect

from queue_server.config import load_config
from queue_server.web.app import create_app
from tests.security.helpers import (
    ADMIN,
    ANONYMOUS,
    DOOR,
    OFFICER,
    ROLES,
    Credentials,
    assert_error,
    credentials,
)
from tests.support.server import ROLE_ACCOUNTS, ServerProcess, office_toml

EVERYONE = frozenset(ROLES)
STAFF = frozenset({DOOR, OFFICER, ADMIN})
DOOR_KEEPERS = frozenset({DOOR, ADMIN})
OFFICERS = frozenset({OFFICER, ADMIN})
ADMINS = frozenset({ADMIN})

API, PAGE, WS, ENTRANCE = "api", "page", "ws", "entrance"


@dataclass(frozen=True)
class Rule:
    """One row of the access table."""

    method: str  # HTTP method (GET includes HEAD), or "WS" for a WebSocket
    path: str  # the route's path template, as the server declares it
    allowed: frozenset[str]  # roles that may use it; "anonymous" = no login at all
    kind: str  # api / page / ws: how a refusal looks
    purpose: str  # who uses it and why the roles are what they are


# fmt: off
ACCESS_TABLE: tuple[Rule, ...] = (
    # -- health and public reads: displays, kiosks and phones have no account --------------
    Rule("GET", "/healthz", EVERYONE, API, "supervisor / load balancer liveness probe"),
    Rule("GET", "/api/v1/services", EVERYONE, API, "kiosk and phones list the services"),
    Rule("GET", "/api/v1/occupancy", EVERYONE, API, "entrance display shows people inside"),
    Rule("GET", "/api/v1/counters", EVERYONE, API, "displays show the counters"),
    Rule("GET", "/api/v1/state", EVERYONE, API, "displays start from this snapshot"),
    Rule("GET", "/api/v1/events", EVERYONE, API, "polling fallback of the display feed"),
    Rule("GET", "/api/v1/remote/services", EVERYONE, API, "phones at home see quota left and the wait"),
    # -- tickets: the ticket token is the capability, no account needed --------------------
    Rule("POST", "/api/v1/tickets", EVERYONE, API, "walk-in issuing; anonymous is rate-limited"),
    Rule("GET", "/api/v1/tickets/{token}", EVERYONE, API, "the visitor follows the ticket"),
    Rule("DELETE", "/api/v1/tickets/{token}", EVERYONE, API, "the visitor cancels the ticket"),
    Rule("POST", "/api/v1/tickets/{token}/print", EVERYONE, API, "the kiosk prints the ticket"),
    Rule("POST", "/api/v1/tickets/{token}/rejoin", EVERYONE, API, "the visitor who missed a call comes back"),
    Rule("POST", "/api/v1/rejoin", STAFF, API, "staff put a missed number back in the queue"),
    Rule("POST", "/api/v1/tickets/{token}/check-in", DOOR_KEEPERS, ENTRANCE, "check-in at the door"),
    Rule("POST", "/api/v1/check-in", DOOR_KEEPERS, API, "the door keeper checks a remote ticket in"),
    # -- door keeper ------------------------------------------------------------------------
    Rule("POST", "/api/v1/occupancy/enter", DOOR_KEEPERS, API, "count people in without a ticket"),
    Rule("POST", "/api/v1/occupancy/exit", DOOR_KEEPERS, API, "count people out"),
    # -- admin ------------------------------------------------------------------------------
    Rule("PUT", "/api/v1/capacity", ADMINS, API, "change how many may be inside"),
    Rule("POST", "/api/v1/kiosks", ADMINS, API, "pair a kiosk (device token)"),
    Rule("GET", "/api/v1/kiosks", ADMINS, API, "list paired kiosks"),
    Rule("DELETE", "/api/v1/kiosks/{name}", ADMINS, API, "unpair a kiosk"),
    Rule("POST", "/api/v1/services", ADMINS, API, "add a service live"),
    Rule("PATCH", "/api/v1/services/{service}", ADMINS, API, "change or close a service live"),
    Rule("POST", "/api/v1/counters", ADMINS, API, "add a counter live"),
    Rule("PATCH", "/api/v1/counters/{counter}", ADMINS, API, "rename a counter, reorder its services"),
    Rule("GET", "/api/v1/hours", EVERYONE, API, "kiosks and phones show the opening hours"),
    Rule("PUT", "/api/v1/hours", ADMINS, API, "set opening hours and holidays"),
    Rule("GET", "/api/v1/running-text", EVERYONE, API, "the lobby's running text"),
    Rule("PUT", "/api/v1/running-text", ADMINS, API, "change the lobby's running text"),
    Rule("GET", "/api/v1/users", ADMINS, API, "list accounts (never a hash)"),
    Rule("POST", "/api/v1/users", ADMINS, API, "add an account"),
    Rule("PATCH", "/api/v1/users/{username}", ADMINS, API, "role, password reset, disable"),
    Rule("GET", "/api/v1/audit", ADMINS, API, "who changed what, when"),
    Rule("GET", "/api/v1/tickets", ADMINS, API, "the supervisor's list of the day's tickets"),
    Rule("POST", "/api/v1/tickets/id/{id}/cancel", ADMINS, API, "supervisor cancels any open ticket"),
    Rule("POST", "/api/v1/tickets/id/{id}/reactivate", ADMINS, API, "supervisor brings back a no-show"),
    Rule("POST", "/api/v1/tickets/id/{id}/transfer", ADMINS, API, "supervisor moves a ticket"),
    # -- accounts ---------------------------------------------------------------------------
    Rule("POST", "/api/v1/login", EVERYONE, API, "anyone may try to log in (throttled)"),
    Rule("POST", "/api/v1/logout", STAFF, API, "end one's own session"),
    Rule("GET", "/api/v1/me", STAFF, API, "who am I"),
    # -- counters: officers (and the admin, who may stand in) -------------------------------
    Rule("POST", "/api/v1/counters/{counter}/call-next", OFFICERS, API, "call the next visitor"),
    Rule("POST", "/api/v1/counters/{counter}/call", OFFICERS, API, "call one number out of order"),
    Rule("POST", "/api/v1/counters/{counter}/recall", OFFICERS, API, "call the current one again"),
    Rule("POST", "/api/v1/counters/{counter}/serve", OFFICERS, API, "the visitor arrived"),
    Rule("POST", "/api/v1/counters/{counter}/finish", OFFICERS, API, "done with the visitor"),
    Rule("POST", "/api/v1/counters/{counter}/no-show", OFFICERS, API, "the visitor did not come"),
    Rule("POST", "/api/v1/counters/{counter}/transfer", OFFICERS, API, "send to another service"),
    Rule("POST", "/api/v1/counters/{counter}/undo", OFFICERS, API, "take back the last step (15 s)"),
    Rule("POST", "/api/v1/counters/{counter}/open", OFFICERS, API, "open the counter"),
    Rule("POST", "/api/v1/counters/{counter}/close", OFFICERS, API, "close / pause the counter"),
    # -- live feeds (read-only; a display socket accepts no commands) -----------------------
    Rule("WS", "/ws/display", EVERYONE, WS, "lobby and entrance displays"),
    Rule("WS", "/ws/tickets/{token}", EVERYONE, WS, "the visitor's phone; token is the capability"),
    # -- reports and the satisfaction survey ---------------------------------------------
    Rule("GET", "/api/v1/reports", ADMINS, API, "figures per period, service, counter, officer"),
    Rule("GET", "/api/v1/reports/occupancy", ADMINS, API, "peak inside, time at capacity, arrivals"),
    Rule("GET", "/api/v1/reports/tickets", ADMINS, API, "the visits behind a report figure"),
    Rule("GET", "/api/v1/reports/ikm", ADMINS, API, "the satisfaction index (IKM)"),
    Rule("GET", "/api/v1/survey/elements", EVERYONE, API, "the visitor's phone shows the questions"),
    Rule("POST", "/api/v1/tickets/{token}/survey", EVERYONE, API, "the visitor answers (token = capability)"),
    Rule("GET", "/api/v1/survey/counters/{counter}", OFFICERS, API, "counter tablet (or a paired kiosk)"),
    Rule("POST", "/api/v1/survey/counters/{counter}", OFFICERS, API, "tablet rating (or a paired kiosk)"),
    Rule("GET", "/api/v1/tickets/{token}/survey", EVERYONE, API, "the phone: offer the survey or not"),
    Rule("GET", "/admin/reports", ADMINS, PAGE, "reports: period, tables, heat map, punctuality"),
    Rule("GET", "/admin/reports/tickets", ADMINS, PAGE, "the visits behind a report figure"),
    Rule("GET", "/admin/survey", ADMINS, PAGE, "the satisfaction index per period, service, counter"),
    Rule("GET", "/admin/survey/print", ADMINS, PAGE, "the printable IKM report"),
    Rule("GET", "/survey/{counter}", OFFICERS, PAGE, "counter tablet (officer session or paired kiosk)"),
    # -- HTML pages -------------------------------------------------------------------------
    Rule("GET", "/", EVERYONE, PAGE, "index of the screens"),
    Rule("GET", "/kiosk", EVERYONE, PAGE, "the ticket kiosk (public device)"),
    Rule("GET", "/kiosk/pair", EVERYONE, PAGE, "pairing link: the one-time token is the capability"),
    Rule("GET", "/display", EVERYONE, PAGE, "lobby display (a TV)"),
    Rule("GET", "/entrance", EVERYONE, PAGE, "entrance display (a TV)"),
    Rule("GET", "/door", DOOR_KEEPERS, PAGE, "door keeper's screen"),
    Rule("GET", "/counter/{counter}", OFFICERS, PAGE, "an officer's counter screen"),
    Rule("GET", "/remote", EVERYONE, PAGE, "a visitor takes a ticket from home"),
    Rule("GET", "/t/{token}", EVERYONE, PAGE, "the visitor's ticket on the phone"),
    Rule("GET", "/t/{token}/qr.svg", EVERYONE, PAGE, "QR code of the ticket link"),
    Rule("GET", "/login", EVERYONE, PAGE, "login form"),
    Rule("POST", "/login", EVERYONE, PAGE, "login form submit (same-origin only)"),
    Rule("POST", "/logout", EVERYONE, PAGE, "logout form submit (CSRF token needed to end a session)"),
    Rule("GET", "/admin", ADMINS, PAGE, "the head of office runs the office from here"),
    Rule("GET", "/admin/live", ADMINS, PAGE, "the supervisor's live view"),
    Rule("GET", "/static/{path}", EVERYONE, PAGE, "scripts, styles, sounds"),
)
# fmt: on

#: Rows whose allowed use ends the caller's session: they get fresh credentials each time.
SESSION_ENDING = {("POST", "/api/v1/logout"), ("POST", "/logout")}


def table_keys() -> set[tuple[str, str]]:
    """(method, path) of every row."""
    return {(rule.method, rule.path) for rule in ACCESS_TABLE}


# ----- the app's own route list ---------------------------------------------------------------


def app_route_keys(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path template) of every route, walking Mounts; HEAD is folded into GET."""
    keys: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Mount):
            inner = list(route.routes)
            if inner:
                keys |= app_route_keys(inner, prefix + route.path)
            else:
                # A mounted app (StaticFiles) serves every path under it: one row, GET.
                keys.add(("GET", f"{prefix}{route.path}/{{path}}"))
        elif isinstance(route, WebSocketRoute):
            keys.add(("WS", prefix + route.path))
        elif isinstance(route, Route):
            # methods None means "any method": not in the table, so it fails loudly.
            methods = set(route.methods) if route.methods is not None else {"*"}
            if "GET" in methods:
                methods.discard("HEAD")
            keys |= {(method, prefix + route.path) for method in methods}
        else:
            keys.add(("?", f"{prefix}{getattr(route, 'path', repr(route))}"))
    return keys


def test_every_route_of_the_app_is_in_the_table(tmp_path: Path) -> None:
    """The app (with its pages) has no route the table lacks, and the table no stale row."""
    config_path = tmp_path / "office.toml"
    config_path.write_text(office_toml(), encoding="utf-8")
    config = load_config(config_path)
    app = create_app(config, tmp_path / "queue.db")
    routes = app_route_keys(list(app.routes))
    unlisted = sorted(routes - table_keys())
    assert not unlisted, f"routes with no row in ACCESS_TABLE (decide who may use them): {unlisted}"
    stale = sorted(table_keys() - routes)
    assert not stale, f"ACCESS_TABLE rows the server no longer has: {stale}"
    assert len(table_keys()) == len(ACCESS_TABLE), "a (method, path) appears twice in the table"


# ----- walking the table against a live server ------------------------------------------------


class Walker:
    """Turns a table row into a concrete request on the live server, with real ids and tokens."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=20, follow_redirects=False)
        self.creds: dict[str, Credentials] = {role: credentials(server, role) for role in ROLES}

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def fresh_ticket_token(self) -> str:
        """A new ticket's token, so DELETE and print find a ticket in a state that allows them."""
        resp = self.http.post("/api/v1/tickets", json={"service": "a"})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["token"])

    def fresh_kiosk(self) -> tuple[str, str]:
        """(name, token) of a newly paired kiosk."""
        name = f"kiosk-{uuid.uuid4().hex[:8]}"
        resp = self.http.post("/api/v1/kiosks", json={"name": name}, headers=self.creds[ADMIN].api_headers())
        assert resp.status_code == 201, resp.text
        return name, str(resp.json()["token"])

    def concrete_path(self, rule: Rule) -> str:
        """The rule's path with its parameters filled by existing objects."""
        path = rule.path
        if "{token}" in path:
            path = path.replace("{token}", self.fresh_ticket_token())
        if "{name}" in path:
            path = path.replace("{name}", quote(self.fresh_kiosk()[0], safe=""))
        path = path.replace("{counter}", "1").replace("{path}", "css/antre.css")
        # Admin rows: existing objects, so an allowed request gets past the lookup (PATCH {} changes nothing).
        path = path.replace("{service}", "a").replace("{username}", ROLE_ACCOUNTS[OFFICER][0])
        path = path.replace("{id}", "1")
        if rule.path == "/kiosk/pair":
            path += f"?token={self.fresh_kiosk()[1]}"
        if rule.path == "/api/v1/events":
            path += "?since=0"
        return path

    def body(self, rule: Rule, role: str) -> dict[str, Any]:
        """A well-formed body, so an allowed role gets past validation to the real work."""
        login_as = role if role != ANONYMOUS else OFFICER
        name, password = ROLE_ACCOUNTS[login_as]
        bodies: dict[tuple[str, str], dict[str, Any]] = {
            ("POST", "/api/v1/tickets"): {"json": {"service": "a"}},
            ("POST", "/api/v1/occupancy/enter"): {"json": {"count": 1}},
            ("POST", "/api/v1/occupancy/exit"): {"json": {"count": 1}},
            ("PUT", "/api/v1/capacity"): {"json": {"capacity": 10}},
            ("POST", "/api/v1/kiosks"): {"json": {"name": f"kiosk-{uuid.uuid4().hex[:8]}"}},
            ("POST", "/api/v1/login"): {"json": {"username": name, "password": password}},
            ("POST", "/api/v1/counters/{counter}/call"): {"json": {"number": "A999"}},
            ("POST", "/api/v1/counters/{counter}/transfer"): {"json": {"service": "b"}},
            ("POST", "/api/v1/check-in"): {"json": {"number": "A999"}},
            ("POST", "/api/v1/rejoin"): {"json": {"number": "A999"}},
            ("POST", "/login"): {"data": {"username": name, "password": password, "next": ""}},
            ("POST", "/logout"): {"data": {}},
        }
        return bodies.get((rule.method, rule.path), {})

    def request(self, rule: Rule, role: str) -> httpx.Response:
        """Send the row's request as `role`: bearer token for the API, session cookie for pages."""
        creds = (
            credentials(self.server, role) if (rule.method, rule.path) in SESSION_ENDING else self.creds[role]
        )
        headers = creds.api_headers() if rule.kind in (API, ENTRANCE) else {}
        if rule.kind == PAGE:
            headers["Origin"] = self.server.base_url  # a browser's same-origin form post
            if creds.cookie:
                headers["Cookie"] = f"antre_session={creds.cookie}"
        resp = self.http.request(
            rule.method, self.concrete_path(rule), headers=headers, **self.body(rule, role)
        )
        self.http.cookies.clear()  # each request carries exactly the credentials chosen above
        return resp

    def websocket_first_frame(self, rule: Rule, role: str) -> str:
        """Open the row's WebSocket as `role` and return the first frame."""
        creds = self.creds[role]
        headers = creds.api_headers()
        if creds.cookie:
            headers["Cookie"] = f"antre_session={creds.cookie}"
        url = self.server.ws_url + self.concrete_path(rule)
        with connect(url, additional_headers=headers, open_timeout=10) as ws:
            frame = ws.recv(timeout=10)
        return frame if isinstance(frame, str) else frame.decode()


@pytest.fixture(scope="module")
def walker(module_server: ServerProcess) -> Iterator[Walker]:
    """A Walker on the module's server, logged in once per role."""
    made = Walker(module_server)
    yield made
    made.close()


def rule_id(rule: Rule) -> str:
    """A readable test id for a row."""
    return f"{rule.method} {rule.path}"


@pytest.mark.parametrize("rule", ACCESS_TABLE, ids=rule_id)
def test_each_role_gets_exactly_what_the_table_allows(walker: Walker, rule: Rule) -> None:
    """Allowed roles are never refused (401/403) nor crash; other roles get the refusal of the kind."""
    for role in ROLES:
        if rule.kind == WS:
            assert role in rule.allowed, "no WebSocket is restricted; teach the walker how refusal looks"
            frame = walker.websocket_first_frame(rule, role)
            assert '"snapshot"' in frame, f"{rule_id(rule)} as {role}: first frame {frame[:200]}"
            continue
        resp = walker.request(rule, role)
        where = f"{rule_id(rule)} as {role}: {resp.status_code} {resp.text[:200]}"
        assert resp.status_code < 500, where
        if role in rule.allowed:
            assert resp.status_code not in (401, 403), where
            location = resp.headers.get("location", "")
            if rule.kind == PAGE and rule.method == "GET":
                assert not location.startswith("/login"), f"{where}: sent to log in"
        elif rule.kind == ENTRANCE:
            assert_error(resp, 403, "checkin_at_entrance")
        elif rule.kind == API:
            if role == ANONYMOUS:
                assert_error(resp, 401, "unauthorized")
            else:
                assert_error(resp, 403, "forbidden")
        elif role == ANONYMOUS:
            assert resp.status_code == 303, where
            location = resp.headers["location"]
            assert location.startswith("/login?next="), f"{where}: redirected to {location}"
        else:
            assert resp.status_code == 403, where
            assert resp.headers["content-type"].startswith("text/html"), where


def test_bad_or_expired_bearer_tokens_are_refused_everywhere(walker: Walker) -> None:
    """A made-up or malformed Authorization header gets 401 on every restricted API row."""
    for rule in ACCESS_TABLE:
        if rule.kind != API or ANONYMOUS in rule.allowed:
            continue
        for header in ("Bearer not-a-real-token", "Basic a2VwYWxhOnNhbmRp", "Bearer", "token abc"):
            resp = walker.http.request(
                rule.method, walker.concrete_path(rule), headers={"Authorization": header}, json={}
            )
            assert_error(resp, 401, "unauthorized")


def test_methods_outside_the_table_are_refused(walker: Walker) -> None:
    """On every path of the table, a method the table does not list answers 405 (or 404)."""
    allowed_methods: dict[str, set[str]] = {}
    for rule in ACCESS_TABLE:
        if rule.kind != WS:
            allowed_methods.setdefault(rule.path, set()).add(rule.method)
    for path, methods in allowed_methods.items():
        concrete = walker.concrete_path(next(r for r in ACCESS_TABLE if r.path == path))
        listed = methods | ({"HEAD"} if "GET" in methods else set())
        for method in sorted({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} - listed):
            resp = walker.http.request(method, concrete, headers=walker.creds[ADMIN].api_headers())
            where = f"{method} {path}: {resp.status_code}"
            assert resp.status_code in (404, 405), where
            if method != "HEAD":  # a HEAD answer has no body to carry the shape
                assert_error(resp, (404, 405))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/settings",
        "/api/v1/user",
        "/api/v2/tickets",
        "/api/v1/ticket",
        "/.env",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fqueue.db",
        "/queue.db",
        "/counter",
        "/t/",
    ],
)
def test_paths_outside_the_table_are_not_found(walker: Walker, path: str) -> None:
    """Anything not in the table, even as the admin, is a 404 with the error shape."""
    resp = walker.http.get(path, headers=walker.creds[ADMIN].api_headers())
    assert_error(resp, 404)


def test_a_demoted_account_loses_its_rights_at_once(walker: Walker, module_server: ServerProcess) -> None:
    """A session's role is read fresh: re-saving an officer as door removes counter access."""
    module_server.add_user("pindah", "officer", "sandi-pindah-uji-1")
    token = module_server.login("pindah", "sandi-pindah-uji-1")
    headers = {"Authorization": f"Bearer {token}"}
    assert walker.http.post("/api/v1/counters/1/open", headers=headers).status_code == 200
    module_server.add_user("pindah", "door", "sandi-pindah-uji-1")
    assert_error(walker.http.post("/api/v1/counters/1/open", headers=headers), 403, "forbidden")
