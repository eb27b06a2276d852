"""The sender of the notification outbox: POSTs each message to the office's messaging gateway.

The rows were written with their events (store/outbox.py), so the sender only
has to deliver them: it reads due rows off the event loop, posts each as JSON
signed with HMAC-SHA256, marks it sent only after a 2xx, and on a failure,
timeout or 5xx retries it later with exponential backoff and jitter. Unsent
rows wait in the database, so a restart picks them up. A row is sent at most
once by this server; the window between the gateway's 2xx and the mark (a
crash just then) is covered by the `Idempotency-Key` header, the message id,
which the gateway uses to drop a repeat. The phone number and the body are
never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from queue_server import __version__
from queue_server.domain.notify import Message
from queue_server.domain.settings import NotifyConfig
from queue_server.domain.tickets import iso
from queue_server.engine.tasks import cancel_and_wait
from queue_server.store import Store
from queue_server.store.outbox import EXPIRED, FAILED, Due, OutboxRow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Antre-Signature"
TIMESTAMP_HEADER = "X-Antre-Timestamp"
IDLE_WAKE = 30.0  # with nothing due, look again this often (expiry, a missed wake-up)
BATCH = 50  # rows read per pass
KEEP_DAYS = 30  # finished rows are deleted after this many days (what was sent, for a while)
REFUSED = frozenset({400, 410, 422})
"""The gateway says this message cannot be delivered (a bad number): retrying will not help."""


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the raw body under the office's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a gateway does with the header (docs/protocol.md): compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def backoff(attempts: int, first: float, longest: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempts`-th failed try: doubling from `first` up to `longest`,
    then up to half of it taken off at random (jitter), so many messages do not retry in step."""
    ceiling: float = min(longest, first * 2.0 ** max(0, attempts - 1))
    return ceiling * (0.5 + 0.5 * rng())


def body_of(row: Due) -> bytes:
    """The JSON the gateway receives; the same bytes on every attempt (built from the stored row)."""
    payload: dict[str, Any] = json.loads(row.payload)
    data = {
        "id": row.id,
        "to": row.phone,
        **payload,
        "created_at": datetime.fromtimestamp(row.created_at, UTC).isoformat(timespec="seconds"),
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def outbox_rows(messages: list[Message], created_at: float) -> list[OutboxRow]:
    """The batch's outbox rows; each gets a random id (the gateway's dedupe key across offices)."""
    return [
        (
            uuid.uuid4().hex,
            m.ticket_id,
            m.kind,
            m.event_seq,
            m.day,
            json.dumps(m.payload, ensure_ascii=False, sort_keys=True),
            created_at,
        )
        for m in messages
    ]


@dataclass
class Attempt:
    """What one POST came to: sent, to be retried, or refused for good."""

    sent: bool
    error: str = ""
    final: bool = False


class Notifier:
    """One office's sender: a task that drains the outbox, woken when a batch adds rows."""

    def __init__(
        self,
        config: NotifyConfig,
        store: Store,
        secret: str,
        today: Callable[[], str],
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.store = store
        self.secret = secret
        self.today = today
        self.clock = clock
        self.rng = rng
        self._transport = transport
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.sent = 0  # since start: what /healthz and the tests read
        self._expired_at = float("-inf")  # when stale rows were last given up
        self._purged_on = ""  # the day the old rows were last deleted (once a day is enough)

    def start(self, name: str) -> None:
        self._client = httpx.AsyncClient(
            timeout=self.config.timeout_seconds,
            transport=self._transport,
            headers={"User-Agent": f"Antre/{__version__}"},
            follow_redirects=False,  # a redirect would repost the phone number somewhere else
        )
        self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        if self._client is not None:
            await self._client.aclose()

    def wake(self) -> None:
        """A batch added rows: look now (unless the gateway is failing and we are backing off)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                wait, heed_wake = await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug or a database hiccup must not stop the sender for good
                log.exception("notify: the sender failed; trying again shortly")
                wait, heed_wake = self.config.first_retry_seconds, False
            if heed_wake:  # a wake-up during the pass (new rows) counts: the event stays set
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel (stop()) that
                # comes as the wake-up does, and stop() would then wait for ever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
            else:
                await asyncio.sleep(wait)
            self._wake.clear()

    async def drain(self) -> tuple[float, bool]:
        """Try every due row, oldest first; the wait before the next pass and whether a wake cuts it.

        After a failure the pass stops: the gateway (or the Wi-Fi) is likely down for all
        of them, and the failing row's backoff paces the next try of the whole outbox.
        """
        now, today = self.clock(), self.today()
        if now - self._expired_at >= IDLE_WAKE:  # by age: minutes matter, not each pass
            self._expired_at = now
            await self.store.outbox_expire(today, now - self.config.max_age_minutes * 60)
        if self._purged_on != today:
            self._purged_on = today
            await self.store.outbox_purge_before(
                (date.fromisoformat(today) - timedelta(days=KEEP_DAYS)).isoformat()
            )
        while True:
            rows = await self.store.outbox_due(self.clock(), BATCH)
            for row in rows:
                delay = await self.deliver(row)
                if delay is not None:
                    return delay, False
            if len(rows) < BATCH:
                break
        upcoming = await self.store.outbox_next_attempt_at()
        if upcoming is None:
            return IDLE_WAKE, True
        return min(IDLE_WAKE, max(0.0, upcoming - self.clock())), True

    async def deliver(self, row: Due) -> float | None:
        """Post one row and record the outcome; the backoff delay if it failed and will be retried."""
        if not row.phone:  # cannot happen for a pending row; never post a message to nobody
            await self.store.outbox_give_up(row.id, FAILED, "no phone", tried=False)
            return None
        attempt = await self.post(row)
        if attempt.sent:
            await self.store.outbox_sent(row.id, iso(datetime.now(UTC)))
            self.sent += 1
            log.info("notify: message %s (%s, ticket %d) sent", row.id, row.kind, row.ticket_id)
            return None
        tries = row.attempts + 1
        if attempt.final or tries >= self.config.max_attempts:
            await self.store.outbox_give_up(row.id, FAILED, attempt.error, tried=True)
            log.warning("notify: message %s given up after %d attempts: %s", row.id, tries, attempt.error)
            return None if attempt.final else self.config.first_retry_seconds
        delay = backoff(tries, self.config.first_retry_seconds, self.config.max_retry_seconds, self.rng)
        if self.clock() + delay - row.created_at > self.config.max_age_minutes * 60:
            await self.store.outbox_give_up(row.id, EXPIRED, attempt.error, tried=True)
            log.warning("notify: message %s is too old to retry: %s", row.id, attempt.error)
            return delay
        await self.store.outbox_retry(row.id, self.clock() + delay, attempt.error)
        log.warning(
            "notify: message %s attempt %d failed (%s); next in %.1f s", row.id, tries, attempt.error, delay
        )
        return delay

    async def post(self, row: Due) -> Attempt:
        assert self._client is not None, "start() the notifier first"
        body = body_of(row)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(self.secret, body),
            TIMESTAMP_HEADER: str(int(self.clock())),
            "Idempotency-Key": row.id,
        }
        try:
            response = await self._client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Attempt(False, "timeout")
        except httpx.HTTPError as exc:  # refused, reset, DNS, ...: the type says enough (no URL, no body)
            return Attempt(False, type(exc).__name__)
        if 200 <= response.status_code < 300:
            return Attempt(True)
        return Attempt(False, f"HTTP {response.status_code}", final=response.status_code in REFUSED)
