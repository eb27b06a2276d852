"""Shared helpers for the Antre benchmarks: server launching, statistics, process readings.

Not a test module: pytest never collects it (see ``conftest.py`` in this folder).

The server is started with ``tests/support/server.py`` (``ServerProcess``) when that module
exists and ``--launcher`` is ``auto`` or ``support``; otherwise with the small launcher below,
which runs the same documented command lines.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "bench-results"  # ignored by git
HOST = "127.0.0.1"
OFFICER_NAME = "bench-officer"
OFFICER_PASSWORD = "bench-officer-password-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- config


def office_toml(
    *,
    capacity: int = 100_000,
    services: int = 4,
    counters: int = 4,
    name: str = "Benchmark Office",
) -> str:
    """A config with ``services`` services (ids ``s0``.., prefixes ``A``..) and ``counters``
    counters (ids ``1``..) that each call every service, and no issuing rate limit."""
    lines = [
        "[office]",
        f'name = "{name}"',
        'timezone = "Asia/Makassar"',
        'language = "en"',
        f"capacity = {capacity}",
        "",
    ]
    service_ids = [f"s{i}" for i in range(services)]
    for i, sid in enumerate(service_ids):
        prefix = chr(ord("A") + i % 26) + ("" if i < 26 else chr(ord("A") + i // 26 - 1))
        lines += ["[[services]]", f'id = "{sid}"', f'name = "Service {i}"', f'prefix = "{prefix}"']
        lines.append("")
    svc_list = ", ".join(f'"{s}"' for s in service_ids)
    for c in range(1, counters + 1):
        lines += ["[[counters]]", f'id = "{c}"', f'name = "Counter {c}"', f"services = [{svc_list}]"]
        lines.append("")
    lines += ["[limits]", "tickets_per_minute_per_address = 0", ""]
    return "\n".join(lines)


def service_ids(services: int) -> list[str]:
    return [f"s{i}" for i in range(services)]


# --------------------------------------------------------------------------- OS helpers


def raise_nofile(wanted: int = 8192) -> tuple[int, int]:
    """Raise the soft open-file limit towards ``wanted`` (capped by the hard limit).

    Children (the server) inherit it, so call this before starting the server."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def proc_status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` figure (``VmRSS``, ``VmHWM``...) from /proc/PID/status, or None."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def proc_tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (a uvicorn started through a wrapper is still found)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(raw.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    result: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        result.append(current)
        todo.extend(parents.get(current, []))
    return result


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    return sum(proc_cpu_seconds(p) for p in proc_tree_pids(pid))


def tree_rss_kb(pid: int) -> int:
    return sum(proc_status_kb(p, "VmRSS") or 0 for p in proc_tree_pids(pid))


def self_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile of already sorted values (0 <= pct <= 100)."""
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    rank = (len(sorted_values) - 1) * pct / 100.0
    lo = int(rank)
    hi = min(lo + 1, len(sorted_values) - 1)
    frac = rank - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


def summarize_ms(values_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean in milliseconds from values in seconds."""
    ordered = sorted(values_s)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "min": ordered[0] * 1000,
        "p50": percentile(ordered, 50) * 1000,
        "p95": percentile(ordered, 95) * 1000,
        "p99": percentile(ordered, 99) * 1000,
        "max": ordered[-1] * 1000,
        "mean": sum(ordered) / len(ordered) * 1000,
    }


def fmt_ms(stats: dict[str, float]) -> str:
    if not stats.get("n"):
        return "no samples"
    return (
        f"n={int(stats['n'])} min={stats['min']:.2f} p50={stats['p50']:.2f} "
        f"p95={stats['p95']:.2f} p99={stats['p99']:.2f} max={stats['max']:.2f} "
        f"mean={stats['mean']:.2f} ms"
    )


def write_json(path: str | None, data: dict[str, Any]) -> None:
    if not path:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------- HTTP (stdlib)


def http_json(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """A small blocking JSON request for setup steps (not used in timed paths)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# --------------------------------------------------------------------------- launchers


class Server(Protocol):
    base_url: str
    ws_url: str

    @property
    def pid(self) -> int: ...

    def officer_token(self) -> str: ...

    def stop(self) -> None: ...


@dataclass
class OwnServer:
    """Minimal launcher using the documented CLI (used when tests/support is absent)."""

    workdir: Path
    config_text: str
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    _token: str | None = None
    _log: Any = field(default=None, repr=False)
    extra_env: dict[str, str] = field(default_factory=dict)
    # the package run with ``python -m``; overridable to try the benchmarks on a stand-in
    module: str = field(default_factory=lambda: os.environ.get("ANTRE_BENCH_MODULE", "queue_server"))

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def db_path(self) -> Path:
        return self.workdir / "queue.db"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        for key in ("QUEUE_CONFIG", "QUEUE_DB", "QUEUE_HOST", "QUEUE_PORT"):
            env.pop(key, None)
        env.update(self.extra_env)
        return env

    def add_user(self, name: str, role: str, password: str) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                self.module,
                "user",
                "add",
                name,
                "--role",
                role,
                "--password-stdin",
                "--db",
                str(self.db_path),
            ],
            input=(password + "\n").encode(),
            cwd=self.workdir,
            env=self._env(),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self, timeout: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "office.toml"
        config.write_text(self.config_text)
        if not self.port:
            self.port = free_port()
        self.add_user(OFFICER_NAME, "officer", OFFICER_PASSWORD)
        self._log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                self.module,
                "serve",
                "--config",
                str(config),
                "--db",
                str(self.db_path),
                "--host",
                HOST,
                "--port",
                str(self.port),
            ],
            cwd=self.workdir,
            env=self._env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = http_json("GET", self.base_url + "/healthz", timeout=1.0)
                if status == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not healthy within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "server.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def officer_token(self) -> str:
        if self._token is None:
            status, body = http_json(
                "POST",
                self.base_url + "/api/v1/login",
                {"username": OFFICER_NAME, "password": OFFICER_PASSWORD},
            )
            if status != 200 or not isinstance(body, dict) or "token" not in body:
                raise RuntimeError(f"login failed: {status} {body}")
            self._token = str(body["token"])
        return self._token

    def stop(self) -> None:
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class SupportServer:
    """Adapter over ``tests/support/server.py``'s ``ServerProcess``."""

    inner: Any

    @property
    def base_url(self) -> str:
        return str(self.inner.base_url)

    @property
    def ws_url(self) -> str:
        return str(self.inner.ws_url)

    @property
    def pid(self) -> int:
        return int(self.inner.process.pid)

    def officer_token(self) -> str:
        return str(self.inner.officer_token())

    def stop(self) -> None:
        self.inner.stop()


def _support_class() -> Any | None:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        module = importlib.import_module("tests.support.server")
    except ImportError:
        return None
    return getattr(module, "ServerProcess", None)


@contextlib.contextmanager
def running_server(
    config_text: str,
    launcher: str = "auto",
    keep_dir: bool = False,
) -> Iterator[Server]:
    """Start a fresh server in a temporary folder (fresh database), stop it afterwards."""
    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="antre-bench-"))
    server: Server
    support = _support_class() if launcher in ("auto", "support") else None
    if launcher == "support" and support is None:
        raise RuntimeError("tests/support/server.py (ServerProcess) is not importable")
    if support is not None:
        inner = support(workdir, config_text=config_text)
        inner.start()
        server = SupportServer(inner)
    else:
        own = OwnServer(workdir, config_text)
        own.start()
        server = own
    print(
        f"# server pid {server.pid} at {server.base_url} ({type(server).__name__}), workdir {workdir}",
        flush=True,
    )
    try:
        yield server
    finally:
        server.stop()
        if not keep_dir:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)


def start_py_spy(
    pid: int, out: Path, rate: int = 200, native: bool = False, idle: bool = True
) -> subprocess.Popen[bytes]:
    """Start ``py-spy record`` on the server; stop it with :func:`stop_py_spy`.

    ``out`` ending in ``.txt`` gives collapsed stacks (read them with ``profile_summary.py``),
    ``.json`` speedscope, anything else an SVG flame graph."""
    exe = Path(sys.executable).with_name("py-spy")
    cmd = [str(exe if exe.exists() else "py-spy"), "record", "-p", str(pid), "-r", str(rate), "-o", str(out)]
    if out.suffix == ".txt":
        cmd += ["-f", "raw"]
    elif out.suffix == ".json":
        cmd += ["-f", "speedscope"]
    if native:
        cmd.append("--native")
    if idle:
        cmd.append("--idle")
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_py_spy(proc: subprocess.Popen[bytes], out: Path) -> None:
    """Stop a py-spy started by :func:`start_py_spy` and let it write its file."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    if out.exists():
        print(f"# py-spy profile written to {out}", flush=True)
    else:
        print(f"# py-spy wrote nothing: {err.decode(errors='replace')[-600:]}", flush=True)
