"""Run the real Antre server in a subprocess, for black-box tests.

`ServerProcess` owns one working folder holding the office config, the SQLite
database and the server's log. It starts `python -m queue_server serve` on
127.0.0.1, waits for `GET /healthz`, and creates accounts through the
`user add` command, exactly as an operator would.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

#: Accounts made by the role-token helpers: role -> (username, password).
ROLE_ACCOUNTS: dict[str, tuple[str, str]] = {
    "officer": ("petugas", "sandi-petugas-uji-1"),
    "admin": ("kepala", "sandi-kepala-uji-1"),
    "door": ("pintu", "sandi-pintu-uji-1"),
}

_QUEUE_ENV = ("QUEUE_CONFIG", "QUEUE_DB", "QUEUE_HOST", "QUEUE_PORT")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def office_toml(
    *,
    capacity: int = 10,
    closed_counters: tuple[str, ...] = (),
    limits: dict[str, int] | None = None,
) -> str:
    """Build the test office's TOML: services `a`, `b`; counters 1-6."""
    lines = [
        "[office]",
        'name = "Kantor Uji"',
        'timezone = "Asia/Makassar"',
        'language = "id"',
        f"capacity = {capacity}",
        "",
        "[[services]]",
        'id = "a"',
        'name = "Layanan A"',
        'prefix = "A"',
        "",
        "[[services]]",
        'id = "b"',
        'name = "Layanan B"',
        'prefix = "B"',
        "",
    ]
    for number in range(1, 7):
        services = '["a", "b"]' if number <= 3 else '["b", "a"]'
        lines += [
            "[[counters]]",
            f'id = "{number}"',
            f'name = "Loket {number}"',
            f"services = {services}",
        ]
        if str(number) in closed_counters:
            lines.append("open = false")
        lines.append("")
    if limits:
        lines.append("[limits]")
        lines += [f"{key} = {value}" for key, value in limits.items()]
        lines.append("")
    return "\n".join(lines)


SMALL_OFFICE_TOML: str = office_toml()


#: The type of the `server_factory` fixture: `(config_text=..., *, start=True, port=None,
#: extra_env=None) -> ServerProcess`.
ServerFactory = Callable[..., "ServerProcess"]


def _prctl() -> Callable[..., int] | None:
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    return None


# Looked up here, in the parent: the child of a process with threads must not dlopen() between
# fork and exec (it can deadlock on a loader lock another thread held at the fork).
_PRCTL = _prctl()


def _die_with_parent() -> None:
    """In the child before exec (Linux): get SIGTERM when the test process dies, e.g. on a timeout."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ServerStartError(RuntimeError):
    """The server exited or never answered /healthz."""


def server_env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a server subprocess: ours, minus QUEUE_*, plus the repo on the path."""
    env = {key: value for key, value in os.environ.items() if key not in _QUEUE_ENV}
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{REPO_ROOT}{os.pathsep}{path}" if path else str(REPO_ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    return env


def wait_for_health(base_url: str, process: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """Poll `GET /healthz` until it answers 200; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while True:
            code = process.poll()
            if code is not None:
                raise ServerStartError(f"server exited with code {code} before it was ready")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ServerStartError(f"server not healthy after {timeout} s")
            time.sleep(0.02)


def run_cli(
    *args: str,
    cwd: Path,
    input_text: str | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m queue_server ARGS`; return the finished process (never raises on rc)."""
    return subprocess.run(
        [sys.executable, "-m", "queue_server", *args],
        cwd=cwd,
        env=server_env(extra_env),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def make_accounts_db(db_path: Path) -> Path:
    """Create a database holding the ROLE_ACCOUNTS (via `user add`); return its path.

    Hashing passwords in a fresh CLI process takes most of a second per account,
    so a session makes this once and `ServerProcess.seed_database` copies it.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for role, (name, password) in ROLE_ACCOUNTS.items():
        done = run_cli(
            "user", "add", name, "--role", role, "--password-stdin", "--db", str(db_path),
            cwd=db_path.parent, input_text=password + "\n",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"user add {name} failed: {done.stdout}{done.stderr}")
    return db_path


_STOPPING: list[ServerProcess] = []


def reap_stopping(timeout: float = 15.0) -> None:
    """Wait for every server sent SIGTERM by `stop_soon` (SIGKILL after `timeout`)."""
    while _STOPPING:
        _STOPPING.pop().stop(timeout=timeout)


class ServerProcess:
    """One Antre server in a subprocess, with its config, database and log in `workdir`.

    On Linux the server gets SIGTERM when the thread that started it ends (so a
    killed test run leaves no server behind): start servers from a long-lived thread.
    """

    def __init__(
        self,
        workdir: Path,
        config_text: str = SMALL_OFFICE_TOML,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._port_given = port is not None
        self.port: int = port if port is not None else free_port()
        self.config_path: Path = self.workdir / "office.toml"
        self.config_path.write_text(config_text, encoding="utf-8")
        self.db_path: Path = self.workdir / "queue.db"
        self.log_path: Path = self.workdir / "server.log"
        self.extra_env: dict[str, str] = dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._users: set[str] = set()
        self._started_once = False

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        """`ws://127.0.0.1:PORT`."""
        return f"ws://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the subprocess is alive."""
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- life cycle ---------------------------------------------------------

    def start(self, timeout: float = 20.0) -> None:
        """Spawn the server and wait until /healthz answers 200 (no-op if already running)."""
        if self.running:
            return
        # A port picked by free_port() can be taken by someone else before the
        # server binds it; only on the first start, pick another and retry.
        attempts = 3 if not (self._port_given or self._started_once) else 1
        for attempt in range(attempts):
            log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self._spawn()
            try:
                assert self.process is not None
                wait_for_health(self.base_url, self.process, timeout)
            except ServerStartError as exc:
                self._reap()
                new_log = self.log_text()[log_offset:]
                if attempt + 1 < attempts and "address already in use" in new_log.lower():
                    self.port = free_port()
                    continue
                raise ServerStartError(f"{exc}; log:\n{new_log[-4000:]}") from None
            self._started_once = True
            return

    def _spawn(self) -> None:
        self._log_file = self.log_path.open("ab")
        cmd = [
            sys.executable, "-m", "queue_server", "serve",
            "--config", str(self.config_path),
            "--db", str(self.db_path),
            "--host", HOST,
            "--port", str(self.port),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            env=server_env(self.extra_env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def _reap(self) -> None:
        """Make sure the process (and its group) is gone; close the log."""
        if self.process is not None and self.process.poll() is None:
            self._kill_group()
            self.process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _kill_group(self) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig`, wait up to `timeout` s (then SIGKILL); return the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.process.wait()
        code = self.process.returncode
        self._reap()
        return int(code)

    def stop_soon(self) -> None:
        """Send SIGTERM now and reap the process later (`reap_stopping`), without waiting."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
        _STOPPING.append(self)
        for proc in list(_STOPPING):  # tidy up the ones that are gone meanwhile
            if not proc.running:
                proc._reap()
                _STOPPING.remove(proc)

    def kill(self) -> None:
        """SIGKILL the server (kill -9) and wait for it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._kill_group()
            self.process.wait()
        self._reap()

    def restart(self) -> None:
        """Stop with SIGTERM, then start again on the same port and database."""
        self.stop()
        self.start()

    # -- accounts -----------------------------------------------------------

    def cli(
        self, *args: str, input_text: str | None = None, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `python -m queue_server ARGS` in the workdir; return the finished process."""
        return run_cli(*args, cwd=self.workdir, input_text=input_text, extra_env=self.extra_env,
                       timeout=timeout)  # fmt: skip

    def seed_database(self, template: Path, users: Iterable[str] = ()) -> None:
        """Before starting: copy the SQLite file `template` to db_path; `users` count as added."""
        if self.running:
            raise RuntimeError("seed_database needs a stopped server")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{template}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{self.db_path}{suffix}")
        self._users.update(users)

    def add_user(self, name: str, role: str, password: str) -> None:
        """Create or update an account with `queue_server user add` against `db_path`."""
        done = self.cli(
            "user", "add", name, "--role", role, "--password-stdin", "--db", str(self.db_path),
            input_text=password + "\n",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"user add {name} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def login(self, name: str, password: str) -> str:
        """POST /api/v1/login and return the bearer token."""
        resp = httpx.post(
            f"{self.base_url}/api/v1/login",
            json={"username": name, "password": password},
            timeout=15.0,
        )
        if resp.status_code != 200:
            raise RuntimeError(f"login {name} failed: {resp.status_code} {resp.text}")
        token = resp.json()["token"]
        assert isinstance(token, str) and token
        return token

    def role_token(self, role: str) -> str:
        """Create the role's test account once (see ROLE_ACCOUNTS) and log in."""
        name, password = ROLE_ACCOUNTS[role]
        if name not in self._users:
            self.add_user(name, role, password)
            self._users.add(name)
        return self.login(name, password)

    def officer_token(self) -> str:
        """A bearer token of user `petugas` (role officer)."""
        return self.role_token("officer")

    def admin_token(self) -> str:
        """A bearer token of user `kepala` (role admin)."""
        return self.role_token("admin")

    def door_token(self) -> str:
        """A bearer token of user `pintu` (role door)."""
        return self.role_token("door")

    def log_text(self) -> str:
        """Everything the server printed so far (all starts)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")
