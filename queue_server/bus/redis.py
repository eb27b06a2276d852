"""The broker of a deployment with several workers: Redis, through redis-py's asyncio client.

Per office `X` (keys under `antre:X:`):
- `events`: a stream, one entry per event, entry id `<seq>-0`, so `?since=N` is an XRANGE on any
  worker. The entry of the last event of a committed batch also carries the batch's state rows
  (`rows`), which replicas fold into their copy of the office. Trimmed to about `STREAM_LENGTH`.
- `state`: a hash of the office as of the stream's last entry (`meta`: seq, day, epoch, office
  row, counters, settings; `t:<id>`: each ticket row of the day), written in the same
  transaction as the stream entries, so a worker that starts reads one consistent picture.
- `inbox`: a list of requests forwarded to the office's writer; each answer goes to the
  `antre:replies:<worker>` list of the worker that forwarded it.

Everything here is plain data (JSON text and lists); what it means is the engine's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

STREAM_LENGTH = 10_000
REPLY_TTL_SECONDS = 60

BrokerError = (RedisError, OSError, asyncio.TimeoutError)
"""What a lost, refused or timed-out connection to Redis raises."""


class BrokerUnavailable(Exception):
    """Redis cannot be reached from this worker just now."""


@dataclass
class StreamEntry:
    seq: int
    text: str  # the event's JSON text
    rows: dict[str, Any] | None  # the batch's state rows, on the batch's last entry


@dataclass
class OfficePicture:
    """The `state` hash: the office at stream seq `seq`."""

    meta: dict[str, Any]
    tickets: list[list[Any]]

    @property
    def seq(self) -> int:
        return int(self.meta.get("seq", 0))

    @property
    def epoch(self) -> str:
        return str(self.meta.get("epoch", ""))


def _key(office: str, name: str) -> str:
    return f"antre:{office}:{name}"


def _seq_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def _entry(entry_id: bytes, fields: dict[bytes, bytes]) -> StreamEntry:
    rows = fields.get(b"rows")
    return StreamEntry(_seq_of(entry_id), fields[b"e"].decode(), orjson.loads(rows) if rows else None)


class _Batcher:
    """Pushes to one list what was handed to it during one turn of the event loop, in one command.

    32 clients' tickets arrive together; a command to Redis costs more in redis-py than the
    request it carries, so the requests (and the writer's answers) of a moment travel together.
    Each `push` returns once its batch is sent, or raises what sending it raised.
    """

    def __init__(self, send: Callable[[list[bytes]], Awaitable[None]]) -> None:
        self._send = send
        self._items: list[bytes] = []
        self._sent: asyncio.Future[None] | None = None

    async def push(self, item: bytes) -> None:
        self._items.append(item)
        if self._sent is None:
            self._sent = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush)
        await asyncio.shield(self._sent)

    def _flush(self) -> None:
        items, sent = self._items, self._sent
        self._items, self._sent = [], None
        assert sent is not None
        task = asyncio.ensure_future(self._send(items))
        task.add_done_callback(lambda done: _settle(sent, done))


def _settle(sent: asyncio.Future[None], done: asyncio.Future[None]) -> None:
    if sent.done():
        return
    if done.cancelled():
        sent.set_exception(ConnectionError("the broker batch was cancelled"))
    elif done.exception() is not None:
        sent.set_exception(done.exception())  # type: ignore[arg-type]
    else:
        sent.set_result(None)


class Broker:
    """One worker's connections to Redis: commands on a pool, blocking reads on their own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.redis = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.reachable = False
        self._batchers: dict[tuple[str, str], _Batcher] = {}

    async def close(self) -> None:
        await self.redis.aclose()

    def blocking(self) -> aioredis.Redis:
        """A client of its own for a loop that blocks (XREAD, BLPOP): it must not hold the pool."""
        return aioredis.Redis.from_url(self.url, socket_timeout=None, socket_connect_timeout=2)

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(2):  # not wait_for: it can swallow a cancel on 3.11
                await self.redis.ping()
        except BrokerError:
            self.reachable = False
        else:
            self.reachable = True
        return self.reachable

    # ----- the office's stream and picture (written by its writer only) ----------------

    async def append(
        self,
        office: str,
        events: Sequence[tuple[int, str]],
        rows: dict[str, Any] | None,
        tickets: Sequence[tuple[int, list[Any]]],
        meta: dict[str, Any],
    ) -> None:
        """One committed batch: its events, its rows on the last one, the picture brought up to date."""
        pipe = self.redis.pipeline(transaction=True)
        stream, state = _key(office, "events"), _key(office, "state")
        last = len(events) - 1
        for index, (seq, text) in enumerate(events):
            fields: dict[str, bytes | str] = {"e": text}
            if index == last and rows is not None:
                fields["rows"] = orjson.dumps(rows)
            pipe.xadd(stream, fields, id=f"{seq}-0", maxlen=STREAM_LENGTH, approximate=True)  # type: ignore[arg-type]
        mapping: dict[str, bytes] = {f"t:{ticket_id}": orjson.dumps(row) for ticket_id, row in tickets}
        mapping["meta"] = orjson.dumps(meta)
        pipe.hset(state, mapping=mapping)  # type: ignore[arg-type]
        await pipe.execute()

    async def replace(
        self,
        office: str,
        events: Sequence[tuple[int, str]],
        tickets: Sequence[tuple[int, list[Any]]],
        meta: dict[str, Any],
        drop_stream: bool,
    ) -> None:
        """A writer's full picture (at start, and after the broker was lost): the picture anew,
        the events the stream lacks appended (or, with `drop_stream`, the stream begun again)."""
        pipe = self.redis.pipeline(transaction=True)
        stream, state = _key(office, "events"), _key(office, "state")
        pipe.delete(state)
        if drop_stream:
            pipe.delete(stream)
        # The last entry tells replicas to read the picture again (their rows may lack a batch).
        marker = orjson.dumps({"full": True, "epoch": meta.get("epoch", "")})
        last = len(events) - 1
        for index, (seq, text) in enumerate(events):
            fields: dict[str, bytes | str] = {"e": text}
            if index == last:
                fields["rows"] = marker
            pipe.xadd(stream, fields, id=f"{seq}-0", maxlen=STREAM_LENGTH, approximate=True)  # type: ignore[arg-type]
        mapping: dict[str, bytes] = {f"t:{ticket_id}": orjson.dumps(row) for ticket_id, row in tickets}
        mapping["meta"] = orjson.dumps(meta)
        pipe.hset(state, mapping=mapping)  # type: ignore[arg-type]
        await pipe.execute()

    async def last_seq(self, office: str) -> int:
        entries = await self.redis.xrevrange(_key(office, "events"), count=1)
        return _seq_of(entries[0][0]) if entries else 0

    async def picture(self, office: str) -> OfficePicture | None:
        raw: dict[bytes, bytes] = await self.redis.hgetall(_key(office, "state"))  # type: ignore[misc]
        meta = raw.pop(b"meta", None)
        if meta is None:
            return None
        tickets = [orjson.loads(row) for row in raw.values()]
        return OfficePicture(orjson.loads(meta), tickets)

    async def meta(self, office: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(_key(office, "state"), "meta")  # type: ignore[misc]
        return orjson.loads(raw) if raw else None

    async def entries_after(self, office: str, seq: int, count: int = 10_000) -> list[StreamEntry]:
        """The stream's entries after `seq`, oldest first (the stream may have been trimmed)."""
        raw = await self.redis.xrange(_key(office, "events"), min=f"({seq}-0", count=count)
        return [_entry(entry_id, fields) for entry_id, fields in raw]

    async def latest_entries(self, office: str, count: int, before: int | None = None) -> list[StreamEntry]:
        """The stream's last `count` entries (before seq `before`, when given), oldest first."""
        top = f"({before}-0" if before is not None else "+"
        raw = await self.redis.xrevrange(_key(office, "events"), max=top, count=count)
        return [_entry(entry_id, fields) for entry_id, fields in reversed(raw)]

    @staticmethod
    async def read_after(
        client: aioredis.Redis, office: str, seq: int, block_ms: int, count: int = 2_000
    ) -> list[StreamEntry]:
        """Wait up to `block_ms` for entries after `seq` (on a blocking client)."""
        answer = await client.xread({_key(office, "events"): f"{seq}-0"}, count=count, block=block_ms)
        if not answer:
            return []
        return [_entry(entry_id, fields) for entry_id, fields in answer[0][1]]

    # ----- forwarded requests ------------------------------------------------------------

    async def forward(self, office: str, request: bytes) -> None:
        """Queue a request for the office's writer (with the others of this turn of the loop)."""
        batcher = self._batchers.get(("inbox", office))
        if batcher is None:
            batcher = self._batchers[("inbox", office)] = _Batcher(
                lambda items: self._push(_key(office, "inbox"), items, None)
            )
        await batcher.push(request)

    @staticmethod
    async def next_requests(client: aioredis.Redis, office: str, timeout: float) -> list[bytes]:
        """The oldest forwarded requests of an office (waits up to `timeout` seconds for one)."""
        key = _key(office, "inbox")
        first = await client.brpop([key], timeout=timeout)  # type: ignore[misc]
        if first is None:
            return []
        more = await client.rpop(key, 63)  # type: ignore[misc]
        return [first[1], *(more or [])]

    async def reply(self, worker: str, answer: bytes) -> None:
        """Send an answer to the worker that forwarded its request (batched like `forward`)."""
        batcher = self._batchers.get(("replies", worker))
        if batcher is None:
            key = f"antre:replies:{worker}"
            batcher = self._batchers[("replies", worker)] = _Batcher(
                lambda items: self._push(key, items, REPLY_TTL_SECONDS)
            )
        await batcher.push(answer)

    async def _push(self, key: str, items: list[bytes], ttl: int | None) -> None:
        # A pipeline is not retried by redis-py on a lost connection: after the broker was
        # restarted, the pool's first (dead) connection would drop what was already applied.
        # Once more on a fresh connection (a second copy of a request or answer is ignored).
        for attempt in range(2):
            pipe = self.redis.pipeline(transaction=False)
            pipe.lpush(key, *items)
            if ttl is not None:
                pipe.expire(key, ttl)
            try:
                await pipe.execute()
                return
            except BrokerError:
                if attempt:
                    raise

    @staticmethod
    async def next_replies(client: aioredis.Redis, worker: str, timeout: float) -> list[bytes]:
        key = f"antre:replies:{worker}"
        first = await client.brpop([key], timeout=timeout)  # type: ignore[misc]
        if first is None:
            return []
        more = await client.rpop(key, 255)  # type: ignore[misc]
        return [first[1], *(more or [])]
