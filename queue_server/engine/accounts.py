"""Accounts: passwords (scrypt, off the event loop), tokens, logins with throttling, sessions, kiosks.

The web layer authenticates requests through `Accounts.principal`; every write
goes to the store's writer thread, every read to its reader threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from queue_server.engine import audit
from queue_server.engine.limits import LoginThrottle
from queue_server.store import Store

ROLES = ("admin", "officer", "door")
USERNAME_MAX = 64
PASSWORD_MAX = 1024
PASSWORD_MIN = 8
ADDRESS_FREE_FAILURES = 30
"""Counters share an office network: one officer's typos must not lock out the next,
so an address gets more tries than a name before it has to wait."""

# scrypt: memory-hard (16 MiB per hash), about 50 ms here; run off the event loop.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
# A hash to check against when the user does not exist, so timing does not tell who exists.
DUMMY_HASH = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    token_hash: str

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


@dataclass(frozen=True)
class LoggedIn:
    token: str
    username: str
    role: str
    expires_in: int


class InvalidCredentials(Exception):
    """Wrong username or password."""


class Throttled(Exception):
    """Too many failed logins; `wait` seconds until the next try."""

    def __init__(self, wait: int) -> None:
        super().__init__(f"try again in {wait} s")
        self.wait = wait


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def new_token() -> str:
    """A bearer, kiosk or ticket token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored only as hashes, so a copied database opens no sessions or tickets."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The value pages send back in X-CSRF-Token: derived from the session, known only to its pages."""
    return hmac.new(session_token.encode(), b"antre-csrf", hashlib.sha256).hexdigest()[:40]


class Accounts:
    def __init__(self, store: Store, session_hours: int) -> None:
        self.store = store
        self.session_seconds = session_hours * 3600
        self.by_name = LoginThrottle()
        self.by_address = LoginThrottle(free_failures=ADDRESS_FREE_FAILURES)

    async def log_in(self, username: str, password: str, address: str) -> LoggedIn:
        """Check a password (throttled, off the event loop) and open a session."""
        name_key, address_key = [f"user:{username}"], [f"addr:{address}"]
        wait = max(self.by_name.wait_seconds(name_key), self.by_address.wait_seconds(address_key))
        if wait > 0:
            raise Throttled(int(wait) + 1)
        account = await self.store.user(username)
        stored_hash = account[1] if account else DUMMY_HASH
        # scrypt takes tens of milliseconds and 16 MiB: keep it off the event loop.
        valid = await asyncio.to_thread(verify_password, password, stored_hash)
        if account is None or not valid:
            self.by_name.failed(name_key)
            self.by_address.failed(address_key)
            raise InvalidCredentials
        # The address's count only fades with time: one good login must not reset a guesser's.
        self.by_name.succeeded(name_key)
        token = new_token()
        now = time.time()
        await self.store.add_session(token_hash(token), username, now, now + self.session_seconds)
        return LoggedIn(token, username, account[0], self.session_seconds)

    async def principal(self, token: str) -> Principal | None:
        """The account behind a live session token."""
        hashed = token_hash(token)
        found = await self.store.session(hashed, time.time())
        return Principal(found[0], found[1], hashed) if found else None

    async def log_out(self, who: Principal) -> None:
        await self.store.delete_session(who.token_hash)

    async def set_user(self, username: str, role: str, password: str, now: str) -> None:
        hashed = await asyncio.to_thread(hash_password, password)
        await self.store.upsert_user(username, role, hashed, now)

    async def pair_kiosk(self, name: str, now: str, by: str) -> str:
        """Pair a kiosk device; returns its new token (shown once)."""
        token = new_token()
        await self.store.pair_kiosk(name, token_hash(token), now, by)
        await self.store.add_audit(audit.account_row(by, "kiosk_paired", name, now, {}))
        return token

    # ----- the admin's accounts page (every write on the store's writer thread, audited) -----

    async def users(self) -> list[dict[str, Any]]:
        return await self.store.users()

    async def create_user(self, username: str, role: str, password: str, now: str, by: str) -> bool:
        """A new account; False when the name is taken."""
        hashed = await asyncio.to_thread(hash_password, password)
        row = audit.account_row(by, "user_created", username, now, {"role": role})
        return await self.store.create_user(username, role, hashed, now, row)

    async def update_user(
        self,
        username: str,
        now: str,
        by: str,
        role: str | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> dict[str, Any] | None:
        """Change an account; disabling it or a new password ends its sessions. None if unknown."""
        changes: dict[str, Any] = {}
        detail: dict[str, Any] = {}
        if role is not None:
            changes["role"] = detail["role"] = role
        if disabled is not None:
            changes["disabled"] = int(disabled)
            detail["disabled"] = disabled
        if password is not None:
            changes["password_hash"] = await asyncio.to_thread(hash_password, password)
            detail["password_changed"] = True  # never the password or its hash
        row = audit.account_row(by, "user_updated", username, now, detail)
        return await self.store.update_user(username, changes, now, row)

    async def kiosk(self, token: str) -> str | None:
        """The name of the paired kiosk holding this token."""
        return await self.store.kiosk_by_token_hash(token_hash(token))

    async def kiosks(self) -> list[dict[str, str]]:
        return await self.store.kiosks()

    async def unpair_kiosk(self, name: str, now: str = "", by: str = "") -> bool:
        removed = await self.store.unpair_kiosk(name)
        if removed and by:
            await self.store.add_audit(audit.account_row(by, "kiosk_unpaired", name, now, {}))
        return removed
