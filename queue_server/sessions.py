"""Logging in: one path for the API's bearer tokens and the pages' session cookie.

Pages authenticate with an HttpOnly, SameSite=Strict cookie. Every state-changing
request that relies on that cookie must also carry `X-CSRF-Token`, a value
derived from the session token that only pages rendered for that session know.
Bearer-token clients are not exposed to CSRF and need no such header.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from queue_server import auth
from queue_server.errors import ApiError

SESSION_COOKIE = "antre_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class LoggedIn:
    token: str
    username: str
    role: str
    expires_in: int


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"antre-csrf", hashlib.sha256).hexdigest()[:40]


async def log_in(connection: HTTPConnection, username: str, password: str) -> LoggedIn:
    """Check a password (throttled, off the event loop) and open a session."""
    state = connection.app.state
    by_name: auth.LoginThrottle = state.login_throttle
    by_address: auth.LoginThrottle = state.address_throttle
    name_key, address_key = [f"user:{username}"], [f"addr:{client_address(connection)}"]
    wait = max(by_name.wait_seconds(name_key), by_address.wait_seconds(address_key))
    if wait > 0:
        raise ApiError(
            429,
            "too_many_attempts",
            f"too many failed logins; try again in {int(wait) + 1} second{'' if int(wait) == 0 else 's'}",
            {"Retry-After": str(int(wait) + 1)},
        )
    service = state.service
    account = service.storage.user(username)
    stored_hash = account[1] if account else auth.DUMMY_HASH
    # scrypt takes tens of milliseconds and 16 MiB: keep it off the event loop.
    valid = await asyncio.to_thread(auth.verify_password, password, stored_hash)
    if account is None or not valid:
        by_name.failed(name_key)
        by_address.failed(address_key)
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    # The address's count only fades with time: one good login must not reset a guesser's.
    by_name.succeeded(name_key)
    token = auth.new_token()
    now = time.time()
    lifetime = service.config.session_hours * 3600
    service.storage.add_session(auth.token_hash(token), username, now, now + lifetime)
    return LoggedIn(token, username, account[0], lifetime)


def principal(connection: HTTPConnection, method: str = "GET") -> auth.Principal | None:
    """The account behind a bearer token or the session cookie, if any."""
    header = connection.headers.get("authorization", "")
    from_cookie = False
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
    elif header:
        raise ApiError(401, "unauthorized", "use 'Authorization: Bearer <token>'")
    else:
        token = connection.cookies.get(SESSION_COOKIE, "")
        from_cookie = True
    if not token:
        return None
    hashed = auth.token_hash(token)
    found = connection.app.state.service.storage.session(hashed, time.time())
    if found is None:
        if from_cookie:
            return None  # a stale cookie is the same as not being logged in
        raise ApiError(401, "unauthorized", "the token is unknown or has expired; log in again")
    if from_cookie and method not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
            raise ApiError(403, "csrf_failed", "missing or wrong X-CSRF-Token; reload the page")
    return auth.Principal(found[0], found[1], hashed)


def session_token(connection: HTTPConnection) -> str | None:
    """The raw session cookie, when it belongs to a live session (for rendering CSRF tokens)."""
    token = connection.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    found = connection.app.state.service.storage.session(auth.token_hash(token), time.time())
    return token if found else None
