"""Idempotency records: (scope, key) -> the typed result of the request that used it, kept 48 hours.

A scope names the client and the request's kind (and, for tickets, its body),
so someone else's key, or the same key with another body, is a new request.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from queue_server.engine import results
from queue_server.engine.results import Result

RETENTION_SECONDS = 48 * 3600

Key = tuple[str, str]
"""(scope, key)."""


class IdempotencyRecords:
    def __init__(self) -> None:
        self._records: dict[Key, tuple[float, Result]] = {}

    def load(self, rows: Iterable[tuple[str, str, float, str]]) -> None:
        self._records = {
            (scope, key): (created, results.from_json(body)) for scope, key, created, body in rows
        }

    def __contains__(self, key: Key) -> bool:
        return key in self._records

    def get(self, key: Key) -> Result | None:
        record = self._records.get(key)
        return record[1] if record else None

    def put(self, key: Key, result: Result) -> tuple[str, str, float, str]:
        """Remember a result; returns the row to commit with the command's batch."""
        created = time.time()
        self._records[key] = (created, result)
        return (key[0], key[1], created, results.to_json(result))

    def forget_older_than(self, cutoff: float) -> None:
        self._records = {k: v for k, v in self._records.items() if v[0] > cutoff}


def cutoff(now: float | None = None) -> float:
    return (time.time() if now is None else now) - RETENTION_SECONDS
