"""Shared pieces of the security tests: error shape, security headers, credentials per role."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

from tests.support.server import ROLE_ACCOUNTS, ServerProcess

ANONYMOUS, DOOR, OFFICER, ADMIN = "anonymous", "door", "officer", "admin"
ROLES: tuple[str, ...] = (ANONYMOUS, DOOR, OFFICER, ADMIN)
SESSION_COOKIE = "antre_session"
CSRF_HEADER = "X-CSRF-Token"
ERROR_CODE = re.compile(r"^[a-z0-9_]+$")

STRICT_REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def assert_error(
    resp: httpx.Response, status: int | Collection[int], code: str | Collection[str] | None = None
) -> str:
    """The answer has the status and the body `{"error": {"code", "message"}}`; return the code."""
    statuses = {status} if isinstance(status, int) else set(status)
    where = f"{resp.request.method} {resp.request.url}"
    assert resp.status_code in statuses, f"{where} -> {resp.status_code} {resp.text[:300]}"
    assert resp.headers.get("content-type", "").startswith("application/json"), (
        f"{where}: error answer is {resp.headers.get('content-type')!r}, not JSON"
    )
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{where}: {body}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) >= {"code", "message"}, f"{where}: {body}"
    assert isinstance(error["code"], str) and ERROR_CODE.match(error["code"]), f"{where}: {body}"
    assert isinstance(error["message"], str) and error["message"].strip(), f"{where}: {body}"
    if code is not None:
        codes = {code} if isinstance(code, str) else set(code)
        assert error["code"] in codes, f"{where}: expected {sorted(codes)}, got {body}"
    return str(error["code"])


def csp_directives(value: str) -> dict[str, list[str]]:
    """Parse a Content-Security-Policy header into {directive: [sources]}."""
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


def assert_strict_csp(resp: httpx.Response) -> None:
    """A CSP that allows scripts only from the server itself, no inline code, no framing."""
    where = f"{resp.request.method} {resp.request.url.path}"
    value = resp.headers.get("content-security-policy")
    assert value, f"{where}: no Content-Security-Policy"
    csp = csp_directives(value)
    script = csp.get("script-src", csp.get("default-src"))
    assert script is not None, f"{where}: CSP restricts no scripts: {value}"
    # Anything that lets injected markup run script defeats the point of a CSP.
    loose = {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:", "blob:"}
    assert not loose & set(script), f"{where}: script sources too loose: {script}"
    for name, sources in csp.items():
        assert "'unsafe-inline'" not in sources, f"{where}: {name} allows 'unsafe-inline'"
        assert "'unsafe-eval'" not in sources, f"{where}: {name} allows 'unsafe-eval'"
    assert csp.get("object-src") == ["'none'"], f"{where}: object-src is not 'none': {value}"
    assert "base-uri" in csp, f"{where}: no base-uri (an injected <base> could redirect scripts)"
    assert csp.get("frame-ancestors") in (["'none'"], ["'self'"]), f"{where}: framing allowed: {value}"


def assert_security_headers(resp: httpx.Response) -> None:
    """The usual headers that every answer carries, JSON, HTML, static file or error alike."""
    where = f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}"
    headers = resp.headers
    assert headers.get("x-content-type-options", "").lower() == "nosniff", f"{where}: no nosniff"
    policy = headers.get("referrer-policy", "").lower()
    assert policy in STRICT_REFERRER_POLICIES, f"{where}: Referrer-Policy {policy!r}"
    # Clickjacking: either the old header or the CSP directive must forbid framing.
    frame_options = headers.get("x-frame-options", "").upper()
    frame_ancestors = csp_directives(headers.get("content-security-policy", "")).get("frame-ancestors")
    assert frame_options in ("DENY", "SAMEORIGIN") or frame_ancestors in (["'none'"], ["'self'"]), (
        f"{where}: framing is not forbidden"
    )


@dataclass
class Form:
    """A <form> of a page: its method, action and the names of its inputs."""

    method: str
    action: str
    inputs: list[str] = field(default_factory=list)


class PageScan(HTMLParser):
    """Collects what a strict CSP would block in a page (inline scripts and handlers) and its forms."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.forms: list[Form] = []
        self._inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: inline event handler")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}='javascript:...'>")
        if tag == "script":
            # A JSON data block is never executed, so the CSP does not govern it.
            kind = attributes.get("type", "").lower()
            self._inline_script = "src" not in attributes and kind not in DATA_SCRIPT_TYPES
        elif tag == "form":
            self.forms.append(Form(attributes.get("method", "get").lower(), attributes.get("action", "")))
        elif tag in ("input", "button", "select", "textarea") and self.forms and "name" in attributes:
            self.forms[-1].inputs.append(attributes["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inline_script = False

    def handle_data(self, data: str) -> None:
        if self._inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]!r}")


DATA_SCRIPT_TYPES = ("application/json", "application/ld+json", "text/template")


def scan_page(html: str) -> PageScan:
    """Parse `html`: `problems` lists inline code a strict CSP blocks, `forms` the forms."""
    scan = PageScan()
    scan.feed(html)
    scan.close()
    return scan


def token_hash(token: str) -> str:
    """How the server stores tokens (SHA-256 hex), to find a session row in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def database(server: ServerProcess) -> Iterator[sqlite3.Connection]:
    """A connection to the running server's SQLite file (WAL mode allows a second writer)."""
    conn = sqlite3.connect(server.db_path, timeout=10, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def same_origin_headers(server: ServerProcess) -> dict[str, str]:
    """What a browser sends with a form posted from one of the server's own pages."""
    return {"Origin": server.base_url}


def form_login(server: ServerProcess, username: str, password: str) -> httpx.Response:
    """POST the /login form the way the login page does (no redirect followed)."""
    return httpx.post(
        f"{server.base_url}/login",
        data={"username": username, "password": password, "next": ""},
        headers=same_origin_headers(server),
        follow_redirects=False,
        timeout=15,
    )


def cookie_session(server: ServerProcess, role: str) -> str:
    """Log the role's test account in through the /login form; return the session cookie value."""
    name, password = ROLE_ACCOUNTS[role]
    resp = form_login(server, name, password)
    assert resp.status_code == 303, f"/login as {name}: {resp.status_code} {resp.text[:300]}"
    value = resp.cookies.get(SESSION_COOKIE)
    assert value, f"/login set no {SESSION_COOKIE} cookie: {resp.headers.get_list('set-cookie')}"
    return value


CSRF_PATTERN = re.compile(
    r"""(?:name=["']csrf(?:[-_]token)?["'][^>]*?(?:content|value)=["']([^"']+)["'])"""
    r"""|(?:(?:content|value)=["']([^"']+)["'][^>]*?name=["']csrf(?:[-_]token)?["'])"""
    r"""|(?:data-csrf(?:-token)?=["']([^"']+)["'])""",
    re.IGNORECASE,
)


def csrf_from_page(html: str) -> str:
    """The CSRF token a staff page gives its script (meta tag, hidden input or data attribute)."""
    match = CSRF_PATTERN.search(html)
    assert match, "the page carries no CSRF token (meta name=csrf-token, input name=csrf or data-csrf)"
    return next(group for group in match.groups() if group)


@dataclass
class Credentials:
    """How one role authenticates: a bearer token for the API, a session cookie for pages."""

    role: str
    bearer: str | None = None
    cookie: str | None = None

    def api_headers(self) -> dict[str, str]:
        """Headers of an API call made with the bearer token (none for anonymous)."""
        return {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}

    def page_cookies(self) -> dict[str, str]:
        """Cookies of a page request made with the session cookie (none for anonymous)."""
        return {SESSION_COOKIE: self.cookie} if self.cookie else {}


def credentials(server: ServerProcess, role: str) -> Credentials:
    """Fresh credentials for `role` (a new bearer token and a new cookie session)."""
    if role == ANONYMOUS:
        return Credentials(role)
    return Credentials(role, bearer=server.role_token(role), cookie=cookie_session(server, role))


def server_log_tracebacks(server: ServerProcess, since: int = 0) -> list[str]:
    """Lines of the server log after offset `since` that show an unexpected error (a 5xx, a crash)."""
    return [
        line
        for line in server.log_text()[since:].splitlines()
        if "Traceback" in line or "unexpected error" in line or " ERROR " in line
    ]
