"""Scale-out figures (issue 12): N workers on one port, Redis between them, a regency deployment.

Starts its own ``redis-server`` (free port, ``--save '' --appendonly no``) and, twice, a fresh
``queue-server serve --workers N --broker redis://...`` in a temporary folder:

A. one office (``--config``, paths at ``/``): ticket issue through the workers, 32 keep-alive
   clients (bench_issue.py's raw client), closed loop and open loop at ``--issue-rate``;
   about 3 of 4 requests reach a worker that is not the office's writer and are forwarded
   through Redis.
B. a regency (``--config-dir``, one ``<office>.toml`` per kecamatan office, ``--offices 20``):
   1. issue ``--phones`` tickets through the workers (``--phones / --offices`` per office);
   2. open one phone socket per ticket (``/o/X/ws/tickets/{token}``) and ``--displays`` display
      sockets (``/o/X/ws/display``) from ``--procs`` receiver processes (a raw asyncio
      WebSocket client: no compression, no task per socket); the workers' RSS (the
      supervisor's process tree) before and after, divided by the sockets;
   3. rounds of ``call-next``: the time from sending it until the ``ticket.called`` frame
      reached the LAST display of the office, and until every phone whose view changed got
      its frame (the called ticket's phone, the phone of the ticket the counter finished, and
      every phone of that service still waiting: each moved up one place);
   4. office load, interleaved: one office alone at ``--office-issue-rate`` + ``--office-call-rate``
      vs every office at that rate at once (sockets still open, so the calls fan out), per
      office p99 of its requests; medians over ``--load-rounds``.

Each office has ``--services`` services and one counter per service (counter i calls service
s(i-1)), so a call moves exactly one service's queue.  Times are ``time.monotonic()``
(CLOCK_MONOTONIC, one clock for every process on Linux).

Run:  .venv/bin/python tests/bench/bench_scale.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import bench_issue
import benchlib

TARGET_DISPLAY_P99_MS = 200.0
TARGET_PHONE_P99_MS = 1000.0
TARGET_KB_PER_SOCKET = 30.0
TARGET_ISSUE_TPS = 2000.0
TARGET_ISSUE_P99_MS = 50.0
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
PASSWORD = benchlib.OFFICER_PASSWORD
SEQ_RE = re.compile(rb'"seq":(\d+)')
CALLED = b'"ticket.called"'


def _loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _runner() -> Callable[[Any], Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return cast(Callable[[Any], Any], uvloop.run)


# --------------------------------------------------------------------------- config


def office_toml(name: str, services: int, capacity: int) -> str:
    """``services`` services (s0.., prefixes A..) and one counter per service (counter i: s(i-1))."""
    lines = ["[office]", f'name = "{name}"', 'timezone = "Asia/Makassar"', 'language = "en"']
    lines += [f"capacity = {capacity}", ""]
    for i in range(services):
        lines += ["[[services]]", f'id = "s{i}"', f'name = "Service {i}"', f'prefix = "{chr(65 + i)}"', ""]
    for i in range(services):
        lines += ["[[counters]]", f'id = "{i + 1}"', f'name = "Counter {i + 1}"', f'services = ["s{i}"]', ""]
    lines += ["[limits]", "tickets_per_minute_per_address = 0", ""]
    return "\n".join(lines)


def office_ids(n: int) -> list[str]:
    return [f"o{i:02d}" for i in range(n)]


# --------------------------------------------------------------------------- redis and server


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = benchlib.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://{benchlib.HOST}:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", benchlib.HOST, "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((benchlib.HOST, self.port), timeout=0.5) as conn,
            ):
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


_ADD_USERS = """
import io, sys
from queue_server.cli import main
data_dir, name, password, *offices = sys.argv[1:]
for office in offices:
    sys.stdin = io.StringIO(password + "\\n")
    code = main(["user", "add", name, "--role", "officer", "--password-stdin",
                 "--office", office, "--data-dir", data_dir])
    if code:
        sys.exit(code)
"""


@dataclass
class ScaleServer:
    """``serve --workers N --broker URL`` with ``--config`` (single) or ``--config-dir``."""

    workdir: Path
    broker: str
    workers: int
    offices: dict[str, str]  # office id -> its TOML
    single: bool
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    worker_pids: list[int] = field(default_factory=list)
    _log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://{benchlib.HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{benchlib.HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def prefix(self, office: str) -> str:
        return "" if self.single else f"/o/{office}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(benchlib.REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        for key in list(env):
            if key.startswith("QUEUE_"):
                env.pop(key)
        return env

    def start(self, timeout: float = 60.0) -> None:
        for attempt in range(4):
            try:
                self._start(timeout)
                return
            except RuntimeError as error:
                # a free port picked by benchlib.free_port() may be taken again before serve binds it
                if "Address already in use" not in str(error) or attempt == 3:
                    raise
                self.port = 0

    def _start(self, timeout: float) -> None:
        config_dir = self.workdir / "config"
        data_dir = self.workdir / "data"
        config_dir.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        for office, text in self.offices.items():
            (config_dir / f"{office}.toml").write_text(text)
        self.port = self.port or benchlib.free_port()
        if self.single:
            (office,) = self.offices
            where = ["--config", str(config_dir / f"{office}.toml"), "--db", str(data_dir / "queue.db")]
        else:
            subprocess.run(
                [sys.executable, "-c", _ADD_USERS, str(data_dir), benchlib.OFFICER_NAME, PASSWORD,
                 *self.offices],
                env=self._env(), cwd=self.workdir, check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            where = ["--config-dir", str(config_dir), "--data-dir", str(data_dir)]
        self._log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "queue_server", "serve", *where, "--workers", str(self.workers),
             "--broker", self.broker, "--host", benchlib.HOST, "--port", str(self.port),
             "--log-level", "warning"],
            cwd=self.workdir, env=self._env(), stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        pids: set[int] = set()
        writers: set[str] = set()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                status, body = benchlib.http_json("GET", self.base_url + "/healthz", timeout=2.0)
                if status == 200 and isinstance(body, dict):
                    pids.add(int(body["pid"]))
                    writers.update(body.get("writer_for") or [])
            if len(pids) >= self.workers and writers >= ({"default"} if self.single else set(self.offices)):
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError(
                f"workers {sorted(pids)} / writers {sorted(writers)} not all up:\n{self.log_tail()}"
            )
        self.worker_pids = sorted(pids)

    def writers(self, tries: int = 40) -> dict[int, list[str]]:
        """Each worker's ``writer_for`` (``/healthz`` through new connections until all answered)."""
        seen: dict[int, list[str]] = {}
        for _ in range(tries):
            status, body = benchlib.http_json("GET", self.base_url + "/healthz", timeout=5.0)
            if status == 200 and isinstance(body, dict):
                seen[int(body["pid"])] = list(body.get("writer_for") or [])
            if len(seen) >= self.workers:
                break
        return seen

    def log_tail(self, lines: int = 40) -> str:
        path = self.workdir / "server.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def officer_token(self, office: str) -> str:
        status, body = benchlib.http_json(
            "POST",
            self.base_url + self.prefix(office) + "/api/v1/login",
            {"username": benchlib.OFFICER_NAME, "password": PASSWORD},
        )
        if status != 200 or not isinstance(body, dict):
            raise RuntimeError(f"login at {office} failed: {status} {body}")
        return str(body["token"])

    def stop(self) -> None:
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for pid in benchlib.proc_tree_pids(proc.pid):
                    with contextlib.suppress(OSError):
                        os.kill(pid, 9)
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


def _fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


# --------------------------------------------------------------------------- raw HTTP


def http_request(method: str, path: str, port: int, body: Any = None, token: str | None = None) -> bytes:
    raw = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {benchlib.HOST}:{port}\r\nAccept: application/json\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    head += f"Content-Length: {len(raw)}\r\n\r\n"
    return head.encode() + raw


class Http:
    """A pool of raw keep-alive connections (bench_issue's client), one request at a time each."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: bench_issue._HttpConnection | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(3):
            if self.conn is None or self.conn.closed:
                self.conn = await bench_issue._connect(self.port)
            try:
                status, body, close = await self.conn.request(raw)
            except ConnectionError:
                self.conn = None
                if attempt == 2:
                    raise
                continue
            if close and self.conn.transport is not None:
                self.conn.transport.close()
                self.conn = None
            return status, body
        raise AssertionError  # pragma: no cover

    async def connect(self) -> None:
        if self.conn is None or self.conn.closed:
            self.conn = await bench_issue._connect(self.port)

    def close(self) -> None:
        if self.conn is not None and self.conn.transport is not None:
            self.conn.transport.close()


# --------------------------------------------------------------------------- receivers


@dataclass
class SocketSpec:
    gid: int
    display: bool
    path: str


@dataclass
class ReceiverPlan:
    index: int
    port: int
    sockets: list[SocketSpec]
    connect_concurrency: int


class RawWs(asyncio.Protocol):
    """A minimal WebSocket client: handshake, unmasked server frames, pong and close."""

    __slots__ = ("_request", "buf", "is_open", "parts", "ready", "rec", "slot", "transport")

    def __init__(self, rec: Receiver, slot: int, request: bytes) -> None:
        self.rec = rec
        self.slot = slot
        self.buf = b""
        self.is_open = False
        self.parts: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._request = request

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self._request)
        del self._request

    def data_received(self, data: bytes) -> None:
        t = time.monotonic()
        buf = self.buf + data if self.buf else data
        if not self.is_open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status_line = buf[: buf.find(b"\r\n")]
            if b" 101 " not in status_line + b" ":
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"handshake: {status_line[:80]!r}"))
                self.buf = b""
                assert self.transport is not None
                self.transport.close()
                return
            self.is_open = True
            buf = buf[end + 4 :]
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            payload = buf[pos + head : end]
            pos = end
            opcode = b0 & 0x0F
            if opcode in (1, 0):
                if not b0 & 0x80:
                    self.parts.append(payload)
                    continue
                if self.parts:
                    payload = b"".join([*self.parts, payload])
                    self.parts.clear()
                if self.ready.done():
                    self.rec.on_text(self.slot, payload, t)
                else:
                    self.ready.set_result(payload)
            elif opcode == 9:  # ping: a pong with the same payload (masked with a zero key)
                assert self.transport is not None
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.close(code)
                self.rec.on_closed(self.slot, code)
        self.buf = buf[pos:] if pos < n else b""

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during handshake: {exc!r}"))
        elif self.is_open:
            self.rec.on_closed(self.slot, 1006)
        self.is_open = False

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self.transport.write(b"\x88\x82\0\0\0\0" + code.to_bytes(2, "big"))
            self.transport.close()
        self.is_open = False


class Receiver:
    """One client process: its sockets, and for each round the first frame after it was armed."""

    def __init__(self, plan: ReceiverPlan, conn: Connection) -> None:
        self.plan = plan
        self.conn = conn
        specs = plan.sockets
        self.gids = [s.gid for s in specs]
        self.slot_of = {s.gid: i for i, s in enumerate(specs)}
        self.is_display = [s.display for s in specs]
        self.last_seq = [0] * len(specs)
        self.socks: list[RawWs | None] = [None] * len(specs)
        self.frames = 0
        self.seq_gaps = 0
        self.seq_repeats = 0
        self.lost: dict[str, int] = {}
        self.stopping = False
        self.armed: int | None = None
        self.seen: dict[int, tuple[float, bool]] = {}  # slot -> (first frame after arm, has ticket.called)
        self.remaining: set[int] | None = None
        self.expected: set[int] = set()
        self.timer: asyncio.TimerHandle | None = None
        self.stop = asyncio.Event()

    # -- frames ---------------------------------------------------------------------------

    def on_text(self, slot: int, payload: bytes, t: float) -> None:
        self.frames += 1
        match = SEQ_RE.search(payload)
        seq = int(match.group(1)) if match else -1
        last = self.last_seq[slot]
        if self.is_display[slot]:
            if seq != last + 1:
                self.seq_gaps += 1
        elif seq <= last:
            self.seq_repeats += 1
        self.last_seq[slot] = max(seq, last)
        if self.armed is None:
            return
        called = CALLED in payload
        if self.is_display[slot] and not called:
            return  # a display's round ends with its ticket.called frame
        if slot not in self.seen:
            self.seen[slot] = (t, called)
            remaining = self.remaining
            if remaining is not None and slot in remaining:
                remaining.discard(slot)
                if not remaining:
                    self._finish()

    def on_closed(self, slot: int, code: int) -> None:
        if self.stopping:
            return
        self.lost[str(code)] = self.lost.get(str(code), 0) + 1
        sock = self.socks[slot]
        if sock is not None:
            self.socks[slot] = None

    # -- rounds ---------------------------------------------------------------------------

    def _on_command(self) -> None:
        try:
            msg = self.conn.recv()
        except EOFError:
            msg = ("stop",)
        kind = msg[0]
        if kind == "arm":
            self.armed = int(msg[1])
            self.seen = {}
            self.remaining = None
            self.conn.send(("armed", self.plan.index, self.armed))
        elif kind == "expect":
            _, _round, gids, timeout = msg
            self.expected = {self.slot_of[g] for g in gids if g in self.slot_of}
            self.remaining = self.expected - set(self.seen)
            if not self.remaining:
                self._finish()
            else:
                self.timer = asyncio.get_running_loop().call_later(timeout, self._finish)
        elif kind == "stop":
            self.stop.set()

    def _finish(self) -> None:
        if self.armed is None:
            return
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        got = {self.gids[s]: v for s, v in self.seen.items() if s in self.expected}
        extra = [self.gids[s] for s in self.seen if s not in self.expected]
        missing = [self.gids[s] for s in self.expected if s not in self.seen]
        self.conn.send(
            ("result", self.plan.index, self.armed, got, missing[:50], len(missing), extra[:50], len(extra))
        )
        self.armed = None
        self.remaining = None

    # -- life cycle -----------------------------------------------------------------------

    async def _open(self, sem: asyncio.Semaphore, slot: int, errors: list[str]) -> None:
        loop = asyncio.get_running_loop()
        spec = self.plan.sockets[slot]
        request = (
            f"GET {spec.path} HTTP/1.1\r\nHost: {benchlib.HOST}:{self.plan.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        async with sem:
            for attempt in range(8):
                sock: RawWs | None = None
                try:
                    _, sock = await loop.create_connection(
                        lambda: RawWs(self, slot, request), benchlib.HOST, self.plan.port
                    )
                    first = await asyncio.wait_for(sock.ready, timeout=60)
                except (OSError, TimeoutError) as exc:
                    if sock is not None:
                        sock.close()
                    if attempt == 7:
                        errors.append(repr(exc))
                        return
                    await asyncio.sleep(0.3 * (attempt + 1))
                    continue
                snapshot = json.loads(first)
                if snapshot.get("type") != "snapshot":
                    errors.append(f"first frame not a snapshot: {first[:100]!r}")
                self.last_seq[slot] = int(snapshot.get("seq", 0))
                self.socks[slot] = sock
                return

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        sem = asyncio.Semaphore(self.plan.connect_concurrency)
        errors: list[str] = []
        t0 = time.monotonic()
        cpu0 = benchlib.self_cpu_seconds()
        await asyncio.gather(*(self._open(sem, i, errors) for i in range(len(self.plan.sockets))))
        opened = sum(1 for s in self.socks if s is not None)
        self.conn.send(
            (
                "ready",
                self.plan.index,
                opened,
                time.monotonic() - t0,
                benchlib.self_cpu_seconds() - cpu0,
                errors[:3],
                len(errors),
            )
        )
        cpu1 = benchlib.self_cpu_seconds()
        await self.stop.wait()
        cpu = benchlib.self_cpu_seconds() - cpu1
        self.stopping = True
        for sock in self.socks:
            if sock is not None:
                sock.close()
        await asyncio.sleep(0.2)
        loop.remove_reader(self.conn.fileno())
        self.conn.send(
            (
                "bye",
                self.plan.index,
                {
                    "frames": self.frames,
                    "seq_gaps_display": self.seq_gaps,
                    "seq_repeats_phone": self.seq_repeats,
                    "lost": self.lost,
                    "cpu_s_after_open": cpu,
                    "rss_mb": (benchlib.proc_status_kb(os.getpid(), "VmRSS") or 0) / 1024,
                },
            )
        )


def receiver_entry(plan: ReceiverPlan, conn: Connection) -> None:
    benchlib.raise_nofile(len(plan.sockets) + 512)
    import gc

    gc.disable()  # a client with 7,000 sockets: no collector pauses in the measured windows
    try:
        _runner()(Receiver(plan, conn).run())
    except BaseException as exc:
        with contextlib.suppress(Exception):
            conn.send(("error", plan.index, repr(exc)))
        raise


class Receivers:
    """The controller's side of the receiver processes' pipes (read on the event loop)."""

    def __init__(self, plans: list[ReceiverPlan]) -> None:
        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for plan in plans:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=receiver_entry, args=(plan, child), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        self.inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.errors: list[str] = []
        loop = asyncio.get_running_loop()
        for conn in self.conns:
            loop.add_reader(conn.fileno(), self._read, conn)

    def _read(self, conn: Connection) -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(conn.fileno())
            return
        if msg[0] == "error":
            self.errors.append(str(msg[2]))
        self.inbox.put_nowait(msg)

    def send(self, msg: tuple[Any, ...]) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(msg)

    async def collect(
        self, kind: str, timeout: float, key: Callable[[tuple[Any, ...]], bool] | None = None
    ) -> list[tuple[Any, ...]]:
        """One message of ``kind`` from every receiver (others of that kind, e.g. late results, dropped)."""
        got: dict[int, tuple[Any, ...]] = {}
        deadline = time.monotonic() + timeout
        while len(got) < len(self.conns):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"receivers: {len(got)}/{len(self.conns)} {kind!r} ({self.errors})")
            try:
                msg = await asyncio.wait_for(self.inbox.get(), remaining)
            except TimeoutError:
                continue
            if msg[0] == "error":
                raise RuntimeError(f"receiver {msg[1]} failed: {msg[2]}")
            if msg[0] == kind and (key is None or key(msg)):
                got[int(msg[1])] = msg
        return [got[i] for i in sorted(got)]

    async def close(self) -> list[dict[str, Any]]:
        self.send(("stop",))
        byes: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError, RuntimeError):
            byes = [m[2] for m in await self.collect("bye", 60)]
        loop = asyncio.get_running_loop()
        for conn in self.conns:
            with contextlib.suppress(Exception):
                loop.remove_reader(conn.fileno())
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 10)
            if proc.is_alive():
                proc.kill()
        return byes


# --------------------------------------------------------------------------- phase A: issue


def phase_issue(args: argparse.Namespace, redis: Redis, root: Path) -> dict[str, Any]:
    """One office, ``--workers`` workers: bench_issue.py's closed loop and open loop through them."""
    server = ScaleServer(
        root / "issue",
        redis.url(0),
        args.workers,
        {"office": office_toml("Issue Office", 4, 100_000)},
        single=True,
    )
    server.start()
    print(f"# A: one office, {args.workers} workers (pids {server.worker_pids}) at {server.base_url}; "
          f"writer {server.writers()}", flush=True)  # fmt: skip
    out: dict[str, Any] = {}
    try:
        common = ["--clients", str(args.issue_clients), "--duration", str(args.issue_duration),
                  "--warmup", str(args.issue_warmup), "--services", "4"]  # fmt: skip
        for name in ("closed", "open"):
            argv = common
            if name == "open":
                rate = args.issue_rate or args.issue_open_fraction * out["closed"]["tickets_per_s"]
                if rate < 1:
                    break
                argv = [*common, "--rate", f"{rate:.0f}"]
            redis_cpu0 = benchlib.proc_cpu_seconds(redis.pid)
            res = bench_issue.run_bench(bench_issue.parse_args(argv), cast(benchlib.Server, server))
            redis_cpu = benchlib.proc_cpu_seconds(redis.pid) - redis_cpu0
            res["load_avg_end"] = _loadavg()
            # CPU per ticket: the workers' (measured window) and Redis's (whole run, all its tickets)
            tps = max(res["tickets_per_s"], 1e-9)
            res["server_cpu_ms_per_ticket"] = res["server_cpu_pct"] / 100 / tps * 1000
            res["redis_cpu_ms_per_ticket"] = redis_cpu / max(1, res["issued_total_201"]) * 1000
            out[name] = res
            lat = res["latency_ms"]
            print(f"# A {name}: {res['tickets_per_s']:.0f} tickets/s, p99 {lat.get('p99', float('nan')):.1f} ms "  # noqa: E501
                  f"(load {_loadavg()})", flush=True)  # fmt: skip
        out["worker_cpu_s"] = {str(p): round(benchlib.proc_cpu_seconds(p), 1) for p in server.worker_pids}
    finally:
        server.stop()
    return out


# --------------------------------------------------------------------------- phase B: regency


@dataclass
class Ticket:
    gid: int
    office: str
    service: int
    number: str
    token: str


async def issue_tickets(
    port: int, server: ScaleServer, offices: list[str], per_office: int, services: int, clients: int
) -> tuple[list[Ticket], float, list[str]]:
    """``per_office`` tickets in every office (services in turn), through the workers.

    Office after office: the clients' requests then reach one writer together and are committed
    in batches, as bench_issue.py's are (spread over 20 offices, each would be its own batch)."""
    jobs = [(office, k % services) for office in offices for k in range(per_office)]
    requests = {
        (office, s): http_request(
            "POST", server.prefix(office) + "/api/v1/tickets", port, {"service": f"s{s}"}
        )
        for office in offices
        for s in range(services)
    }
    results: list[tuple[int, str, int, dict[str, Any]]] = []
    errors: list[str] = []
    next_job = 0

    async def client() -> None:
        nonlocal next_job
        http = Http(port)
        try:
            while next_job < len(jobs):
                office, s = jobs[next_job]
                next_job += 1
                for _ in range(5):
                    status, body = await http.request(requests[(office, s)])
                    if status == 201:
                        data = json.loads(body)
                        results.append((int(data["id"]), office, s, data))
                        break
                    if len(errors) < 10:
                        errors.append(f"{status} {body[:120]!r}")
                    await asyncio.sleep(0.2)
        finally:
            http.close()

    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.monotonic() - t0
    results.sort(key=lambda r: (offices.index(r[1]), r[0]))
    tickets = [
        Ticket(gid, office, s, str(data["number"]), str(data["token"]))
        for gid, (_id, office, s, data) in enumerate(results)
    ]
    return tickets, wall, errors


async def wait_replicas(
    server: ScaleServer, offices: list[str], per_office: int, timeout: float = 30
) -> float:
    """Until every worker's answer to GET /services counts every office's tickets."""
    t0 = time.monotonic()
    port = server.port
    pending = set(offices)
    while pending and time.monotonic() - t0 < timeout:
        conns = [Http(port) for _ in range(2 * server.workers)]  # new connections reach various workers
        try:
            for office in list(pending):
                raw = http_request("GET", server.prefix(office) + "/api/v1/services", port)
                answers = await asyncio.gather(*(c.request(raw) for c in conns))
                if all(
                    status == 200 and sum(int(s.get("waiting", 0)) for s in json.loads(body)) >= per_office
                    for status, body in answers
                ):
                    pending.discard(office)
        finally:
            for c in conns:
                c.close()
        if pending:
            await asyncio.sleep(0.2)
    return time.monotonic() - t0


def _per_worker(server: ScaleServer) -> dict[str, dict[str, float]]:
    return {
        str(pid): {
            "rss_mb": round((benchlib.proc_status_kb(pid, "VmRSS") or 0) / 1024, 1),
            "fds": _fd_count(pid),
            "cpu_s": round(benchlib.proc_cpu_seconds(pid), 1),
        }
        for pid in server.worker_pids
    }


async def phase_regency(args: argparse.Namespace, redis: Redis, root: Path) -> dict[str, Any]:
    offices = office_ids(args.offices)
    per_office = args.phones // args.offices
    configs = {o: office_toml(f"Kecamatan {o}", args.services, 100_000) for o in offices}
    server = ScaleServer(root / "regency", redis.url(1), args.workers, configs, single=False)
    await asyncio.to_thread(server.start)
    port = server.port
    out: dict[str, Any] = {"offices": args.offices, "tickets_per_office": per_office, "workers": args.workers}
    writers = await asyncio.to_thread(server.writers)
    out["writers"] = {str(k): v for k, v in writers.items()}
    print(f"# B: {args.offices} offices, {args.workers} workers at {server.base_url}; writers "
          f"{ {k: len(v) for k, v in writers.items()} } offices per worker pid", flush=True)  # fmt: skip
    receivers: Receivers | None = None
    try:
        tokens = {o: await asyncio.to_thread(server.officer_token, o) for o in offices}
        # 1. tickets
        tickets, wall, errors = await issue_tickets(port, server, offices, per_office, args.services, 32)
        out["setup_issue"] = {
            "tickets": len(tickets),
            "wall_s": wall,
            "per_s": len(tickets) / wall,
            "errors": errors,
        }
        print(f"# B: issued {len(tickets)} tickets in {wall:.1f} s ({len(tickets) / wall:.0f}/s), errors {errors[:2]}",  # noqa: E501
              flush=True)  # fmt: skip
        out["replicas_caught_up_s"] = await wait_replicas(server, offices, per_office)
        # 2. sockets
        specs = [SocketSpec(t.gid, False, f"/o/{t.office}/ws/tickets/{t.token}") for t in tickets]
        display_offices = offices[: max(1, min(args.display_offices, len(offices)))]
        displays: dict[str, list[int]] = {o: [] for o in display_offices}
        for k in range(args.displays):
            office = display_offices[k % len(display_offices)]
            gid = len(tickets) + k
            displays[office].append(gid)
            specs.append(SocketSpec(gid, True, f"/o/{office}/ws/display"))
        procs = max(1, args.procs)
        # interleaved, so each receiver holds phones and displays of every office
        plans = [ReceiverPlan(i, port, specs[i::procs], args.connect_concurrency) for i in range(procs)]
        await asyncio.sleep(1.0)
        rss_before = benchlib.tree_rss_kb(server.pid)
        workers_before = _per_worker(server)
        t_open = time.monotonic()
        cpu_open0 = benchlib.tree_cpu_seconds(server.pid)
        receivers = Receivers(plans)
        ready = await receivers.collect("ready", args.connect_timeout)
        open_wall = time.monotonic() - t_open
        opened = sum(int(m[2]) for m in ready)
        cpu_open = benchlib.tree_cpu_seconds(server.pid) - cpu_open0
        await asyncio.sleep(2.0)
        rss_after = benchlib.tree_rss_kb(server.pid)
        workers_after = _per_worker(server)
        out["sockets"] = {
            "wanted": len(specs),
            "phones": len(tickets),
            "displays": args.displays,
            "display_offices": display_offices,
            "opened": opened,
            "open_wall_s": open_wall,
            "server_cpu_open_s": cpu_open,
            "receiver_open": [
                {"opened": m[2], "wall_s": m[3], "cpu_s": m[4], "errors": m[5], "n_errors": m[6]}
                for m in ready
            ],
            "tree_rss_before_mb": rss_before / 1024,
            "tree_rss_after_mb": rss_after / 1024,
            "kb_per_socket": (rss_after - rss_before) / max(1, opened),
            "workers_before": workers_before,
            "workers_after": workers_after,
        }
        print(f"# B: {opened}/{len(specs)} sockets open in {open_wall:.1f} s; tree RSS {rss_before / 1024:.0f} -> "  # noqa: E501
              f"{rss_after / 1024:.0f} MB ({(rss_after - rss_before) / max(1, opened):.1f} KB/socket); "
              f"load {_loadavg()}", flush=True)  # fmt: skip
        # 3. call-next rounds
        out["rounds"] = await call_rounds(args, server, receivers, tickets, tokens, displays, display_offices)
        # 4. office load, interleaved
        if args.load_rounds > 0:
            out["load"] = await office_load(args, server, offices, tokens)
        out["workers_end"] = _per_worker(server)
    finally:
        if receivers is not None:
            out["receivers"] = await receivers.close()
            out["receiver_errors"] = receivers.errors
        await asyncio.to_thread(server.stop)
    return out


async def call_rounds(
    args: argparse.Namespace,
    server: ScaleServer,
    receivers: Receivers,
    tickets: list[Ticket],
    tokens: dict[str, str],
    displays: dict[str, list[int]],
    display_offices: list[str],
) -> dict[str, Any]:
    port = server.port
    services = args.services
    pending: dict[tuple[str, int], list[Ticket]] = {}
    for t in tickets:
        pending.setdefault((t.office, t.service), []).append(t)
    current: dict[tuple[str, int], Ticket | None] = {}
    # several connections, used in turn: the calls reach different workers (writer or not)
    https = [Http(port) for _ in range(args.call_connections)]
    phone_ms: list[float] = []
    phone_last_ms: list[float] = []
    display_last_ms: list[float] = []
    display_first_ms: list[float] = []
    http_ms: list[float] = []
    changed_counts: list[int] = []
    failures: list[str] = []
    missing_total = 0
    extra_total = 0
    extra_sample: list[int] = []
    wrong_kind = 0
    total = args.warmup_rounds + args.rounds
    cpu0 = benchlib.tree_cpu_seconds(server.pid)
    worker_cpu0 = {p: benchlib.proc_cpu_seconds(p) for p in server.worker_pids}
    t_rounds = time.monotonic()
    for r in range(total):
        office = display_offices[r % len(display_offices)]
        s = (r // len(display_offices)) % services
        queue = pending.get((office, s), [])
        if not queue:
            failures.append(f"round {r}: no ticket left in {office} s{s}")
            break
        expected_phones = [t.gid for t in queue]
        previous = current.get((office, s))
        if previous is not None:
            expected_phones.append(previous.gid)
        expected_displays = displays.get(office, [])
        receivers.send(("arm", r))
        await receivers.collect("armed", 30, key=lambda m, r=r: m[2] == r)
        raw = http_request(
            "POST", f"/o/{office}/api/v1/counters/{s + 1}/call-next", port, token=tokens[office]
        )
        http = https[r % len(https)]
        t0 = time.monotonic()
        status, body = await http.request(raw)
        t_http = time.monotonic()
        called = queue.pop(0)
        current[(office, s)] = called
        if status != 200:
            failures.append(f"round {r}: call-next {status} {body[:200]!r}")
            break
        number = json.loads(body).get("number")
        if number != called.number:
            failures.append(f"round {r}: called {number}, expected {called.number}")
        receivers.send(("expect", r, [*expected_phones, *expected_displays], args.round_timeout))
        results = await receivers.collect("result", args.round_timeout + 30, key=lambda m, r=r: m[2] == r)
        got: dict[int, tuple[float, bool]] = {}
        missing = 0
        extra = 0
        for msg in results:
            got.update(msg[3])
            missing += int(msg[5])
            extra += int(msg[7])
            if len(extra_sample) < 10:
                extra_sample.extend(msg[6][:5])
        disp_set = set(expected_displays)
        phones_t = [t - t0 for g, (t, _c) in got.items() if g not in disp_set]
        disp_t = [t - t0 for g, (t, _c) in got.items() if g in disp_set]
        called_entry = got.get(called.gid)
        if called_entry is not None and not called_entry[1]:
            wrong_kind += 1
        if missing:
            failures.append(f"round {r}: {missing} sockets without their frame within {args.round_timeout} s")
        if r >= args.warmup_rounds:
            missing_total += missing
            extra_total += extra
            changed_counts.append(len(expected_phones))
            phone_ms.extend(phones_t)
            if phones_t:
                phone_last_ms.append(max(phones_t))
            if disp_t:
                display_last_ms.append(max(disp_t))
                display_first_ms.append(min(disp_t))
            http_ms.append(t_http - t0)
        await asyncio.sleep(args.gap)
    wall = time.monotonic() - t_rounds
    for h in https:
        h.close()
    return {
        "rounds": args.rounds,
        "warmup_rounds": args.warmup_rounds,
        "offices_called": display_offices,
        "display_last_ms": benchlib.summarize_ms(display_last_ms),
        "display_first_ms": benchlib.summarize_ms(display_first_ms),
        "phone_ms": benchlib.summarize_ms(phone_ms),
        "phone_last_ms": benchlib.summarize_ms(phone_last_ms),
        "call_next_http_ms": benchlib.summarize_ms(http_ms),
        "changed_phones_per_round": statistics.median(changed_counts) if changed_counts else 0,
        "missing": missing_total,
        "extra_phones": extra_total,
        "extra_sample": extra_sample[:10],
        "called_phone_wrong_kind": wrong_kind,
        "failures": failures,
        "wall_s": wall,
        "server_cpu_s": benchlib.tree_cpu_seconds(server.pid) - cpu0,
        "worker_cpu_s": {str(p): round(benchlib.proc_cpu_seconds(p) - c, 2) for p, c in worker_cpu0.items()},
    }


async def office_load(
    args: argparse.Namespace, server: ScaleServer, offices: list[str], tokens: dict[str, str]
) -> dict[str, Any]:
    """Each office at a busy office's rate, the first office alone vs every office at once."""
    port = server.port
    alone = offices[0]
    per_round: list[dict[str, Any]] = []
    pooled: dict[str, dict[str, list[float]]] = {"alone": {}, "all": {}}
    statuses: dict[str, int] = {}

    async def one_office(office: str, t_start: float, t_end: float, lat: list[float]) -> None:
        issue_http, call_http = Http(port), Http(port)
        issue_raw = [
            http_request("POST", f"/o/{office}/api/v1/tickets", port, {"service": f"s{s}"})
            for s in range(args.services)
        ]
        call_raw = [
            http_request("POST", f"/o/{office}/api/v1/counters/{s + 1}/call-next", port, token=tokens[office])
            for s in range(args.services)
        ]
        phase = (offices.index(office) * 0.0137) % 1.0  # offices do not all fire at the same instant

        async def loop_(http: Http, raws: list[bytes], rate: float) -> None:
            if rate <= 0:
                return
            interval = 1.0 / rate
            scheduled = t_start + phase * interval
            n = 0
            while scheduled < t_end:
                delay = scheduled - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                status, _ = await http.request(raws[n % len(raws)])
                done = time.monotonic()
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                lat.append(done - scheduled)
                n += 1
                scheduled += interval

        try:
            await asyncio.gather(issue_http.connect(), call_http.connect())  # before the clock starts
            await asyncio.gather(
                loop_(issue_http, issue_raw, args.office_issue_rate),
                loop_(call_http, call_raw, args.office_call_rate),
            )
        finally:
            issue_http.close()
            call_http.close()

    for rr in range(args.load_rounds):
        order = ["alone", "all"] if rr % 2 == 0 else ["all", "alone"]
        entry: dict[str, Any] = {}
        for case in order:
            loaded = [alone] if case == "alone" else offices
            lats: dict[str, list[float]] = {o: [] for o in loaded}
            t_start = time.monotonic() + 0.5
            t_end = t_start + args.load_seconds
            cpu0 = benchlib.tree_cpu_seconds(server.pid)
            await asyncio.gather(*(one_office(o, t_start, t_end, lats[o]) for o in loaded))
            cpu = benchlib.tree_cpu_seconds(server.pid) - cpu0
            # the case lasts until its last answer, long after t_end when the server is overloaded
            case_wall = time.monotonic() - t_start + 0.5
            p99s = {o: benchlib.summarize_ms(v) for o, v in lats.items()}
            worst = max(p99s, key=lambda o: p99s[o].get("p99", 0))
            entry[case] = {
                "p99_ms": {o: round(v.get("p99", float("nan")), 2) for o, v in p99s.items()},
                "p50_ms": {o: round(v.get("p50", float("nan")), 2) for o, v in p99s.items()},
                "worst_office": worst,
                "worst_p99_ms": p99s[worst].get("p99", float("nan")),
                "median_office_p99_ms": statistics.median(v.get("p99", float("nan")) for v in p99s.values()),
                "requests": sum(len(v) for v in lats.values()),
                "server_cpu_pct": 100 * cpu / case_wall,
                "wall_s": case_wall,
            }
            for o, v in lats.items():
                pooled[case].setdefault(o, []).extend(v)
            await asyncio.sleep(1.0)
        per_round.append(entry)
        a, b = entry["alone"], entry["all"]
        print(f"# load round {rr}: alone {alone} p99 {a['worst_p99_ms']:.1f} ms; all {len(offices)} offices: "
              f"worst {b['worst_office']} p99 {b['worst_p99_ms']:.1f} ms, median office p99 "
              f"{b['median_office_p99_ms']:.1f} ms (load {_loadavg()})", flush=True)  # fmt: skip
    pooled_alone = benchlib.summarize_ms(pooled["alone"][alone])
    pooled_all = {o: benchlib.summarize_ms(v) for o, v in pooled["all"].items()}
    worst_pooled = max(pooled_all, key=lambda o: pooled_all[o].get("p99", 0))
    return {
        "alone_office": alone,
        "offices": len(offices),
        "issue_rate": args.office_issue_rate,
        "call_rate": args.office_call_rate,
        "seconds": args.load_seconds,
        "rounds": per_round,
        "median_alone_p99_ms": statistics.median(e["alone"]["worst_p99_ms"] for e in per_round),
        "median_all_worst_p99_ms": statistics.median(e["all"]["worst_p99_ms"] for e in per_round),
        "median_all_median_p99_ms": statistics.median(e["all"]["median_office_p99_ms"] for e in per_round),
        "median_alone_p50_ms": statistics.median(e["alone"]["p50_ms"][alone] for e in per_round),
        "median_all_p50_ms": statistics.median(
            statistics.median(e["all"]["p50_ms"].values()) for e in per_round
        ),
        "pooled_alone": pooled_alone,
        "pooled_all_worst_office": worst_pooled,
        "pooled_all_worst": pooled_all[worst_pooled],
        "pooled_all_same_office": pooled_all[alone],
        "statuses": statuses,
        "server_cpu_pct_alone": statistics.median(e["alone"]["server_cpu_pct"] for e in per_round),
        "server_cpu_pct_all": statistics.median(e["all"]["server_cpu_pct"] for e in per_round),
    }


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_report(res: dict[str, Any]) -> None:
    a = res.get("issue", {})
    b = res.get("regency", {})
    print(
        f"scale bench: {res['workers']} workers + redis on {res['cores']} cores; load average "
        f"{res['load_avg_start']} at start, {res['load_avg_end']} at end"
    )
    for name in ("closed", "open"):
        r = a.get(name)
        if not r:
            continue
        lat = r["latency_ms"]
        print(
            f"  issue, one office, {r['mode']}, {r['clients']} clients: {r['tickets_per_s']:.0f} tickets/s; "
            f"{benchlib.fmt_ms(lat)}; cpu server {r['server_cpu_pct']:.0f}% client {r['client_cpu_pct']:.0f}% "  # noqa: E501
            f"(of one core); statuses {r['statuses']}"
        )
        per = r["server_cpu_ms_per_ticket"] + r["redis_cpu_ms_per_ticket"]
        print(
            f"    cpu per ticket: workers {r['server_cpu_ms_per_ticket']:.2f} ms + redis "
            f"{r['redis_cpu_ms_per_ticket']:.2f} ms = {per:.2f} ms, i.e. at most {res['cores'] * 1000 / per:.0f} "  # noqa: E501
            f"tickets/s on {res['cores']} idle cores (no client, no colleagues)"
        )
    if "closed" in a:
        c = a["closed"]
        verdict = f">= {TARGET_ISSUE_TPS:.0f}/s: {_verdict(c['tickets_per_s'] >= TARGET_ISSUE_TPS)}"
        ps = [f"{n} p99 <= {TARGET_ISSUE_P99_MS:.0f} ms: {_verdict(a[n]['latency_ms'].get('p99', 1e9) <= TARGET_ISSUE_P99_MS)}"  # noqa: E501
              for n in ("closed", "open") if n in a]  # fmt: skip
        print(f"  target       issue {verdict}; " + "; ".join(ps))
    if not b:
        return
    s = b.get("sockets", {})
    if s:
        print(
            f"  regency      {b['offices']} offices x {b['tickets_per_office']} tickets (issued through the workers "  # noqa: E501
            f"at {b['setup_issue']['per_s']:.0f}/s); {s['phones']} phone + {s['displays']} display sockets "
            f"(displays on {', '.join(s['display_offices'])}) over {len(s['receiver_open'])} raw-WebSocket client "  # noqa: E501
            f"procs: {s['opened']} open in {s['open_wall_s']:.1f} s"
        )
        fds = {p: w["fds"] for p, w in s["workers_after"].items()}
        print(
            f"  memory       workers' tree RSS {s['tree_rss_before_mb']:.1f} MB -> {s['tree_rss_after_mb']:.1f} MB "  # noqa: E501
            f"with the sockets open: {s['kb_per_socket']:.1f} KB per socket; fds per worker {fds}"
        )
    r = b.get("rounds")
    if r:
        print(f"  call-next -> ticket.called on LAST display   {benchlib.fmt_ms(r['display_last_ms'])}")
        print(f"  call-next -> ticket.called on first display  {benchlib.fmt_ms(r['display_first_ms'])}")
        print(f"  call-next -> each changed phone's frame      {benchlib.fmt_ms(r['phone_ms'])}")
        print(f"  call-next -> LAST changed phone (per round)  {benchlib.fmt_ms(r['phone_last_ms'])}")
        print(f"  call-next HTTP answer                        {benchlib.fmt_ms(r['call_next_http_ms'])}")
        print(
            f"  rounds       {r['rounds']} (+{r['warmup_rounds']} warm-up) in {r['wall_s']:.1f} s, "
            f"{r['changed_phones_per_round']:.0f} changed phones per round (median); missing {r['missing']}, "
            f"phones updated outside the expected set {r['extra_phones']}, called phone's frame not "
            f"ticket.called {r['called_phone_wrong_kind']}; server cpu {r['server_cpu_s']:.1f} s, per worker "
            f"{r['worker_cpu_s']}"
        )
        for f in r["failures"][:5]:
            print(f"  failure      {f}")
    byes = b.get("receivers") or []
    if byes:
        print(
            "  receivers    "
            + "; ".join(
                f"frames {x['frames']} gaps {x['seq_gaps_display']} repeats {x['seq_repeats_phone']} lost {x['lost']} "  # noqa: E501
                f"rss {x['rss_mb']:.0f} MB"
                for x in byes
            )
        )
    if b.get("receiver_errors"):
        print(f"  receiver errors {b['receiver_errors'][:3]}")
    if s and r:
        d99 = r["display_last_ms"].get("p99", 1e9)
        p99 = r["phone_ms"].get("p99", 1e9)
        print(
            f"  target       last display p99 <= {TARGET_DISPLAY_P99_MS:.0f} ms: {_verdict(d99 <= TARGET_DISPLAY_P99_MS)}; "  # noqa: E501
            f"changed phones p99 <= {TARGET_PHONE_P99_MS:.0f} ms: {_verdict(p99 <= TARGET_PHONE_P99_MS)}; "
            f"<= {TARGET_KB_PER_SOCKET:.0f} KB/socket: {_verdict(s['kb_per_socket'] <= TARGET_KB_PER_SOCKET)}"
        )
    ld = b.get("load")
    if ld:
        print(
            f"  office load  {ld['issue_rate']:g} tickets/s + {ld['call_rate']:g} calls/s per office, "
            f"{len(ld['rounds'])} rounds x {ld['seconds']:g} s per case, interleaved:"
        )
        print(
            f"    {ld['alone_office']} alone:          median p99 {ld['median_alone_p99_ms']:.1f} ms "
            f"(p50 {ld['median_alone_p50_ms']:.1f} ms); pooled {benchlib.fmt_ms(ld['pooled_alone'])}; "
            f"server cpu {ld['server_cpu_pct_alone']:.0f}%"
        )
        print(
            f"    all {ld['offices']} offices:   median of the worst office's p99 {ld['median_all_worst_p99_ms']:.1f} ms, "  # noqa: E501
            f"of the median office's p99 {ld['median_all_median_p99_ms']:.1f} ms (p50 {ld['median_all_p50_ms']:.1f} ms); "  # noqa: E501
            f"pooled worst office {ld['pooled_all_worst_office']}: {benchlib.fmt_ms(ld['pooled_all_worst'])}; "  # noqa: E501
            f"server cpu {ld['server_cpu_pct_all']:.0f}%"
        )
        print(f"    statuses {ld['statuses']}")
        ok = ld["median_all_worst_p99_ms"] <= ld["median_alone_p99_ms"]
        print(f"  target       no office's p99 worse than one office alone: {_verdict(ok)} "
              f"({ld['median_all_worst_p99_ms']:.1f} vs {ld['median_alone_p99_ms']:.1f} ms, medians)")  # fmt: skip  # noqa: E501


# --------------------------------------------------------------------------- main


QUICK = {
    "phones": 2000,
    "displays": 100,
    "rounds": 10,
    "warmup_rounds": 4,
    "load_rounds": 1,
    "load_seconds": 4.0,
    "issue_duration": 4.0,
    "issue_warmup": 1.0,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, under a minute: " + str(QUICK))
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--offices", type=int, default=20)
    p.add_argument("--services", type=int, default=4, help="per office, one counter each")
    p.add_argument(
        "--phones", type=int, default=20_000, help="tickets issued = phone sockets (over all offices)"
    )
    p.add_argument("--displays", type=int, default=1000)
    p.add_argument("--display-offices", type=int, default=1,
                   help="spread the displays over the first N offices; rounds call those offices in turn")  # fmt: skip  # noqa: E501
    p.add_argument("--procs", type=int, default=3, help="socket client processes")
    p.add_argument(
        "--connect-concurrency", type=int, default=100, help="handshakes in flight per client proc"
    )
    p.add_argument("--connect-timeout", type=float, default=600.0)
    p.add_argument("--rounds", type=int, default=40, help="measured call-next rounds")
    p.add_argument("--warmup-rounds", type=int, default=4)
    p.add_argument("--round-timeout", type=float, default=10.0)
    p.add_argument("--gap", type=float, default=0.3, help="pause (s) between rounds")
    p.add_argument("--call-connections", type=int, default=8)
    p.add_argument("--issue-clients", type=int, default=32)
    p.add_argument("--issue-duration", type=float, default=10.0)
    p.add_argument("--issue-warmup", type=float, default=3.0)
    p.add_argument(
        "--issue-rate",
        type=float,
        default=0.0,
        help="open-loop run at this rate (default: --issue-open-fraction of the closed loop's)",
    )
    p.add_argument("--issue-open-fraction", type=float, default=0.5,
                   help="open-loop rate as a fraction of the measured closed-loop throughput (0: no open loop)")  # fmt: skip  # noqa: E501
    p.add_argument("--load-rounds", type=int, default=3, help="office-load rounds (each: alone, then all)")
    p.add_argument("--load-seconds", type=float, default=10.0)
    p.add_argument("--office-issue-rate", type=float, default=2.0)
    p.add_argument("--office-call-rate", type=float, default=1.0)
    p.add_argument("--skip", choices=["issue", "regency"], action="append", default=[])
    p.add_argument("--keep-dir", action="store_true")
    p.add_argument("--launcher", choices=["auto", "support", "own"], default="own",
                   help="accepted for run_all.py; this script always starts its own server and redis")  # fmt: skip  # noqa: E501
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    raw = list(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(raw)
    if args.quick:
        given = {a.split("=", 1)[0].lstrip("-").replace("-", "_") for a in raw if a.startswith("--")}
        for key, value in QUICK.items():
            if key not in given:
                setattr(args, key, value)
    if args.phones < args.offices or args.offices < 1 or args.workers < 1:
        p.error("need phones >= offices >= 1 and workers >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the server's workers inherit this limit: each must hold its share of the sockets
    soft, hard = benchlib.raise_nofile(args.phones + args.displays + 4096)
    print(
        f"# open-file limit {soft} (hard {hard}); load average {_loadavg()}; {mp.cpu_count()} cores",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="antre-bench-scale-"))
    res: dict[str, Any] = {
        "bench": "scale",
        "workers": args.workers,
        "cores": mp.cpu_count(),
        "load_avg_start": _loadavg(),
        "nofile": [soft, hard],
        "args": {k: v for k, v in vars(args).items() if k != "json"},
    }
    redis = Redis(root)
    redis.start()
    try:
        if "issue" not in args.skip:
            res["issue"] = phase_issue(args, redis, root)
        if "regency" not in args.skip:
            res["regency"] = _runner()(phase_regency(args, redis, root))
    finally:
        redis.stop()
        if not args.keep_dir:
            shutil.rmtree(root, ignore_errors=True)
    res["load_avg_end"] = _loadavg()
    print_report(res)
    benchlib.write_json(args.json, res)
    b = res.get("regency", {})
    failed = bool(b.get("receiver_errors")) or bool(b.get("rounds", {}).get("failures"))
    return 1 if failed else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
