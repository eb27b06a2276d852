"""`serve --workers N` / `--broker` / `--edge`: worker processes sharing one listening socket.

The parent binds the port once and starts the workers (spawned, so none inherits the parent's
threads); each runs uvicorn on that socket with its own app (web/deployment.py). A worker that
dies is started again; SIGTERM or SIGINT stops them all gracefully and the parent exits 0.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from queue_server.domain.settings import OfficeConfig

log = logging.getLogger("queue_server.supervisor")

STOP_GRACE_SECONDS = 12.0
RESTART_PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process needs to build its app (picklable)."""

    offices: dict[str, OfficeConfig]
    databases: dict[str, Path] | None  # None: an edge worker
    broker_url: str
    single: bool
    host: str
    port: int
    log_level: str
    access_log: bool
    ssl_certfile: Path | None
    ssl_keyfile: Path | None


def run_worker(spec: WorkerSpec, sock: socket.socket) -> None:
    """The body of one worker process."""
    from queue_server import cli
    from queue_server.web.deployment import create_worker_app

    cli.configure_logging(spec.log_level)
    app = create_worker_app(spec.offices, spec.databases, spec.broker_url, spec.single)
    config = cli.uvicorn_config(
        app,
        host=spec.host,
        port=spec.port,
        access_log=spec.access_log,
        ssl_certfile=spec.ssl_certfile,
        ssl_keyfile=spec.ssl_keyfile,
    )
    import gc

    gc.set_threshold(20_000, 50, 1000)  # as for one process (cli._run)

    class WorkerServer(cli.server_class()):  # type: ignore[misc]
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            app.worker.shutting_down()  # the signal handler runs on the loop's thread, between callbacks

    server = WorkerServer(config)
    server.run(sockets=[sock])


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def supervise(spec: WorkerSpec, workers: int) -> int:
    """Run `workers` worker processes until told to stop; 0 on a clean stop."""
    try:
        sock = bind(spec.host, spec.port)
    except OSError as error:
        print(f"queue-server: cannot listen on {spec.host}:{spec.port}: {error.strerror}", flush=True)
        return 1
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start(index: int) -> BaseProcess:
        process = context.Process(target=run_worker, args=(spec, sock), name=f"antre-worker-{index}")
        process.start()
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "worker %s (pid %s) ended with %s; starting it again",
                        index,
                        process.pid,
                        process.exitcode,
                    )
                    time.sleep(RESTART_PAUSE_SECONDS)
                    processes[index] = start(index)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: each worker stops gracefully
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
        sock.close()
    return 0
