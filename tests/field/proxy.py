"""A fault-injecting TCP proxy on 127.0.0.1, for the field simulation.

It stands where the office Wi-Fi and the officers' phone hotspots stand: every
client of the simulation talks to the server through one of these. Bytes go
through unchanged and in order, but the proxy

- delays chunks (ordinary jitter, and now and then a spike of most of a second),
- drops connections (accepts them, then closes before forwarding anything),
- cuts connections at a chunk: a request lost or cut short on its way to the
  server, or an answer lost or cut short after the server did the work (the case
  idempotency keys exist for); long-lived sockets are also cut after a random time,
- stalls connections (forwards nothing for a while, then goes on or cuts; a
  request held in a stall may reach the server after the client gave up on it),
- blacks out: cuts everything and refuses new connections for a moment.

Faults are drawn per chunk forwarded (so a busy keep-alive connection meets as
many faults as many short ones would) and per connection for drops and timed
cuts. Every decision comes from one `random.Random` seeded by the caller, so a
seed gives the same fault mix (the exact interleaving still depends on timing).
Only loopback is used: the proxy listens on 127.0.0.1 and forwards to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
CHUNK = 65536
CONNECT_TIMEOUT = 2.0


@dataclass(frozen=True)
class FaultPlan:
    """How unreliable one link is."""

    delay_p: float = 0.0  # per chunk: a small delay
    delay_s: tuple[float, float] = (0.001, 0.02)
    spike_p: float = 0.0  # per chunk: a long delay (a Wi-Fi hiccup)
    spike_s: tuple[float, float] = (0.15, 0.8)
    cut_up_p: float = 0.0  # per chunk to the server: lost (or cut short), and the link cut
    cut_down_p: float = 0.0  # per chunk to the client: lost (or cut short), and the link cut
    stall_p: float = 0.0  # per chunk: held for a while, then the link goes on or is cut
    stall_s: tuple[float, float] = (0.5, 3.0)
    stall_then_cut_p: float = 0.4
    drop_p: float = 0.0  # per connection: closed right after accept, nothing forwarded
    cut_time_p: float = 0.0  # per connection: cut after an exponential time (long-lived sockets)
    cut_time_mean_s: float = 6.0


CALM = FaultPlan()
"""No faults at all: used while the simulation settles before its final checks."""


@dataclass
class ProxyStats:
    """What the proxy did; every fault injected is counted here."""

    connections: int = 0
    chunks: int = 0
    dropped: int = 0
    cut_up: int = 0
    cut_down: int = 0
    cut_time: int = 0
    stalls: int = 0
    stalls_cut: int = 0
    delayed_chunks: int = 0
    spikes: int = 0
    blackouts: int = 0
    blackout_cuts: int = 0
    refused_in_blackout: int = 0
    upstream_unreachable: int = 0  # the server was down (restarting): the client sees a reset

    def faults(self) -> int:
        """Faults injected on purpose (not counting the server being down)."""
        return (
            self.dropped
            + self.cut_up
            + self.cut_down
            + self.cut_time
            + self.stalls
            + self.delayed_chunks
            + self.spikes
            + self.blackouts
        )


@dataclass(eq=False)  # identity: links live in a set
class _Link:
    """One proxied connection: both sockets and whether bytes may flow now."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def abort(self) -> None:
        """Drop both sides at once, as a dead link does (no orderly close)."""
        self.closed = True
        self.flowing.set()  # wake a stalled pump so it notices and ends
        for writer in (self.client, self.upstream):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.transport.abort()


class FaultProxy:
    """Listens on 127.0.0.1:<port> and forwards to 127.0.0.1:`upstream_port` with faults."""

    def __init__(self, name: str, upstream_port: int, plan: FaultPlan, seed: int) -> None:
        self.name = name
        self.upstream_port = upstream_port
        self.plan = plan
        self.rng = random.Random(seed)
        self.stats = ProxyStats()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._blackout_until = 0.0

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, LOOPBACK, 0, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for link in list(self._links):
            link.abort()
        # Aborted links end their handlers by themselves (pending connects time out in 2 s);
        # cancelling a handler of asyncio.start_server makes Python 3.11 log a spurious traceback.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=CONNECT_TIMEOUT + 1.0)
        for task in list(self._tasks):
            task.cancel()

    def calm(self) -> None:
        """From now on inject nothing; a link stalled right now is dead (cut), the rest flow on.

        Cutting rather than releasing stalled links means no request held in a stall
        reaches the server after the day, so the final state can be taken while quiet.
        """
        self.plan = CALM
        self._blackout_until = 0.0
        for link in list(self._links):
            if not link.flowing.is_set():
                link.abort()

    async def blackout(self, seconds: float) -> None:
        """The Wi-Fi drops: cut every connection and refuse new ones for `seconds`."""
        loop = asyncio.get_running_loop()
        self.stats.blackouts += 1
        self._blackout_until = loop.time() + seconds
        for link in list(self._links):
            self.stats.blackout_cuts += 1
            link.abort()
        await asyncio.sleep(seconds)

    # ----- one connection ----------------------------------------------------------

    def _chance(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        self.stats.connections += 1
        link = _Link(writer)
        link.flowing.set()
        if loop.time() < self._blackout_until:
            self.stats.refused_in_blackout += 1
            link.abort()
            return
        if self._chance(self.plan.drop_p):
            self.stats.dropped += 1
            link.abort()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(LOOPBACK, self.upstream_port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError):
            self.stats.upstream_unreachable += 1
            link.abort()
            return
        link.upstream = up_writer
        self._links.add(link)
        timer: asyncio.Task[None] | None = None
        if self._chance(self.plan.cut_time_p):
            timer = asyncio.create_task(
                self._cut_later(link, self.rng.expovariate(1 / self.plan.cut_time_mean_s))
            )
        try:
            await asyncio.gather(
                self._pump(link, reader, up_writer, upward=True),
                self._pump(link, up_reader, writer, upward=False),
            )
        finally:
            if timer is not None:
                timer.cancel()
            self._links.discard(link)
            if link.closed:
                link.abort()
            else:
                self._close(link)

    async def _pump(
        self, link: _Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upward: bool
    ) -> None:
        """Copy one direction until EOF or a cut; a cut ends both directions."""
        try:
            while not link.closed:
                data = await reader.read(CHUNK)
                if not data:
                    with contextlib.suppress(OSError, RuntimeError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                self.stats.chunks += 1
                await self._weather(link)
                if link.closed:
                    return
                if self._chance(self.plan.cut_up_p if upward else self.plan.cut_down_p):
                    # Half the cuts deliver a prefix first: a truncated request or answer.
                    if self.rng.random() < 0.5 and len(data) > 1:
                        writer.write(data[: self.rng.randint(1, len(data) - 1)])
                        with contextlib.suppress(OSError, RuntimeError):
                            await writer.drain()
                    if upward:
                        self.stats.cut_up += 1
                    else:
                        self.stats.cut_down += 1
                    link.abort()
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            link.abort()

    async def _weather(self, link: _Link) -> None:
        """What happens to one chunk on the way: a stall, a spike, a small delay, or nothing."""
        plan = self.plan
        await link.flowing.wait()  # the other direction may have stalled the link
        if self._chance(plan.stall_p):
            self.stats.stalls += 1
            link.flowing.clear()
            await asyncio.sleep(self.rng.uniform(*plan.stall_s))
            if link.closed:
                return
            if self._chance(plan.stall_then_cut_p):
                self.stats.stalls_cut += 1
                link.abort()
                return
            link.flowing.set()
        elif self._chance(plan.spike_p):
            self.stats.spikes += 1
            await asyncio.sleep(self.rng.uniform(*plan.spike_s))
        elif self._chance(plan.delay_p):
            self.stats.delayed_chunks += 1
            await asyncio.sleep(self.rng.uniform(*plan.delay_s))

    async def _cut_later(self, link: _Link, after: float) -> None:
        await asyncio.sleep(after)
        if not link.closed and self.plan is not CALM:
            self.stats.cut_time += 1
            link.abort()

    @staticmethod
    def _close(link: _Link) -> None:
        """Orderly close of both sides after both directions reached EOF."""
        link.closed = True
        for writer in (link.client, link.upstream):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
