"""Soak: ten times a busy office's traffic for ten minutes; memory, fds, threads and latency over time.

A benchmark, not a test (pytest never collects this folder). It starts a fresh server, drives a
whole office against it from one client process, samples the server every ``--interval`` (10 s)
and prints a table over time, a per-request summary and verdicts:

* memory: server RSS (VmRSS) at the end of the load grows < 10 % over its value at the end of the
  warm-up (``--warmup``, default 120 s, or a fifth of a shorter run);
* file descriptors: once every client has disconnected, the server's open fds are back to the
  baseline taken before the load (within ``FD_TOLERANCE``);
* errors: no 5xx, no unexpected 4xx, no network error or timeout, no WebSocket closed by the
  server, no gap in any screen's ``seq``, idempotent repeats answered with the same ticket.

"A busy office" (``--rate-multiplier 1``), the figures of one busy kecamatan office's day:

* 3,000 visitors in an 8-hour day (0.104 tickets/s, Poisson arrivals) over 4 services
  (ktp 40 %, kk 30 %, akta 20 %, pindah 10 %), party size 1 (80 %), 2 (15 %) or 3 (5 %),
  issued by 2 kiosks with an ``Idempotency-Key`` (3 % of issues are repeated with the same key,
  as a kiosk does when an answer is lost); 100 visitors already queue at opening (issued at the
  start); 2 % of visitors cancel from their phone 20-240 s after issue;
* 8 counters, each officer: call-next, the visitor walks up in 3-17 s, serve, service takes
  a log-normal ~60 s (10-240 s), finish, 1-5 s pause; 3 % no-shows (recall after 15 s, no-show
  15 s later), 2 % transferred to another service instead of finished; a counter whose call-next
  finds nobody (204) looks again after 3-7 s. That serves ~0.11 visitors/s, just above arrivals;
* capacity 150 people inside; 1 door keeper counting 600 groups of 1-2 people without a ticket
  per day in (0.021/s), each counted out 60-600 s later;
* 40 phones following tickets on ``/ws/tickets/{token}``: a new ticket gets one with probability
  0.6 while fewer than 40 are open; the phone loads ``GET /api/v1/tickets/{token}``, opens the
  socket, closes it when the ticket is done / no-show / cancelled; 10 % of phones lose their
  network once (socket aborted, no close handshake) and reconnect 2-8 s later;
* 4 displays on ``/ws/display``, each reconnecting every 30-90 s with ``?since=<last seq>``
  (1 in 10 without ``since``, a rebooted TV; 1 in 5 leaves by aborting the TCP connection
  instead of a close handshake): connection churn, for fd-leak detection;
* 2 screens on the polling fallback, ``GET /api/v1/events?since=N`` every 2 s.

``--rate-multiplier M`` (default 10) runs M such offices' worth on one server: every count above
(visitors per day, opening queue, counters, kiosks, door keepers, phones, displays, pollers,
capacity) is multiplied by M, human times are kept. At M = 10: 1.04 tickets/s plus an opening
queue of 1,000, 80 counters (~3.3 counter requests/s), 20 kiosks, 10 door keepers (0.21
groups/s in and out), up to 400 phones, 40 displays (~0.7 reconnects/s), 20 pollers (10
requests/s); capacity 1,500.

After the load (``--duration``, default 600 s) comes a churn-only phase (``--churn-phase``,
default 60 s, or a quarter of a shorter run): nobody issues, calls or counts, so no event and no
new state appears, while displays reconnect every 2-5 s, phones open and close on existing tickets
and pollers poll. RSS growth there is growth per connection, not per ticket: it separates a
connection leak from the day's state (tickets, idempotency records, up to 10,000 kept events),
which grows with the tickets issued by design. The report gives RSS against tickets issued.
A closed connection is freed at once (``tests/interface/test_connection_cleanup.py``); only
asyncio's transport object waits for the server's full garbage collection every
``queue_server.app.FULL_COLLECTION_SECONDS``. The diagnostic judges the last third of the churn
phase: RSS per connection there should be about zero.

Run:  .venv/bin/python tests/bench/bench_soak.py                 # 10 min + 1 min churn
      .venv/bin/python tests/bench/bench_soak.py --duration 60   # smoke run, ~1.5 min
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import json
import math
import os
import random
import resource
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import benchlib

if str(benchlib.REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(benchlib.REPO_ROOT))

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.field.net import Answer, Client, Tally

MEMORY_GROWTH_LIMIT = 0.10
FD_TOLERANCE = 5  # fds the server may hold above its baseline after every client left
SERVER_EVENT_HISTORY = 10_000  # events the server keeps for ?since= (queue_server.bus.hub.Channel history)
CHURN_KB_PER_CONNECTION = 1.0  # diagnostic: RSS per connection in the churn phase's last third
FINAL = frozenset({"done", "no_show", "cancelled"})
MAX_STEPS = 1_000_000  # every actor loop is bounded by this as well as by its deadline
WS_ERRORS = (ConnectionClosed, InvalidHandshake, OSError, TimeoutError, EOFError)

SERVICES: tuple[tuple[str, str, str, float], ...] = (
    ("ktp", "KTP-el", "A", 0.40),
    ("kk", "Kartu Keluarga", "B", 0.30),
    ("akta", "Akta Kelahiran", "C", 0.20),
    ("pindah", "Surat Pindah", "D", 0.10),
)
SERVICE_IDS = tuple(s[0] for s in SERVICES)
SERVICE_WEIGHTS = tuple(s[3] for s in SERVICES)

HTTP_KINDS = (
    "issue",
    "issue-repeat",
    "ticket-get",
    "cancel",
    "call-next",
    "serve",
    "finish",
    "recall",
    "no-show",
    "transfer",
    "door-in",
    "door-out",
    "poll",
)
COUNTER_KINDS = frozenset({"call-next", "serve", "finish", "recall", "no-show", "transfer"})
WS_KINDS = ("ws-display", "ws-phone")
FANOUT = "fan-out"
ALL_KINDS = (*HTTP_KINDS, *WS_KINDS, FANOUT)
# (kind, status) answers that are part of the office's normal life, not errors.
EXPECTED_4XX = frozenset({("cancel", 409), ("door-in", 409)})


# --------------------------------------------------------------------------- the office


@dataclass(frozen=True)
class BusyOffice:
    """One busy office (see the module docstring); every count is multiplied by the multiplier."""

    visitors_per_day: int = 3000
    day_hours: float = 8.0
    opening_queue: int = 100
    counters: int = 8
    kiosks: int = 2
    door_keepers: int = 1
    door_groups_per_day: int = 600
    phones: int = 40
    displays: int = 4
    pollers: int = 2
    capacity: int = 150


@dataclass(frozen=True)
class Plan:
    multiplier: float
    arrivals_per_s: float
    opening_queue: int
    counters: int
    kiosks: int
    door_keepers: int
    door_groups_per_s: float  # per keeper
    phones: int
    displays: int
    pollers: int
    capacity: int
    phone_churners: int

    @classmethod
    def scaled(cls, m: float, office: BusyOffice = BusyOffice()) -> Plan:
        def n(x: int) -> int:
            return max(1, round(x * m))

        day_s = office.day_hours * 3600
        return cls(
            multiplier=m,
            arrivals_per_s=office.visitors_per_day * m / day_s,
            opening_queue=n(office.opening_queue),
            counters=n(office.counters),
            kiosks=n(office.kiosks),
            door_keepers=n(office.door_keepers),
            door_groups_per_s=office.door_groups_per_day / day_s,
            phones=n(office.phones),
            displays=n(office.displays),
            pollers=n(office.pollers),
            capacity=n(office.capacity),
            phone_churners=n(2),
        )

    def describe(self) -> str:
        return (
            f"{self.multiplier:g} x a busy office: {self.arrivals_per_s:.2f} tickets/s "
            f"(+{self.opening_queue} queued at opening), {self.counters} counters, {self.kiosks} kiosks, "
            f"{self.door_keepers} door keepers ({self.door_groups_per_s * self.door_keepers:.2f} groups/s), "
            f"<= {self.phones} phones, {self.displays} displays, {self.pollers} pollers, "
            f"capacity {self.capacity}"
        )


def _quietest_zone(run_seconds: float) -> str:
    """The Indonesian time zone whose local midnight is furthest from the run (a day roll-over
    would close every ticket of the day and is not what a soak measures)."""
    best, best_gap = "Asia/Makassar", -1.0
    for name in ("Asia/Makassar", "Asia/Jakarta", "Asia/Jayapura"):
        now = datetime.now(ZoneInfo(name))
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        gap = (midnight - now).total_seconds() - run_seconds
        if gap > best_gap:
            best, best_gap = name, gap
    return best


def soak_office_toml(plan: Plan, zone: str) -> str:
    lines = [
        "[office]",
        'name = "Kantor Kecamatan Soak"',
        f'timezone = "{zone}"',
        'language = "id"',
        f"capacity = {plan.capacity}",
        "",
    ]
    for sid, name, prefix, _ in SERVICES:
        lines += ["[[services]]", f'id = "{sid}"', f'name = "{name}"', f'prefix = "{prefix}"', ""]
    for c in range(1, plan.counters + 1):
        k = (c - 1) % len(SERVICE_IDS)
        order = SERVICE_IDS[k:] + SERVICE_IDS[:k]  # each counter has its own first service
        services = ", ".join(f'"{s}"' for s in order)
        lines += ["[[counters]]", f'id = "{c}"', f'name = "Loket {c}"', f"services = [{services}]", ""]
    lines += ["[limits]", "tickets_per_minute_per_address = 0", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- bookkeeping


@dataclass
class Problems:
    """Everything that counts against the run, with a few examples each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    expected: Counter[str] = field(default_factory=Counter)  # refusals that are normal office life

    def add(self, what: str, detail: str = "") -> None:
        self.counts[what] += 1
        shown = self.examples.setdefault(what, [])
        if detail and len(shown) < 5:
            shown.append(detail[:300])

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Recorder:
    """Latencies per kind: the current sampling window, and the measured part of the load."""

    window: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ALL_KINDS})
    total: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in ALL_KINDS})
    measuring: bool = False

    def add(self, kind: str, seconds: float) -> None:
        self.window[kind].append(seconds)
        if self.measuring:
            self.total[kind].append(seconds)

    def take_window(self) -> dict[str, list[float]]:
        taken = self.window
        self.window = {k: [] for k in ALL_KINDS}
        return taken


@dataclass
class Sample:
    t: float
    phase: str
    rss_kb: int
    fds: int
    threads: int
    ws_open: int
    server_cpu_pct: float
    client_cpu_pct: float
    tickets: int
    seq: int
    rates: dict[str, float]
    lat_ms: dict[str, tuple[float, float]]  # kind -> (p50, p99) of the window
    problems: int
    churn_connections: int = 0  # WebSocket connections opened in the churn-only phase so far


def _proc_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def _ms(values: Sequence[float], pct: float) -> float:
    return benchlib.percentile(sorted(values), pct) * 1000 if values else float("nan")


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


def _abort(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        ws.transport.abort()


# --------------------------------------------------------------------------- the soak


class Soak:
    def __init__(self, args: argparse.Namespace, server: Any, plan: Plan) -> None:
        self.args = args
        self.plan = plan
        self.server = server
        self.pid: int = server.pid
        self.port = int(server.base_url.rsplit(":", 1)[1])
        self.ws_base: str = server.ws_url
        self.rng = random.Random(args.seed)
        self.tally = Tally()  # net.Client wants one; our own figures are kept below
        self.rec = Recorder()
        self.problems = Problems()
        self.officer_token = ""
        self.door_token = ""
        # timeline (time.monotonic()), set in run()
        self.t0 = 0.0
        self.t_measure = 0.0
        self.t_load_end = 0.0
        self.t_churn_end = 0.0
        # live figures
        self.tickets_issued = 0
        self.tokens: list[str] = []
        self.phones_active = 0  # phone tasks (a phone between two connections counts)
        self.phones_open = 0  # phone sockets open now
        self.displays_open = 0
        self.ws_transient = 0  # churn phones
        self.ws_connects = 0
        self.seq_seen = 0
        self.call_sent: dict[str, float] = {}  # counter id -> monotonic time of its last call-next
        self.arrivals: asyncio.Queue[str] = asyncio.Queue()
        self.tasks: set[asyncio.Task[None]] = set()
        self.clients: list[Client] = []
        self.samples: list[Sample] = []
        self.counts_window: Counter[str] = Counter()
        self.ws_connects_load = 0
        self.churn_connections = 0
        self.baseline: dict[str, float] = {}
        self.after: dict[str, float] = {}

    # ----- helpers -------------------------------------------------------------

    @property
    def ws_open(self) -> int:
        return self.phones_open + self.displays_open + self.ws_transient

    def client(self, token: str | None = None) -> Client:
        c = Client(self.port, self.tally, random.Random(self.rng.random()), token=token)
        self.clients.append(c)
        return c

    def spawn(self, coro: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.problems.add("client task crashed", f"{task.get_name()}: {task.exception()!r}")

    async def http(
        self,
        client: Client,
        kind: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Answer:
        t = time.monotonic()
        answer = await client.call(method, path, body, key=key, retry=False)
        self.counts_window[kind] += 1
        status = answer.status
        if status is None:
            self.problems.add(f"no answer: network error or timeout ({kind})", f"{method} {path}")
            return answer
        self.rec.add(kind, time.monotonic() - t)
        if status >= 500:
            self.problems.add(f"{status} ({kind})", f"{method} {path} -> {str(answer.body)[:200]}")
        elif status >= 400:
            if (kind, status) in EXPECTED_4XX:
                self.problems.expected[f"{kind} {status} {answer.error_code}"] += 1
            else:
                self.problems.add(f"unexpected {status} ({kind})", f"{method} {path} -> {answer.body}")
        return answer

    def nap(self, seconds: float, until: float) -> Awaitable[None]:
        return _sleep_until(min(time.monotonic() + seconds, until))

    # ----- kiosks and visitors --------------------------------------------------

    async def arrivals_gen(self) -> None:
        for _ in range(self.plan.opening_queue):
            self.arrivals.put_nowait(self._pick_service())
        t = time.monotonic()
        for _ in range(MAX_STEPS):
            t += self.rng.expovariate(self.plan.arrivals_per_s)
            if t >= self.t_load_end:
                break
            await _sleep_until(t)
            self.arrivals.put_nowait(self._pick_service())

    def _pick_service(self) -> str:
        return self.rng.choices(SERVICE_IDS, SERVICE_WEIGHTS)[0]

    async def kiosk(self, k: int) -> None:
        client = self.client()
        for _ in range(MAX_STEPS):
            left = self.t_load_end - time.monotonic()
            if left <= 0:
                break
            try:
                service = await asyncio.wait_for(self.arrivals.get(), left)
            except TimeoutError:
                break
            party = self.rng.choices((1, 2, 3), (0.80, 0.15, 0.05))[0]
            body = {"service": service, "party_size": party}
            key = uuid.uuid4().hex
            answer = await self.http(client, "issue", "POST", "/tickets", body, key=key)
            if answer.status != 201 or not isinstance(answer.body, dict):
                continue
            ticket = answer.body
            self.tickets_issued += 1
            token = str(ticket["token"])
            self.tokens.append(token)
            if self.rng.random() < 0.03:
                again = await self.http(client, "issue-repeat", "POST", "/tickets", body, key=key)
                same = isinstance(again.body, dict) and again.body.get("id") == ticket["id"]
                if again.status in (200, 201) and not (same and again.body.get("token") == token):
                    self.problems.add("idempotent repeat gave another ticket", f"{ticket} / {again.body}")
            if self.phones_active < self.plan.phones and self.rng.random() < 0.6:
                self.phones_active += 1
                self.spawn(self.phone(token), f"phone-{ticket['number']}")
            if self.rng.random() < 0.02:
                self.spawn(self.visitor_cancels(token), f"cancel-{ticket['number']}")

    async def visitor_cancels(self, token: str) -> None:
        await self.nap(self.rng.uniform(20, 240), self.t_load_end)
        if time.monotonic() >= self.t_load_end:
            return
        client = self.client()
        try:
            await self.http(client, "cancel", "DELETE", f"/tickets/{token}")
        finally:
            await client.aclose()

    # ----- phones -----------------------------------------------------------------

    async def phone(self, token: str) -> None:
        """A visitor's phone: counted in `phones_active` from its spawn to its end."""
        try:
            visitor = self.client()
            try:
                answer = await self.http(visitor, "ticket-get", "GET", f"/tickets/{token}")
            finally:
                await visitor.aclose()
            if isinstance(answer.body, dict) and answer.body.get("status") in FINAL:
                return
            drop_at = time.monotonic() + self.rng.uniform(5, 120) if self.rng.random() < 0.10 else math.inf
            for _ in range(20):  # connections of one phone (at most one planned drop)
                outcome = await self._phone_connection(token, drop_at)
                if outcome != "dropped":
                    return
                drop_at = math.inf
                await self.nap(self.rng.uniform(2, 8), self.t_churn_end)
                if time.monotonic() >= self.t_churn_end:
                    return
        finally:
            self.phones_active -= 1

    async def _phone_connection(self, token: str, drop_at: float) -> str:
        """One socket of a phone: 'final' (ticket over), 'dropped' (network lost), 'end' or 'error'."""
        t = time.monotonic()
        try:
            ws = await connect(
                f"{self.ws_base}/ws/tickets/{token}",
                proxy=None,
                compression=None,
                ping_interval=None,
                open_timeout=10,
                close_timeout=3,
                max_size=None,
            )
        except WS_ERRORS as exc:
            self.problems.add("ws connect failed (phone)", repr(exc))
            return "error"
        self.ws_connects += 1
        self.phones_open += 1
        outcome = "end"
        try:
            first = True
            for _ in range(MAX_STEPS):
                until = min(drop_at, self.t_churn_end)
                left = until - time.monotonic()
                if left <= 0:
                    outcome = "dropped" if drop_at <= self.t_churn_end else "end"
                    break
                try:
                    raw = await asyncio.wait_for(ws.recv(), left)
                except TimeoutError:
                    continue
                frame = json.loads(raw)
                if first:
                    first = False
                    self.rec.add("ws-phone", time.monotonic() - t)
                    if frame.get("type") != "snapshot":
                        self.problems.add("phone: first frame not a snapshot", str(raw)[:200])
                status = (frame.get("ticket") or {}).get("status")
                if status in FINAL:
                    outcome = "final"
                    break
        except ConnectionClosed as exc:
            self.problems.add(f"ws closed by server (phone, code {exc.rcvd.code if exc.rcvd else 1006})")
            outcome = "error"
        except asyncio.CancelledError:
            _abort(ws)
            raise
        finally:
            self.phones_open -= 1
            if outcome == "dropped":
                _abort(ws)
            else:
                with contextlib.suppress(*WS_ERRORS):
                    await ws.close()
        return outcome

    async def phone_churner(self, i: int) -> None:
        """Churn phase: open a phone on a known ticket, take its snapshot, leave after 1-3 s."""
        await _sleep_until(self.t_load_end + self.rng.uniform(0, 2))
        for _ in range(MAX_STEPS):
            if time.monotonic() >= self.t_churn_end - 3 or not self.tokens:
                break
            token = self.rng.choice(self.tokens)
            t = time.monotonic()
            try:
                ws = await connect(
                    f"{self.ws_base}/ws/tickets/{token}",
                    proxy=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=10,
                    close_timeout=3,
                )
            except WS_ERRORS as exc:
                self.problems.add("ws connect failed (churn phone)", repr(exc))
                await asyncio.sleep(1)
                continue
            self.ws_connects += 1
            self.churn_connections += 1
            self.ws_transient += 1
            abrupt = self.rng.random() < 0.2
            try:
                raw = await asyncio.wait_for(ws.recv(), 10)
                self.rec.add("ws-phone", time.monotonic() - t)
                if json.loads(raw).get("type") != "snapshot":
                    self.problems.add("phone: first frame not a snapshot", str(raw)[:200])
                await self.nap(self.rng.uniform(1, 3), self.t_churn_end)
            except ConnectionClosed as exc:
                self.problems.add(f"ws closed by server (phone, code {exc.rcvd.code if exc.rcvd else 1006})")
            except TimeoutError:
                self.problems.add("phone: no snapshot within 10 s")
            except asyncio.CancelledError:
                abrupt = True
                raise
            finally:
                self.ws_transient -= 1
                if abrupt:
                    _abort(ws)
                else:
                    with contextlib.suppress(*WS_ERRORS):
                        await ws.close()

    # ----- displays and pollers -------------------------------------------------

    async def display(self, i: int) -> None:
        last_seq: int | None = None
        await asyncio.sleep(self.rng.uniform(0, 2))
        for _ in range(MAX_STEPS):
            now = time.monotonic()
            if now >= self.t_churn_end:
                break
            fresh = last_seq is None or self.rng.random() < 0.1
            url = f"{self.ws_base}/ws/display" + ("" if fresh else f"?since={last_seq}")
            try:
                ws = await connect(
                    url,
                    proxy=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=10,
                    close_timeout=3,
                    max_size=None,
                )
            except WS_ERRORS as exc:
                self.problems.add("ws connect failed (display)", repr(exc))
                await asyncio.sleep(1)
                continue
            connected = time.monotonic()
            self.rec.add("ws-display", connected - now)
            self.ws_connects += 1
            if connected >= self.t_load_end:
                self.churn_connections += 1
            self.displays_open += 1
            if fresh:
                last_seq = None
            in_churn = connected >= self.t_load_end
            stay = self.rng.uniform(2, 5) if in_churn else self.rng.uniform(30, 90)
            leave_at = min(connected + stay, self.t_churn_end)
            if not in_churn and leave_at > self.t_load_end:
                leave_at = self.t_load_end + self.rng.uniform(0, 3)  # churn starts for everyone
            abrupt = self.rng.random() < 0.2
            try:
                last_seq = await self._display_read(ws, last_seq, connected, leave_at)
            except asyncio.CancelledError:
                abrupt = True
                raise
            finally:
                self.displays_open -= 1
                if abrupt:
                    _abort(ws)
                else:
                    with contextlib.suppress(*WS_ERRORS):
                        await ws.close()
            await self.nap(self.rng.uniform(0.2, 2), self.t_churn_end)

    async def _display_read(
        self, ws: ClientConnection, last_seq: int | None, connected: float, leave_at: float
    ) -> int | None:
        for _ in range(MAX_STEPS):
            left = leave_at - time.monotonic()
            if left <= 0:
                break
            try:
                raw = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else 1006
                self.problems.add(f"ws closed by server (display, code {code})")
                break
            got = time.monotonic()
            frame = json.loads(raw)
            seq = int(frame["seq"])
            if frame.get("type") == "snapshot":
                last_seq = seq
            else:
                if last_seq is not None and seq != last_seq + 1:
                    self.problems.add("display seq gap", f"{last_seq} -> {seq}")
                last_seq = seq
                if frame.get("type") == "ticket.called":
                    sent = self.call_sent.get(str(frame.get("counter")))
                    if sent is not None and connected < sent < got:
                        self.rec.add(FANOUT, got - sent)
            self.seq_seen = max(self.seq_seen, seq)
        return last_seq

    async def poller(self, i: int) -> None:
        client = self.client()
        since: int | None = None
        t = time.monotonic() + self.rng.uniform(0, 2)
        for _ in range(MAX_STEPS):
            await _sleep_until(t)
            if time.monotonic() >= self.t_churn_end:
                break
            path = "/events" if since is None else f"/events?since={since}"
            answer = await self.http(client, "poll", "GET", path)
            more = False
            if answer.status == 200 and isinstance(answer.body, dict):
                body = answer.body
                if "snapshot" in body:
                    since = int(body["seq"])
                else:
                    events = body.get("events") or []
                    for e in events:
                        if since is not None and e["seq"] != since + 1:
                            self.problems.add("poller seq gap", f"{since} -> {e['seq']}")
                        since = int(e["seq"])
                    more = len(events) >= 1000
                self.seq_seen = max(self.seq_seen, since or 0)
            t = time.monotonic() if more else t + 2.0

    # ----- officers and the door ------------------------------------------------

    async def counter(self, cid: str) -> None:
        client = self.client(self.officer_token)
        base = f"/counters/{cid}"
        end = self.t_load_end
        await asyncio.sleep(self.rng.uniform(0, 3))
        for _ in range(MAX_STEPS):
            if time.monotonic() >= end:
                break
            self.call_sent[cid] = time.monotonic()
            answer = await self.http(client, "call-next", "POST", f"{base}/call-next", key=uuid.uuid4().hex)
            if answer.status != 200 or not isinstance(answer.body, dict):
                await self.nap(self.rng.uniform(3, 7), end)
                continue
            tid = int(answer.body["id"])
            service = str(answer.body["service"])
            step = {"ticket": tid}
            await self.nap(self.rng.uniform(3, 17), end)
            if time.monotonic() >= end:
                break
            if self.rng.random() < 0.03:
                await self.nap(15, end)
                await self.http(client, "recall", "POST", f"{base}/recall", step, key=uuid.uuid4().hex)
                await self.nap(15, end)
                if time.monotonic() >= end:
                    break
                await self.http(client, "no-show", "POST", f"{base}/no-show", step, key=uuid.uuid4().hex)
            else:
                await self.http(client, "serve", "POST", f"{base}/serve", step, key=uuid.uuid4().hex)
                service_s = min(240.0, max(10.0, self.rng.lognormvariate(math.log(52), 0.5)))
                await self.nap(service_s, end)
                if time.monotonic() >= end:
                    break
                if self.rng.random() < 0.02:
                    other = self.rng.choice([s for s in SERVICE_IDS if s != service])
                    body = {"service": other, "ticket": tid}
                    await self.http(
                        client, "transfer", "POST", f"{base}/transfer", body, key=uuid.uuid4().hex
                    )
                else:
                    await self.http(client, "finish", "POST", f"{base}/finish", step, key=uuid.uuid4().hex)
            await self.nap(self.rng.uniform(1, 5), end)

    async def door_keeper(self, k: int) -> None:
        client = self.client(self.door_token)
        exits: list[tuple[float, int]] = []  # (when, people) counted in by this keeper, due out
        t_next = time.monotonic() + self.rng.expovariate(self.plan.door_groups_per_s)
        for _ in range(MAX_STEPS):
            if time.monotonic() >= self.t_load_end:
                break
            if exits and exits[0][0] <= t_next:
                when, people = heapq.heappop(exits)
                await _sleep_until(min(when, self.t_load_end))
                if time.monotonic() >= self.t_load_end:
                    break
                await self.http(client, "door-out", "POST", "/occupancy/exit", {"count": people})
                continue
            await _sleep_until(min(t_next, self.t_load_end))
            if time.monotonic() >= self.t_load_end:
                break
            people = self.rng.choice((1, 1, 2))
            answer = await self.http(client, "door-in", "POST", "/occupancy/enter", {"count": people})
            if answer.status == 200:
                heapq.heappush(exits, (time.monotonic() + self.rng.uniform(60, 600), people))
            t_next = time.monotonic() + self.rng.expovariate(self.plan.door_groups_per_s)

    # ----- sampling ----------------------------------------------------------------

    def read_server(self) -> dict[str, float]:
        return {
            "rss_kb": float(benchlib.proc_status_kb(self.pid, "VmRSS") or 0),
            "hwm_kb": float(benchlib.proc_status_kb(self.pid, "VmHWM") or 0),
            "fds": float(_proc_fds(self.pid)),
            "threads": float(benchlib.proc_status_kb(self.pid, "Threads") or 0),
            "cpu_s": benchlib.proc_cpu_seconds(self.pid),
        }

    async def sampler(self) -> None:
        interval = self.args.interval
        prev_t = time.monotonic()
        prev_srv = benchlib.proc_cpu_seconds(self.pid)
        prev_cli = _self_cpu()
        for i in range(1, MAX_STEPS):
            tick = self.t0 + i * interval
            if tick > self.t_churn_end + 0.5:
                break
            await _sleep_until(tick)
            now = time.monotonic()
            srv = self.read_server()
            cli = _self_cpu()
            span = max(1e-6, now - prev_t)
            window = self.rec.take_window()
            counts = self.counts_window
            self.counts_window = Counter()
            connects = self.ws_connects
            self.ws_connects = 0
            phase = "warm-up" if now <= self.t_measure + 0.5 else "load"
            if now > self.t_load_end + 0.5:
                phase = "churn"
            http_all = [x for k in HTTP_KINDS for x in window[k]]
            sample = Sample(
                t=now - self.t0,
                phase=phase,
                rss_kb=int(srv["rss_kb"]),
                fds=int(srv["fds"]),
                threads=int(srv["threads"]),
                ws_open=self.ws_open,
                server_cpu_pct=100 * (srv["cpu_s"] - prev_srv) / span,
                client_cpu_pct=100 * (cli - prev_cli) / span,
                tickets=self.tickets_issued,
                seq=self.seq_seen,
                rates={
                    "issue": counts["issue"] / span,
                    "counter": sum(counts[k] for k in COUNTER_KINDS) / span,
                    "door": (counts["door-in"] + counts["door-out"]) / span,
                    "poll": counts["poll"] / span,
                    "visitor": (counts["ticket-get"] + counts["cancel"] + counts["issue-repeat"]) / span,
                    "ws": connects / span,
                },
                lat_ms={
                    "http": (_ms(http_all, 50), _ms(http_all, 99)),
                    "issue": (_ms(window["issue"], 50), _ms(window["issue"], 99)),
                    "call": (_ms(window["call-next"], 50), _ms(window["call-next"], 99)),
                    "ws": (
                        _ms(window["ws-display"] + window["ws-phone"], 50),
                        _ms(window["ws-display"] + window["ws-phone"], 99),
                    ),
                    "fan": (_ms(window[FANOUT], 50), _ms(window[FANOUT], 99)),
                },
                problems=self.problems.total,
                churn_connections=self.churn_connections,
            )
            self.samples.append(sample)
            print(_row(sample), flush=True)
            prev_t, prev_srv, prev_cli = now, srv["cpu_s"], cli

    async def measure_window(self) -> None:
        await _sleep_until(self.t_measure)
        self.rec.measuring = True
        await _sleep_until(self.t_load_end)
        self.rec.measuring = False

    # ----- the run -----------------------------------------------------------------

    async def run(self) -> None:
        srv = self.server
        self.officer_token = await asyncio.to_thread(srv.inner.officer_token)
        self.door_token = await asyncio.to_thread(srv.inner.door_token)
        await asyncio.sleep(2.0)  # let the login connections close
        self.baseline = self.read_server()
        print(
            f"# baseline (idle, no client): rss {self.baseline['rss_kb'] / 1024:.1f} MB, "
            f"fds {int(self.baseline['fds'])}, threads {int(self.baseline['threads'])}",
            flush=True,
        )
        self.t0 = time.monotonic()
        self.t_measure = self.t0 + self.args.warmup
        self.t_load_end = self.t0 + self.args.duration
        self.t_churn_end = self.t_load_end + self.args.churn_phase
        print(_header(), flush=True)
        sampler = asyncio.ensure_future(self.sampler())
        self.spawn(self.measure_window(), "measure-window")
        self.spawn(self.arrivals_gen(), "arrivals")
        for k in range(self.plan.kiosks):
            self.spawn(self.kiosk(k), f"kiosk-{k}")
        for c in range(1, self.plan.counters + 1):
            self.spawn(self.counter(str(c)), f"counter-{c}")
        for k in range(self.plan.door_keepers):
            self.spawn(self.door_keeper(k), f"door-{k}")
        for i in range(self.plan.displays):
            self.spawn(self.display(i), f"display-{i}")
        for i in range(self.plan.pollers):
            self.spawn(self.poller(i), f"poller-{i}")
        if self.args.churn_phase > 0:
            for i in range(self.plan.phone_churners):
                self.spawn(self.phone_churner(i), f"churner-{i}")
        await _sleep_until(self.t_churn_end)
        await sampler
        # Every actor ends by its own deadline; give them a moment to close, then cut the rest.
        pending = list(self.tasks)
        if pending:
            _, still = await asyncio.wait(pending, timeout=15)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=10)
        for c in self.clients:
            await c.aclose()
        await self.drain()

    async def drain(self) -> None:
        """Wait (up to 30 s) for the server's fds to come back to the baseline, then read it."""
        t_closed = time.monotonic()
        target = self.baseline["fds"] + FD_TOLERANCE
        reading = self.read_server()
        for _ in range(60):
            if reading["fds"] <= target:
                break
            await asyncio.sleep(0.5)
            reading = self.read_server()
        self.after = reading
        self.after["settle_s"] = time.monotonic() - t_closed
        self.after["t"] = time.monotonic() - self.t0


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- report

_COLS = (
    ("t s", 5),
    ("phase", 7),
    ("rss MB", 7),
    ("fds", 5),
    ("thr", 4),
    ("ws", 5),
    ("srv%", 5),
    ("cli%", 5),
    ("tickets", 7),
    ("seq", 6),
    ("iss/s", 6),
    ("ctr/s", 6),
    ("door/s", 6),
    ("poll/s", 6),
    ("vis/s", 6),
    ("wsc/s", 6),
    ("http p50/p99", 13),
    ("issue p99", 9),
    ("call p99", 9),
    ("ws p99", 8),
    ("fan p99", 8),
    ("err", 4),
)


def _header() -> str:
    return " ".join(f"{name:>{w}}" for name, w in _COLS)


def _f(x: float, digits: int = 1) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def _row(s: Sample) -> str:
    values = [
        f"{s.t:.0f}",
        s.phase,
        f"{s.rss_kb / 1024:.1f}",
        str(s.fds),
        str(s.threads),
        str(s.ws_open),
        f"{s.server_cpu_pct:.0f}",
        f"{s.client_cpu_pct:.0f}",
        str(s.tickets),
        str(s.seq),
        f"{s.rates['issue']:.2f}",
        f"{s.rates['counter']:.2f}",
        f"{s.rates['door']:.2f}",
        f"{s.rates['poll']:.2f}",
        f"{s.rates['visitor']:.2f}",
        f"{s.rates['ws']:.2f}",
        f"{_f(s.lat_ms['http'][0])}/{_f(s.lat_ms['http'][1])}",
        _f(s.lat_ms["issue"][1]),
        _f(s.lat_ms["call"][1]),
        _f(s.lat_ms["ws"][1]),
        _f(s.lat_ms["fan"][1]),
        str(s.problems),
    ]
    return " ".join(f"{v:>{w}}" for v, (_, w) in zip(values, _COLS, strict=True))


def _fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope of ys on xs, and r^2."""
    n = len(xs)
    if n < 3:
        return float("nan"), float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    if sxx == 0:
        return float("nan"), float("nan")
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 1.0
    return slope, r2


def build_report(soak: Soak, server_log: str) -> tuple[dict[str, Any], list[str]]:
    args = soak.args
    lines: list[str] = []
    res: dict[str, Any] = {"bench": "soak", "plan": asdict(soak.plan), "duration_s": args.duration}
    load = [s for s in soak.samples if s.phase != "churn"]
    measured = [s for s in load if s.phase == "load"]
    churn = [s for s in soak.samples if s.phase == "churn"]
    span = max(1e-6, args.duration - args.warmup)

    lines.append("")
    lines.append(
        f"per request, measured {args.warmup:.0f}-{args.duration:.0f} s (after warm-up, load phase):"
    )
    lines.append(
        f"  {'kind':<13} {'n':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    per_kind: dict[str, dict[str, float]] = {}
    for kind in ALL_KINDS:
        values = soak.rec.total[kind]
        if not values:
            continue
        st = benchlib.summarize_ms(values)
        per_kind[kind] = {**st, "per_s": len(values) / span}
        lines.append(
            f"  {kind:<13} {len(values):>7} {len(values) / span:>7.2f} {st['p50']:>8.2f} "
            f"{st['p95']:>8.2f} {st['p99']:>8.2f} {st['max']:>8.2f}"
        )
    http_all = [x for k in HTTP_KINDS for x in soak.rec.total[k]]
    st_all = benchlib.summarize_ms(http_all)
    if http_all:
        lines.append(
            f"  {'all HTTP':<13} {len(http_all):>7} {len(http_all) / span:>7.2f} {st_all['p50']:>8.2f} "
            f"{st_all['p95']:>8.2f} {st_all['p99']:>8.2f} {st_all['max']:>8.2f}"
        )
    res["per_kind_ms"] = per_kind
    res["http_ms"] = st_all

    # memory
    base = soak.baseline
    lines.append("")
    ok_mem: bool | None = None
    warm = [s for s in load if s.phase == "warm-up"]
    if measured:
        ref = warm[-1] if warm else measured[0]
        end = load[-1]
        growth = (end.rss_kb - ref.rss_kb) / ref.rss_kb
        peak = max(s.rss_kb for s in [ref, *measured])
        d_tickets = end.tickets - ref.tickets
        d_seq = end.seq - ref.seq
        after_warm = [ref, *measured]
        slope_t, r2_t = _fit([s.tickets for s in after_warm], [s.rss_kb for s in after_warm])
        ok_mem = growth < MEMORY_GROWTH_LIMIT
        lines.append(
            f"memory: idle baseline {base['rss_kb'] / 1024:.1f} MB; after warm-up (t={ref.t:.0f} s) "
            f"{ref.rss_kb / 1024:.1f} MB; end of load (t={end.t:.0f} s) {end.rss_kb / 1024:.1f} MB; "
            f"peak after warm-up {peak / 1024:.1f} MB; VmHWM {soak.after.get('hwm_kb', 0) / 1024:.1f} MB"
        )
        lines.append(
            f"  growth after warm-up {100 * growth:+.1f} % ({(end.rss_kb - ref.rss_kb) / 1024:+.1f} MB) "
            f"while {d_tickets} tickets were issued and {d_seq} events published: "
            f"{(end.rss_kb - ref.rss_kb) / max(1, d_tickets):.2f} KB per ticket, "
            f"{(end.rss_kb - ref.rss_kb) / max(1, d_seq):.2f} KB per event; "
            f"least-squares RSS ~ tickets {slope_t:.2f} KB/ticket (r^2 {r2_t:.2f})"
        )
        lines.append(
            f"  day state that grows by design: {end.tickets} tickets of the day and their idempotency "
            f"records (kept 48 h), {min(end.seq, SERVER_EVENT_HISTORY)} of the last "
            f"{SERVER_EVENT_HISTORY:,} events kept for resuming screens (full after {SERVER_EVENT_HISTORY:,} "
            f"events); see README 'Reading the memory figures'"
        )
        res["memory"] = {
            "baseline_kb": base["rss_kb"],
            "after_warmup_kb": ref.rss_kb,
            "end_kb": end.rss_kb,
            "peak_kb": peak,
            "growth": growth,
            "tickets": d_tickets,
            "events": d_seq,
            "slope_kb_per_ticket": slope_t,
            "r2": r2_t,
        }
    churn_halves: tuple[float, float] | None = None
    if churn and load:
        c0, c1 = load[-1], churn[-1]
        per_conn = (c1.rss_kb - c0.rss_kb) / max(1, soak.churn_connections)
        lines.append(
            f"  churn-only phase ({args.churn_phase:.0f} s, no new tickets or events, "
            f"{soak.churn_connections} WebSocket connections opened and closed, polls going on): "
            f"RSS {c0.rss_kb / 1024:.1f} -> {c1.rss_kb / 1024:.1f} MB "
            f"({(c1.rss_kb - c0.rss_kb) / 1024:+.2f} MB, {per_conn:+.2f} KB per connection); "
            f"seq {c0.seq} -> {c1.seq}"
        )
        points = [c0, *churn]
        mid = points[len(points) // 2]
        if len(points) >= 3:

            def kb_per_conn(a: Sample, b: Sample) -> float:
                return (b.rss_kb - a.rss_kb) / max(1, b.churn_connections - a.churn_connections)

            churn_halves = (kb_per_conn(c0, mid), kb_per_conn(mid, c1))
            lines.append(
                f"  churn-only phase by halves: {churn_halves[0]:+.2f} KB per connection until "
                f"t={mid.t:.0f} s, {churn_halves[1]:+.2f} KB per connection after"
            )
        res["churn"] = {
            "connections": soak.churn_connections,
            "rss_start_kb": c0.rss_kb,
            "rss_end_kb": c1.rss_kb,
            "seq_start": c0.seq,
            "seq_end": c1.seq,
            "kb_per_connection_halves": churn_halves,
        }

    # fds and threads
    after = soak.after
    fd_delta = after["fds"] - base["fds"]
    ok_fd = fd_delta <= FD_TOLERANCE
    peak_fds = max((s.fds for s in soak.samples), default=0)
    peak_thr = max((s.threads for s in soak.samples), default=0)
    lines.append(
        f"fds: baseline {int(base['fds'])}, peak {peak_fds} (with up to "
        f"{max((s.ws_open for s in soak.samples), default=0)} sockets open), "
        f"{after['settle_s']:.1f} s after every client closed {int(after['fds'])} ({fd_delta:+.0f})"
    )
    lines.append(
        f"threads: baseline {int(base['threads'])}, peak {peak_thr}, at the end {int(after['threads'])}"
    )
    res["fds"] = {
        "baseline": base["fds"],
        "peak": peak_fds,
        "end": after["fds"],
        "settle_s": after["settle_s"],
    }
    res["threads"] = {"baseline": base["threads"], "peak": peak_thr, "end": after["threads"]}

    # errors
    probs = soak.problems
    log_errors = [
        ln for ln in server_log.splitlines() if " ERROR " in ln or "Traceback" in ln or " CRITICAL " in ln
    ]
    ok_err = probs.total == 0 and not log_errors
    lines.append(
        f"errors: {probs.total} client-side problems; "
        f"{len(log_errors)} ERROR/Traceback lines in the server log"
    )
    for what, n in probs.counts.most_common():
        lines.append(
            f"  {n:>6} x {what}" + (f"  e.g. {probs.examples[what][0]}" if probs.examples.get(what) else "")
        )
    for ln in log_errors[:5]:
        lines.append(f"  server log: {ln[:240]}")
    if probs.expected:
        normal = ", ".join(f"{k}: {v}" for k, v in sorted(probs.expected.items()))
        lines.append(f"  normal refusals (not errors): {normal}")
    res["problems"] = dict(probs.counts)
    res["problem_examples"] = probs.examples
    res["expected_refusals"] = dict(probs.expected)
    res["server_log_errors"] = log_errors[:20]

    lines.append("")
    lines.append("verdict:")
    if ok_mem is None:
        lines.append("  memory growth after warm-up < 10 %: not measured (run shorter than its warm-up)")
    else:
        g = res["memory"]["growth"]
        lines.append(
            f"  memory growth after warm-up < 10 %:      {'PASS' if ok_mem else 'FAIL'} ({100 * g:+.1f} %)"
        )
    lines.append(
        f"  fds back to baseline (+{FD_TOLERANCE}) after clients left: {'PASS' if ok_fd else 'FAIL'} "
        f"({fd_delta:+.0f})"
    )
    lines.append(
        f"  no errors (5xx, network, unexpected closes):  {'PASS' if ok_err else 'FAIL'} ({probs.total})"
    )
    if churn and load and len(churn) >= 3:
        last = churn[-1]
        first = churn[-max(2, len(churn) // 3)]
        tail = (last.rss_kb - first.rss_kb) / max(1, last.churn_connections - first.churn_connections)
        steady = tail > CHURN_KB_PER_CONNECTION
        lines.append(
            f"  (diagnostic) no RSS growth per connection once warm:  {'WARN' if steady else 'ok'} "
            f"({tail:+.2f} KB per connection over the last third of the churn-only phase, "
            f"t={first.t:.0f}-{last.t:.0f} s, limit {CHURN_KB_PER_CONNECTION:.1f})"
        )
    res["verdict"] = {"memory": ok_mem, "fds": ok_fd, "errors": ok_err}
    res["samples"] = [asdict(s) for s in soak.samples]
    return res, lines


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=600.0, help="seconds of load (default 600)")
    p.add_argument("--rate-multiplier", type=float, default=10.0, help="busy offices' worth (default 10)")
    p.add_argument("--warmup", type=float, help="seconds not counted (default min(120, duration/5))")
    p.add_argument(
        "--churn-phase",
        type=float,
        help="seconds of connection churn without new state after the load "
        "(default min(60, duration/4); 0 = none)",
    )
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--launcher", choices=["support"], default="support")
    p.add_argument("--keep-dir", action="store_true", help="keep the server's folder (log, database)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(120.0, args.duration / 5)
    if args.churn_phase is None:
        args.churn_phase = min(60.0, args.duration / 4)
    if not (10 <= args.duration <= 86_400 and 0 < args.rate_multiplier <= 100):
        p.error("need 10 <= duration <= 86400 and 0 < rate-multiplier <= 100")
    if not (0 <= args.warmup < args.duration and 0 <= args.churn_phase <= 3600 and 1 <= args.interval <= 600):
        p.error("need 0 <= warmup < duration, 0 <= churn-phase <= 3600, 1 <= interval <= 600")
    return args


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan.scaled(args.rate_multiplier)
    benchlib.raise_nofile(8192)
    zone = _quietest_zone(args.duration + args.churn_phase + 120)
    print(f"# soak: {plan.describe()}", flush=True)
    print(
        f"# {args.duration:.0f} s load (first {args.warmup:.0f} s warm-up) + "
        f"{args.churn_phase:.0f} s churn only, "
        f"samples every {args.interval:.0f} s, office time zone {zone}",
        flush=True,
    )
    config = soak_office_toml(plan, zone)
    with benchlib.running_server(config, launcher=args.launcher, keep_dir=args.keep_dir) as server:
        soak = Soak(args, server, plan)
        _run_loop(soak.run())
        server_log = str(server.inner.log_text())
    res, lines = build_report(soak, server_log)
    for line in lines:
        print(line)
    benchlib.write_json(args.json, res)
    return 0 if all(v is not False for v in res["verdict"].values()) else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
