"""Accounts, password hashing, bearer tokens, roles and login throttling."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections import deque
from dataclasses import dataclass

ROLES = ("admin", "officer", "door")
USERNAME_MAX = 64
PASSWORD_MAX = 1024

# scrypt: memory-hard (16 MiB per hash), about 50 ms here; run off the event loop.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    token_hash: str

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


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


# A hash to check against when the user does not exist, so timing does not tell who exists.
DUMMY_HASH = "scrypt$16384$8$1$" + "00" * 16 + "$" + "00" * 32


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


class _RandomPool:
    """os.urandom in 4 KiB reads: one system call per 128 tokens instead of one each."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.buffer = b""
        self.offset = 0

    def take(self, count: int) -> bytes:
        if self.offset + count > len(self.buffer):
            self.buffer = os.urandom(self.size)
            self.offset = 0
        chunk = self.buffer[self.offset : self.offset + count]
        self.offset += count
        return chunk


_pool = _RandomPool()


def new_token() -> str:
    """A bearer or ticket token: 256 random bits, URL-safe."""
    return base64.urlsafe_b64encode(_pool.take(32)).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """Tokens are stored only as hashes, so a copied database opens no sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


MAX_TRACKED_KEYS = 10_000
"""Names or addresses a limiter remembers before it forgets those with nothing recent."""


class LoginThrottle:
    """Slows down guessing: after a few failures per name or address, logins wait."""

    def __init__(self, free_failures: int = 5, window: float = 900.0, max_wait: float = 300.0) -> None:
        self.free_failures = free_failures
        self.window = window
        self.max_wait = max_wait
        self.failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self.failures.setdefault(key, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def wait_seconds(self, keys: list[str], now: float | None = None) -> float:
        """How long these keys must wait before another attempt (0 when they may try)."""
        now = time.monotonic() if now is None else now
        longest = 0.0
        for key in keys:
            times = self._recent(key, now)
            extra = len(times) - self.free_failures
            if extra >= 0 and times:
                wait = min(self.max_wait, 2.0 ** min(extra, 16))
                longest = max(longest, times[-1] + wait - now)
        return max(0.0, longest)

    def failed(self, keys: list[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for key in keys:
            self._recent(key, now).append(now)
        if len(self.failures) > MAX_TRACKED_KEYS:  # bound memory under a spray of names
            for key in [k for k, v in self.failures.items() if not v or v[-1] < now - self.window]:
                del self.failures[key]

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.failures.pop(key, None)


class RateLimiter:
    """At most `per_minute` events per key in any sliding minute (0 = no limit)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        if self.per_minute <= 0:
            return True
        now = time.monotonic() if now is None else now
        times = self.hits.setdefault(key, deque())
        while times and times[0] <= now - 60.0:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        if len(self.hits) > MAX_TRACKED_KEYS:  # bound memory under many addresses
            for stale in [k for k, v in self.hits.items() if not v or v[-1] <= now - 60.0]:
                del self.hits[stale]
        return True
