"""A real Redis and a real `serve --workers N --broker ...` deployment, for the scale-out tests.

`RedisServer` runs Debian's `redis-server` on a free loopback port (no persistence), and can be
stopped and started again on the same port. `Cluster` runs `python -m queue_server serve` with
workers on that broker, one office (`--config`) or a folder of them (`--config-dir`), and helps
to talk to one particular worker: connections to the shared port are spread over the workers by
the kernel, so a client is kept only once `/healthz` on its connection names the wanted pid.
`Watcher` follows a display or phone socket on a thread and records every frame, reconnecting
with `?since=` as a screen does when it is closed (or its worker dies).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from tests.support.server import (
    HOST,
    ROLE_ACCOUNTS,
    ServerStartError,
    _die_with_parent,
    free_port,
    server_env,
    wait_for_health,
)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
API = "/api/v1"
Json = dict[str, Any]


def eventually(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Call `check` until it returns something truthy (its value is returned) or time runs out."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except (httpx.TransportError, OSError) as error:
            last = error
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
        time.sleep(interval)


# ----- Redis -------------------------------------------------------------------------------


class RedisServer:
    """One redis-server on 127.0.0.1, `--save '' --appendonly no`: a restart starts it empty."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        self._log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--save", "", "--appendonly", "no", "--port", str(self.port),
             "--bind", HOST, "--dir", str(self.workdir)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )  # fmt: skip
        eventually(self.ping, timeout, f"redis-server on port {self.port} answers PING")

    def ping(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


# ----- the deployment ----------------------------------------------------------------------


def _pid_of_connection(client: httpx.Client, prefix: str = "") -> int:
    return int(client.get(f"{prefix}/healthz").json()["pid"])


class Cluster:
    """`serve --workers N --broker URL` (or `--edge`) in a subprocess, with its own folder."""

    def __init__(
        self,
        workdir: Path,
        broker_url: str,
        *,
        workers: int = 3,
        config_text: str | None = None,
        offices: dict[str, str] | None = None,
        accounts_db: Path | None = None,
        edge: bool = False,
        config_from: Cluster | None = None,
    ) -> None:
        """One office from `config_text`, or a folder of `offices` (id -> TOML text) under /o/<id>.

        `config_from`: an edge deployment serving the offices (same files) of another cluster.
        """
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker_url = broker_url
        self.workers = workers
        self.edge = edge
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "server.log"
        self._log: IO[bytes] | None = None
        self._pinned: dict[int, httpx.Client] = {}
        self._tokens: dict[str, str] = {}
        if config_from is not None:
            self.config_args = config_from.config_args
            self.office_ids = config_from.office_ids
            self.single = config_from.single
            return
        if offices is None:
            assert config_text is not None
            config = self.workdir / "office.toml"
            config.write_text(config_text, encoding="utf-8")
            db = self.workdir / "queue.db"
            if accounts_db is not None:
                shutil.copyfile(accounts_db, db)
            self.config_args = ["--config", str(config), "--db", str(db)]
            self.office_ids = ["default"]
            self.single = True
        else:
            folder = self.workdir / "offices"
            data = self.workdir / "data"
            folder.mkdir(exist_ok=True)
            data.mkdir(exist_ok=True)
            for office_id, text in offices.items():
                (folder / f"{office_id}.toml").write_text(text, encoding="utf-8")
                if accounts_db is not None:
                    shutil.copyfile(accounts_db, data / f"{office_id}.db")
            self.config_args = ["--config-dir", str(folder), "--data-dir", str(data)]
            self.office_ids = sorted(offices)
            self.single = False

    # -- addresses ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def prefix(self, office: str | None = None) -> str:
        """'' with one office, else '/o/<office>' (the first office by default)."""
        if self.single:
            return ""
        return f"/o/{office or self.office_ids[0]}"

    # -- life cycle --------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        self._log = self.log_path.open("ab")
        cmd = [
            sys.executable, "-m", "queue_server", "serve", *self.config_args,
            "--host", HOST, "--port", str(self.port),
            "--workers", str(self.workers), "--broker", self.broker_url,
            *(["--edge"] if self.edge else []),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            cmd, cwd=self.workdir, env=server_env(), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )  # fmt: skip
        try:
            wait_for_health(self.base_url, self.process, timeout)
            eventually(lambda: len(self.healths()) == self.workers, timeout, "every worker answers /healthz")
            if not self.edge:
                for office in self.office_ids:
                    self.writer_pid(office, timeout)
            eventually(self._replicas_loaded, timeout, "every worker serves the office's state")
        except (ServerStartError, AssertionError) as error:
            raise ServerStartError(f"{error}; log:\n{self.log_text()[-4000:]}") from None

    def _replicas_loaded(self) -> bool:
        for client in self.pinned().values():
            for office in self.office_ids:
                if client.get(f"{self.prefix(office)}{API}/state").status_code != 200:
                    return False
        return True

    def stop(self) -> None:
        for client in self._pinned.values():
            client.close()
        self._pinned.clear()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind, if any
            self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    # -- workers -----------------------------------------------------------------------

    def client(self, **kwargs: Any) -> httpx.Client:
        """A client with its own connections (the kernel picks the worker)."""
        return httpx.Client(
            base_url=self.base_url, timeout=kwargs.pop("timeout", 15.0), trust_env=False, **kwargs
        )

    def pinned(self, want: int | None = None, seconds: float = 30.0) -> dict[int, httpx.Client]:
        """One keep-alive client per worker, by pid (`want` workers, default all of them).

        A client idle for 5 s loses its connection (uvicorn's keep-alive), so each is checked
        again here and replaced when it now lands elsewhere.
        """
        want = self.workers if want is None else want
        for pid, client in list(self._pinned.items()):
            try:
                same = _pid_of_connection(client) == pid
            except httpx.TransportError:
                same = False
            if not same:
                client.close()
                del self._pinned[pid]
        end = time.monotonic() + seconds
        while len(self._pinned) < want and time.monotonic() < end:
            client = httpx.Client(
                base_url=self.base_url, timeout=15.0, trust_env=False,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60),
            )  # fmt: skip
            try:
                pid = _pid_of_connection(client)
            except httpx.TransportError:
                client.close()
                time.sleep(0.05)
                continue
            if pid in self._pinned:
                client.close()
            else:
                self._pinned[pid] = client
        assert len(self._pinned) >= want, f"reached only workers {sorted(self._pinned)} of {want}"
        return dict(self._pinned)

    def own_client_on(self, pid: int, seconds: float = 30.0) -> httpx.Client:
        """A new keep-alive client of the caller's own (one connection, for one thread), served
        by worker `pid`; it stays there while it is used at least every few seconds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            client = httpx.Client(
                base_url=self.base_url, timeout=15.0, trust_env=False,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60),
            )  # fmt: skip
            with contextlib.suppress(httpx.TransportError):
                if _pid_of_connection(client) == pid:
                    return client
            client.close()
        raise AssertionError(f"no connection reached worker {pid} within {seconds} s")

    def on(self, pid: int) -> httpx.Client:
        """A keep-alive client whose connection is served by worker `pid`, checked just now
        (shared: for the test's own thread; threads take `own_client_on`)."""
        client = self.pinned().get(pid)
        assert client is not None, f"worker {pid} not reachable; workers: {sorted(self._pinned)}"
        return client

    def healths(
        self, seconds: float = 10.0, enough: Callable[[dict[int, Json]], bool] | None = None
    ) -> dict[int, Json]:
        """/healthz of every worker reached within `seconds` (or until `enough`), by pid: the
        kept connections first, then fresh ones (a dead worker never answers)."""
        answers: dict[int, Json] = {}
        for client in list(self._pinned.values()):
            with contextlib.suppress(httpx.TransportError):
                body = client.get("/healthz", timeout=5.0).json()
                answers[int(body["pid"])] = body
        end = time.monotonic() + seconds
        while len(answers) < self.workers and not (enough and enough(answers)):
            if time.monotonic() > end:
                break
            with self.client(timeout=5.0) as client, contextlib.suppress(httpx.TransportError):
                body = client.get("/healthz").json()
                answers[int(body["pid"])] = body
        return answers

    def writer_pid(self, office: str | None = None, timeout: float = 10.0) -> int:
        """The pid of the worker whose /healthz lists the office in `writer_for`."""
        office = office or self.office_ids[0]

        def writes(answers: dict[int, Json]) -> bool:
            return any(office in body["writer_for"] for body in answers.values())

        def find() -> int | None:
            for pid, body in self.healths(2.0, writes).items():
                if office in body["writer_for"]:
                    return pid
            return None

        return int(eventually(find, timeout, f"a worker reports writer_for {office}"))

    # -- accounts ----------------------------------------------------------------------

    def officer(self, office: str | None = None) -> dict[str, str]:
        """The Authorization header of the test officer (`petugas`) of an office."""
        office = office or self.office_ids[0]
        if office not in self._tokens:
            name, password = ROLE_ACCOUNTS["officer"]
            with self.client() as client:
                answer = client.post(
                    f"{self.prefix(office)}{API}/login", json={"username": name, "password": password}
                )
            assert answer.status_code == 200, answer.text
            self._tokens[office] = answer.json()["token"]
        return {"Authorization": f"Bearer {self._tokens[office]}"}


# ----- sockets -----------------------------------------------------------------------------


def open_socket_on(
    base: str, path: str, pid: int | None, attempts: int = 300
) -> tuple[int, ClientConnection]:
    """A WebSocket to `path`, on worker `pid` when given (a keep-alive GET /healthz on the same
    TCP connection tells which worker holds it before the upgrade). Returns (pid, socket)."""
    host, _, port = base.removeprefix("ws://").partition(":")
    for _ in range(attempts):
        sock = socket.create_connection((host, int(port)), timeout=10)
        try:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed")
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += sock.recv(4096)
            got = int(json.loads(body)["pid"])
        except (OSError, ConnectionError, StopIteration, ValueError):
            sock.close()
            time.sleep(0.05)
            continue
        if pid is not None and got != pid:
            sock.close()
            continue
        sock.settimeout(None)
        try:
            websocket = connect(f"{base}{path}", sock=sock, proxy=None, open_timeout=10, compression=None)
            websocket.__enter__()  # (websockets 17 warns about a connection used without it)
        except (OSError, InvalidHandshake):
            sock.close()
            time.sleep(0.05)
            continue
        return got, websocket
    raise AssertionError(f"could not open {path} on worker {pid}")


class Watcher:
    """One display (or phone) socket followed on a thread; every frame is kept in order.

    When the socket closes (code 4000 `behind`, a worker killed, the broker's loss) it reconnects,
    to any worker, with `?since=<last seq seen>` for a display, as the screens do.
    """

    def __init__(self, cluster: Cluster, path: str, pid: int | None = None, since: int | None = None) -> None:
        self.cluster = cluster
        self.path = path
        self.display = "/ws/display" in path
        self.frames: list[Json] = []
        self.pids: list[int] = []  # the worker of each connection, in order
        self.closes: list[int | None] = []
        self._stop = threading.Event()
        self._socket: ClientConnection | None = None
        self._lock = threading.Lock()
        first_pid, self._socket = open_socket_on(cluster.ws_url, self._path(since), pid)
        self.pids.append(first_pid)
        self.pid = first_pid
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _path(self, since: int | None) -> str:
        return self.path if since is None else f"{self.path}?since={since}"

    @property
    def last_seq(self) -> int | None:
        with self._lock:
            return self.frames[-1]["seq"] if self.frames else None

    def _run(self) -> None:
        while not self._stop.is_set():
            assert self._socket is not None
            try:
                for message in self._socket:
                    frame = json.loads(message)
                    with self._lock:
                        self.frames.append(frame)
            except ConnectionClosed:
                pass
            except OSError:
                pass
            self.closes.append(self._socket.close_code)
            if self._stop.is_set():
                return
            deadline = time.monotonic() + 30
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    since = self.last_seq if self.display else None
                    pid, self._socket = open_socket_on(
                        self.cluster.ws_url, self._path(since), None, attempts=3
                    )
                except (AssertionError, OSError):
                    time.sleep(0.1)
                    continue
                self.pids.append(pid)
                break

    def close(self) -> None:
        self._stop.set()
        if self._socket is not None:
            with contextlib.suppress(Exception):
                self._socket.close()
        self._thread.join(10)

    # -- what was received -------------------------------------------------------------

    def events(self) -> list[Json]:
        with self._lock:
            return [f for f in self.frames if f.get("type") != "snapshot"]

    def seqs(self) -> list[int]:
        return [int(f["seq"]) for f in self.events()]

    def wait_for_seq(self, seq: int, timeout: float = 10.0) -> None:
        eventually(
            lambda: (self.last_seq or 0) >= seq, timeout, f"{self.path} on {self.pids} reaches seq {seq}"
        )

    def gaps(self) -> list[str]:
        """What a screen would have missed or seen twice: every frame must follow the one before."""
        problems: list[str] = []
        with self._lock:
            frames = list(self.frames)
        last: int | None = None
        for frame in frames:
            seq = int(frame["seq"])
            if frame.get("type") == "snapshot":
                # a fresh snapshot is whole: fine at the start, a gap if it jumps over events
                if last is not None and self.display and seq > last:
                    problems.append(f"snapshot at {seq} after {last}: events {last + 1}..{seq} never sent")
                if last is not None and seq < last:
                    problems.append(f"snapshot at {seq} after {last}: went back")
                last = seq if last is None else max(last, seq)
                continue
            if last is not None and self.display and seq != last + 1:
                problems.append(f"event {seq} ({frame.get('type')}) after {last}")
            if last is not None and not self.display and seq <= last:
                problems.append(f"phone frame {seq} after {last}")
            last = seq
        return problems


@contextlib.contextmanager
def watching(cluster: Cluster, path: str, pids: list[int | None]) -> Iterator[list[Watcher]]:
    watchers: list[Watcher] = []
    try:
        for pid in pids:
            watchers.append(Watcher(cluster, path, pid))
        for watcher in watchers:
            # A screen starts from its snapshot: until it has it, the worker may still be reading the
            # office's picture, and what happens meanwhile is in the snapshot, not in the events.
            eventually(lambda w=watcher: w.frames, 15, f"the first frame on {path}")
        yield watchers
    finally:
        for watcher in watchers:
            watcher.close()
