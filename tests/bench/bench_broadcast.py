"""Broadcast fan-out latency and server memory with many ``/ws/display`` sockets.

Opens ``--sockets`` (1,000) display WebSockets (``websockets`` client, ``compression=None``),
spread over ``--procs`` receiver processes, then runs rounds of:

1. ``POST /api/v1/tickets`` and wait until every socket has the ``ticket.issued`` frame;
2. after a short pause, ``POST /api/v1/counters/{id}/call-next`` (officer bearer token) and
   time from just before sending it until the ``ticket.called`` frame has reached the LAST
   socket (also: the first socket, and the HTTP answer).

Times are ``time.monotonic()`` readings (CLOCK_MONOTONIC, the same clock in every process on
Linux), so the controller and the receivers can be compared directly.  The server's RSS
(``VmRSS`` from /proc/PID/status) is read with all sockets open.

Run:  .venv/bin/python tests/bench/bench_broadcast.py [--sockets 1000] [--rounds 50] [--procs 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, cast

import benchlib

TARGET_P99_MS = 100.0
TARGET_RSS_MB = 150.0
MARKERS = ("ticket.called", "ticket.issued")  # checked in this order, as quoted JSON strings
QUOTED = tuple((m, f'"{m}"') for m in MARKERS)


# --------------------------------------------------------------------------- receiver process


@dataclass
class ReceiverPlan:
    index: int
    url: str
    sockets: int
    connect_concurrency: int
    max_seconds: float  # the receiver gives up by itself after this long
    mode: str = "asyncio"  # "asyncio": websockets.asyncio.client; "sansio": its ClientProtocol


@dataclass
class _Arrivals:
    """For one marker type: how many sockets have their k-th frame of it, first/last time."""

    count: list[int] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    last: list[float] = field(default_factory=list)


OnText = Callable[[int, str, float], None]


class _SansIoSocket(asyncio.Protocol):
    """One display socket driven by websockets' sans-I/O ``ClientProtocol`` (no extensions,
    so no compression): frames are handled in ``data_received``, with no task per socket."""

    def __init__(self, index: int, url: str, on_text: OnText) -> None:
        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        self.index = index
        self.on_text = on_text
        self.ws = ClientProtocol(parse_uri(url), max_size=2**22)
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.first: asyncio.Future[str] = loop.create_future()
        self.done: asyncio.Future[int] = loop.create_future()
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        from websockets.frames import Opcode
        from websockets.http11 import Response

        t = time.monotonic()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None and not self.first.done():
                    self.first.set_exception(self.ws.handshake_exc)
                continue
            if event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.parts.append(event.data)
                if not event.fin:
                    continue
                text = b"".join(self.parts).decode()
                self.parts.clear()
                if self.first.done():
                    self.on_text(self.index, text, t)
                else:
                    self.first.set_result(text)
            elif event.opcode is Opcode.CLOSE and not self.done.done():
                code = self.ws.close_rcvd.code if self.ws.close_rcvd is not None else 1005
                self.done.set_result(code)
        self._flush()

    def _flush(self) -> None:
        if self.transport is None:
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.first.done():
            self.first.set_exception(ConnectionError(f"closed during handshake: {exc!r}"))
        if not self.done.done():
            self.done.set_result(1006)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.send_close(1000)
            self._flush()
        if self.transport is not None:
            self.transport.close()


class Receiver:
    def __init__(self, plan: ReceiverPlan, conn: Connection) -> None:
        self.plan = plan
        self.conn = conn
        self.open_sockets = 0
        self.per_socket: dict[str, list[int]] = {m: [] for m in MARKERS}
        self.arrivals: dict[str, _Arrivals] = {m: _Arrivals() for m in MARKERS}
        self.closed_codes: dict[str, int] = {}
        self.frames = 0
        self.seq_gaps = 0
        self.last_seq: int | None = None
        self.counting = False
        self.stop = asyncio.Event()

    def _mark(self, marker: str, sock: int, t: float) -> None:
        counts = self.per_socket[marker]
        k = counts[sock]
        counts[sock] = k + 1
        arr = self.arrivals[marker]
        if k == len(arr.count):
            arr.count.append(0)
            arr.first.append(t)
            arr.last.append(t)
        arr.count[k] += 1
        arr.last[k] = max(arr.last[k], t)
        if arr.count[k] == self.open_sockets:
            self.conn.send(("done", marker, k, arr.first[k], arr.last[k], self.plan.index))

    def _check_seq(self, msg: str) -> None:
        try:
            seq = int(json.loads(msg)["seq"])
        except (ValueError, KeyError, TypeError):
            self.seq_gaps += 1
            return
        if self.last_seq is not None and seq != self.last_seq + 1:
            self.seq_gaps += 1
        self.last_seq = seq

    def on_text(self, sock: int, msg: str, t: float) -> None:
        """One event frame on socket ``sock``, received at ``t``."""
        self.frames += 1
        for marker, quoted in QUOTED:
            if quoted in msg:
                self._mark(marker, sock, t)
                break
        if sock == 0:
            self._check_seq(msg)

    def _closed(self, sock: int, code: int) -> None:
        self.closed_codes[str(code)] = self.closed_codes.get(str(code), 0) + 1
        if not self.stop.is_set():
            self.conn.send(("lost", sock, self.plan.index))

    def _first_frame(self, text: str) -> None:
        first = json.loads(text)
        if first.get("type") != "snapshot":
            raise RuntimeError(f"first frame is not a snapshot: {text[:200]}")
        if self.last_seq is None:
            self.last_seq = int(first["seq"])

    # -- websockets.asyncio.client ------------------------------------------------------

    async def _read(self, sock: int, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        code = 1000
        try:
            async for msg in ws:
                t = time.monotonic()
                if isinstance(msg, str):
                    self.on_text(sock, msg, t)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
        self._closed(sock, code)

    async def _open_asyncio(self, sem: asyncio.Semaphore) -> Any:
        from websockets.asyncio.client import connect

        async with sem:
            ws = await connect(
                self.plan.url,
                compression=None,
                ping_interval=None,
                open_timeout=30,
                close_timeout=5,
                max_size=2**22,
            )
            try:
                self._first_frame(str(await asyncio.wait_for(ws.recv(), timeout=30)))
            except BaseException:
                await ws.close()
                raise
            return ws

    # -- sans-I/O ------------------------------------------------------------------------

    async def _open_sansio(self, sem: asyncio.Semaphore, index: int) -> _SansIoSocket:
        loop = asyncio.get_running_loop()
        host, _, rest = self.plan.url.removeprefix("ws://").partition(":")
        port = int(rest.split("/", 1)[0])
        async with sem:
            _, sock = await loop.create_connection(
                lambda: _SansIoSocket(index, self.plan.url, self.on_text), host, port
            )
            try:
                self._first_frame(await asyncio.wait_for(sock.first, timeout=30))
            except BaseException:
                sock.close()
                raise
            return sock

    async def _watch_sansio(self, sock: _SansIoSocket) -> None:
        self._closed(sock.index, await sock.done)

    # -- life cycle -----------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        sem = asyncio.Semaphore(self.plan.connect_concurrency)
        t0 = time.monotonic()
        n = self.plan.sockets
        # every socket's counters exist before any socket can deliver an event
        for m in MARKERS:
            self.per_socket[m] = [0] * n
        sansio = self.plan.mode == "sansio"
        if sansio:
            opened = await asyncio.gather(
                *(self._open_sansio(sem, i) for i in range(n)), return_exceptions=True
            )
        else:
            opened = await asyncio.gather(
                *(self._open_asyncio(sem) for _ in range(n)), return_exceptions=True
            )
        sockets = [ws for ws in opened if not isinstance(ws, BaseException)]
        errors = [repr(e) for e in opened if isinstance(e, BaseException)]
        self.open_sockets = len(sockets)
        if sansio:
            # a failed socket leaves a hole in the numbering: renumber the open ones
            for i, sock in enumerate(sockets):
                sock.index = i
            watchers = [asyncio.create_task(self._watch_sansio(s)) for s in sockets]
        else:
            watchers = [asyncio.create_task(self._read(i, ws)) for i, ws in enumerate(sockets)]
        cpu0 = benchlib.self_cpu_seconds()
        self.conn.send(("ready", self.plan.index, len(sockets), time.monotonic() - t0, errors[:3]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=self.plan.max_seconds)
        self.stop.set()
        cpu = benchlib.self_cpu_seconds() - cpu0
        sem_close = asyncio.Semaphore(self.plan.connect_concurrency)

        async def close(ws: Any) -> None:
            if isinstance(ws, _SansIoSocket):
                ws.close()
                return
            async with sem_close:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.close(), timeout=5)

        await asyncio.gather(*(close(ws) for ws in sockets))
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        loop.remove_reader(self.conn.fileno())
        self.conn.send(
            (
                "bye",
                self.plan.index,
                {
                    "frames": self.frames,
                    "seq_gaps": self.seq_gaps,
                    "closed_codes": self.closed_codes,
                    "cpu_s": cpu,
                },
            )
        )

    def _on_command(self) -> None:
        try:
            msg = self.conn.recv()
        except EOFError:
            msg = "stop"
        if msg == "stop":
            self.stop.set()


def receiver_entry(plan: ReceiverPlan, conn: Connection) -> None:
    benchlib.raise_nofile(plan.sockets + 256)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        runner(Receiver(plan, conn).run())
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", plan.index, repr(exc)))
        raise


# --------------------------------------------------------------------------- controller


class Controller:
    def __init__(self, conns: list[Connection]) -> None:
        self.conns = conns
        self.done: dict[tuple[str, int], list[tuple[float, float]]] = {}
        self.lost = 0
        self.errors: list[str] = []
        self.ready: list[tuple[int, float, list[str]]] = []
        self.bye: list[dict[str, Any]] = []

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "done":
            _, marker, k, first, last, _idx = msg
            self.done.setdefault((marker, k), []).append((first, last))
        elif kind == "lost":
            self.lost += 1
        elif kind == "ready":
            self.ready.append((msg[2], msg[3], msg[4]))
        elif kind == "bye":
            self.bye.append(msg[2])
        elif kind == "error":
            self.errors.append(str(msg[2]))

    def pump(self, until: float) -> None:
        """Handle messages until ``until`` (monotonic) or until nothing is pending."""
        remaining = max(0.0, until - time.monotonic())
        for conn in wait(self.conns, timeout=remaining):
            assert isinstance(conn, Connection)
            with contextlib.suppress(EOFError):
                self._handle(conn.recv())

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline or self.errors:
                return bool(predicate())
            self.pump(deadline)
        return True

    def round_done(self, marker: str, k: int) -> tuple[float, float] | None:
        got = self.done.get((marker, k), [])
        if len(got) < len(self.conns):
            return None
        return min(f for f, _ in got), max(last for _, last in got)


def run_bench(args: argparse.Namespace, server: benchlib.Server) -> dict[str, Any]:
    import httpx

    token = server.officer_token()
    pid = server.pid
    rss_idle_kb = benchlib.proc_status_kb(pid, "VmRSS") or 0
    http = httpx.Client(base_url=server.base_url, timeout=30.0, headers={"Authorization": f"Bearer {token}"})
    # first requests outside the clock
    counter = args.counter
    first = http.post("/api/v1/tickets", json={"service": "s0"})
    first.raise_for_status()
    warm = http.post(f"/api/v1/counters/{counter}/call-next")
    if warm.status_code != 200:
        raise RuntimeError(f"call-next failed: {warm.status_code} {warm.text[:300]}")

    ctx = mp.get_context("spawn")
    per_proc = [
        args.sockets // args.procs + (1 if i < args.sockets % args.procs else 0) for i in range(args.procs)
    ]
    total_rounds = args.warmup_rounds + args.rounds
    max_seconds = 120 + total_rounds * (args.round_timeout + args.gap + 1)
    conns: list[Connection] = []
    procs = []
    url = server.ws_url + "/ws/display"
    for i, n in enumerate(per_proc):
        parent, child = ctx.Pipe()
        plan = ReceiverPlan(i, url, n, args.connect_concurrency, max_seconds, args.receiver)
        proc = ctx.Process(target=receiver_entry, args=(plan, child), daemon=True)
        proc.start()
        child.close()
        conns.append(parent)
        procs.append(proc)
    ctl = Controller(conns)
    result: dict[str, Any] = {
        "bench": "broadcast",
        "receiver": args.receiver,
        "sockets_wanted": args.sockets,
        "procs": args.procs,
        "rounds": args.rounds,
    }
    try:
        if not ctl.wait_for(lambda: len(ctl.ready) == len(conns), timeout=180):
            raise RuntimeError(f"receivers not ready: {ctl.ready} {ctl.errors}")
        opened = sum(r[0] for r in ctl.ready)
        result["sockets_open"] = opened
        result["connect_s"] = max(r[1] for r in ctl.ready)
        result["connect_errors"] = [e for r in ctl.ready for e in r[2]][:5]
        time.sleep(1.0)
        result["server_rss_idle_mb"] = rss_idle_kb / 1024
        result["server_rss_open_mb"] = (benchlib.proc_status_kb(pid, "VmRSS") or 0) / 1024
        result["server_tree_rss_open_mb"] = benchlib.tree_rss_kb(pid) / 1024

        called_last: list[float] = []
        called_first: list[float] = []
        http_ms: list[float] = []
        issued_last: list[float] = []
        failures: list[str] = []
        spy = None
        spy_out = benchlib.RESULTS_DIR / args.profile if args.profile else None
        if spy_out is not None:
            spy = benchlib.start_py_spy(pid, spy_out, native=args.profile_native)
            time.sleep(0.5)
        cpu0 = benchlib.tree_cpu_seconds(pid)
        t_rounds = time.monotonic()
        for r in range(total_rounds):
            measured = r >= args.warmup_rounds
            t_issue = time.monotonic()
            resp = http.post("/api/v1/tickets", json={"service": f"s{r % args.services}"})
            if resp.status_code != 201:
                failures.append(f"round {r}: issue {resp.status_code} {resp.text[:200]}")
                break
            number = resp.json().get("number")
            if not ctl.wait_for(
                lambda r=r: ctl.round_done("ticket.issued", r) is not None, timeout=args.round_timeout
            ):
                failures.append(f"round {r}: ticket.issued not on every socket (lost {ctl.lost})")
                break
            issued = ctl.round_done("ticket.issued", r)
            assert issued is not None
            time.sleep(args.gap)
            t0 = time.monotonic()
            resp = http.post(f"/api/v1/counters/{counter}/call-next")
            t_resp = time.monotonic()
            if resp.status_code != 200:
                failures.append(f"round {r}: call-next {resp.status_code} {resp.text[:200]}")
                break
            if resp.json().get("number") != number:
                failures.append(f"round {r}: called {resp.json().get('number')}, issued {number}")
            if not ctl.wait_for(
                lambda r=r: ctl.round_done("ticket.called", r) is not None, timeout=args.round_timeout
            ):
                failures.append(f"round {r}: ticket.called not on every socket (lost {ctl.lost})")
                break
            called = ctl.round_done("ticket.called", r)
            assert called is not None
            if measured:
                issued_last.append(issued[1] - t_issue)
                called_first.append(called[0] - t0)
                called_last.append(called[1] - t0)
                http_ms.append(t_resp - t0)
            time.sleep(args.gap)
        rounds_wall = time.monotonic() - t_rounds
        result["server_cpu_rounds_s"] = benchlib.tree_cpu_seconds(pid) - cpu0
        if spy is not None and spy_out is not None:
            benchlib.stop_py_spy(spy, spy_out)
        result["rounds_wall_s"] = rounds_wall
        result["server_rss_after_mb"] = (benchlib.proc_status_kb(pid, "VmRSS") or 0) / 1024
        result["server_hwm_mb"] = (benchlib.proc_status_kb(pid, "VmHWM") or 0) / 1024
        result["called_last_ms"] = benchlib.summarize_ms(called_last)
        result["called_first_ms"] = benchlib.summarize_ms(called_first)
        result["call_next_http_ms"] = benchlib.summarize_ms(http_ms)
        result["issued_last_ms"] = benchlib.summarize_ms(issued_last)
        result["failures"] = failures
        result["lost_sockets"] = ctl.lost
    finally:
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send("stop")
        ctl.wait_for(lambda: len(ctl.bye) + len(ctl.errors) >= len(conns), timeout=60)
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        http.close()
    result["receivers"] = ctl.bye
    result["receiver_errors"] = ctl.errors
    result["target_p99_ms"] = TARGET_P99_MS
    result["target_rss_mb"] = TARGET_RSS_MB
    return result


def print_report(res: dict[str, Any]) -> None:
    print(
        f"broadcast bench: {res.get('sockets_open')}/{res['sockets_wanted']} display sockets "
        f"over {res['procs']} {res['receiver']} receiver procs (opened in {res.get('connect_s', 0):.1f} s), "
        f"{res['rounds']} rounds"
    )
    if "called_last_ms" not in res:
        print(f"  FAILED: {res.get('receiver_errors')}")
        return
    print(f"  call-next -> ticket.called on LAST socket   {benchlib.fmt_ms(res['called_last_ms'])}")
    print(f"  call-next -> ticket.called on first socket  {benchlib.fmt_ms(res['called_first_ms'])}")
    print(f"  call-next HTTP answer                       {benchlib.fmt_ms(res['call_next_http_ms'])}")
    print(f"  issue -> ticket.issued on LAST socket       {benchlib.fmt_ms(res['issued_last_ms'])}")
    print(
        f"  server rss   idle {res['server_rss_idle_mb']:.1f} MB, "
        f"{res['sockets_open']} sockets open {res['server_rss_open_mb']:.1f} MB, "
        f"after rounds {res['server_rss_after_mb']:.1f} MB (peak {res['server_hwm_mb']:.1f} MB)"
    )
    print(f"  server cpu   {res['server_cpu_rounds_s']:.2f} s over {res['rounds_wall_s']:.1f} s of rounds")
    frames = [r.get("frames") for r in res["receivers"]]
    gaps = sum(int(r.get("seq_gaps", 0)) for r in res["receivers"])
    cpu = [round(float(r.get("cpu_s", 0)), 2) for r in res["receivers"]]
    print(f"  receivers    frames {frames}, seq gaps {gaps}, cpu s {cpu}, lost sockets {res['lost_sockets']}")
    for f in res["failures"][:5]:
        print(f"  failure      {f}")
    if res["connect_errors"]:
        print(f"  connect errs {res['connect_errors']}")
    p99 = res["called_last_ms"].get("p99", float("inf"))
    rss = res["server_rss_open_mb"]
    print(
        f"  target       p99 <= {TARGET_P99_MS:.0f} ms: {'PASS' if p99 <= TARGET_P99_MS else 'MISS'}"
        f"; rss <= {TARGET_RSS_MB:.0f} MB: {'PASS' if rss <= TARGET_RSS_MB else 'MISS'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--procs", type=int, default=2, help="receiver processes")
    p.add_argument(
        "--receiver",
        choices=["asyncio", "sansio"],
        default="asyncio",
        help="websockets client API: asyncio connect() (default) or the lighter sans-I/O "
        "ClientProtocol in a bare asyncio.Protocol (to check the client is no bottleneck)",
    )
    p.add_argument("--rounds", type=int, default=50, help="measured rounds")
    p.add_argument("--warmup-rounds", type=int, default=5)
    p.add_argument("--gap", type=float, default=0.05, help="pause (s) between steps")
    p.add_argument("--round-timeout", type=float, default=10.0)
    p.add_argument("--connect-concurrency", type=int, default=50)
    p.add_argument("--services", type=int, default=2)
    p.add_argument("--counter", default="1")
    p.add_argument("--launcher", choices=["auto", "support", "own"], default="auto")
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the server during the rounds into bench-results/FILE "
        "(.txt = collapsed stacks, .json = speedscope, .svg = flame graph)",
    )
    p.add_argument("--profile-native", action="store_true", help="py-spy --native (C frames)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if not (1 <= args.procs <= 16 and 1 <= args.sockets <= 10_000 and 1 <= args.rounds <= 10_000):
        p.error("need 1 <= procs <= 16, 1 <= sockets <= 10000, 1 <= rounds <= 10000")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    benchlib.raise_nofile(args.sockets + 1024)
    config = benchlib.office_toml(capacity=100_000, services=args.services, counters=2)
    with benchlib.running_server(config, launcher=args.launcher) as server:
        res = run_bench(args, server)
    print_report(res)
    benchlib.write_json(args.json, res)
    failed = bool(res.get("failures")) or bool(res.get("receiver_errors"))
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
