"""Who is asking: bearer tokens for the API and the pages' session cookie, through Starlette's
authentication middleware; CSRF for cookie-authenticated writes; `require(role)`.

Pages authenticate with an HttpOnly, SameSite=Strict cookie. Every state-changing
request that relies on that cookie must also carry `X-CSRF-Token`, a value
derived from the session token that only pages rendered for that session know.
Bearer-token clients are not exposed to CSRF and need no such header.
"""

from __future__ import annotations

import hmac

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError, BaseUser
from starlette.requests import HTTPConnection
from starlette.responses import Response

from queue_server.engine.accounts import Principal, csrf_token
from queue_server.web.errors import ApiError, error_response
from queue_server.web.state import antre

SESSION_COOKIE = "antre_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Staff(BaseUser):
    """A logged-in account; `session_token` is set when it came from the page cookie."""

    def __init__(self, principal: Principal, session_token: str | None, csrf_ok: bool) -> None:
        self.principal = principal
        self.session_token = session_token
        # A cookie-authenticated write without the page's X-CSRF-Token may not act (`require`);
        # the login and logout forms check their own form field instead.
        self.csrf_ok = csrf_ok

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.principal.username


class Refused(AuthenticationError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SessionBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization", "")
        from_cookie = False
        if header[:7].lower() == "bearer ":
            token = header[7:].strip()
        elif header:
            raise Refused(401, "unauthorized", "use 'Authorization: Bearer <token>'")
        else:
            token = conn.cookies.get(SESSION_COOKIE, "")
            from_cookie = True
        if not token or len(token) > 200:
            return None
        who = await antre(conn).accounts.principal(token)
        if who is None:
            if from_cookie:
                return None  # a stale cookie is the same as not being logged in
            raise Refused(401, "unauthorized", "the token is unknown or has expired; log in again")
        csrf_ok = True
        if from_cookie and conn.scope["type"] == "http" and conn.scope["method"] not in SAFE_METHODS:
            sent = conn.headers.get(CSRF_HEADER, "")
            csrf_ok = hmac.compare_digest(sent.encode(), csrf_token(token).encode())
        user = Staff(who, token if from_cookie else None, csrf_ok)
        return AuthCredentials(["authenticated", who.role]), user


def on_auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    if isinstance(exc, Refused):
        return error_response(exc.status, exc.code, exc.message)
    return error_response(401, "unauthorized", str(exc))


def principal(conn: HTTPConnection) -> Principal | None:
    """The account making the request; refuses a cookie-authenticated write without its CSRF token."""
    user = conn.scope.get("user")
    if not isinstance(user, Staff):
        return None
    if not user.csrf_ok:
        raise ApiError(403, "csrf_failed", "missing or wrong X-CSRF-Token; reload the page")
    return user.principal


def session_token(conn: HTTPConnection) -> str | None:
    """The page cookie's token, when it belongs to a live session (for rendering CSRF tokens)."""
    user = conn.scope.get("user")
    return user.session_token if isinstance(user, Staff) else None


def require(conn: HTTPConnection, *roles: str) -> Principal:
    """The account making the request if it may act in one of `roles` (admin may do everything)."""
    who = principal(conn)
    if who is None:
        raise ApiError(401, "unauthorized", "log in first (Authorization: Bearer <token>)")
    if not who.may(*roles):
        raise ApiError(403, "forbidden", f"the {who.role} role may not do this")
    return who


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"
