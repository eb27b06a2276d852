"""Ticket issue throughput and latency: ``POST /api/v1/tickets`` from N keep-alive clients.

Two modes:

* closed loop (default): every client sends its next request as soon as the previous answer
  arrived, so the figure is the server's saturation throughput; latency then includes
  the queueing that saturation causes (Little's law: mean latency ~= clients / throughput).
* open loop (``--rate R``): requests are scheduled at R per second spread over the clients, and
  each latency is measured from the *scheduled* send time (no coordinated omission), so the
  figure is the latency at that offered load.

The load generator is a raw asyncio HTTP/1.1 client (one persistent connection per client,
uvloop when installed) so it costs little CPU; its own CPU share is printed so you can see
that it is not the bottleneck.  ``--procs`` spreads the clients over several processes.

Run:  .venv/bin/python tests/bench/bench_issue.py [--duration 10] [--warmup 3] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import benchlib

TARGET_TPS = 2000.0
TARGET_P99_MS = 30.0


# --------------------------------------------------------------------------- raw HTTP/1.1


class _HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is not None and not self.waiter.done():
            parsed = self._parse()
            if parsed is not None:
                self.waiter.set_result(parsed)

    def _parse(self) -> tuple[int, bytes, bool] | None:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = 0
        chunked = False
        close = False
        for line in head[1:]:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "content-length":
                length = int(value)
            elif key == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif key == "connection" and "close" in value.lower():
                close = True
        start = end + 4
        if not chunked:
            if len(buf) < start + length:
                return None
            body = bytes(buf[start : start + length])
            del buf[: start + length]
            return status, body, close
        body_parts: list[bytes] = []
        pos = start
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            chunk_start = line_end + 2
            if len(buf) < chunk_start + size + 2:
                return None
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return None
                del buf[: trailer_end + 4]
                return status, b"".join(body_parts), close
            body_parts.append(bytes(buf[chunk_start : chunk_start + size]))
            pos = chunk_start + size + 2

    async def request(self, raw: bytes) -> tuple[int, bytes, bool]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.transport.write(raw)
        return await self.waiter


async def _connect(port: int) -> _HttpConnection:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(_HttpConnection, benchlib.HOST, port)
    return proto


def _build_requests(port: int, services: list[str]) -> list[bytes]:
    out = []
    for sid in services:
        body = json.dumps({"service": sid}).encode()
        out.append(
            b"POST /api/v1/tickets HTTP/1.1\r\n"
            + f"Host: {benchlib.HOST}:{port}\r\n".encode()
            + b"Content-Type: application/json\r\nAccept: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return out


# --------------------------------------------------------------------------- worker


@dataclass
class WorkerPlan:
    port: int
    base_url: str
    services: list[str]
    client_ids: list[int]
    total_clients: int
    t_go: float  # time.monotonic() (system-wide on Linux): first request
    t_measure: float  # end of warm-up
    t_end: float  # end of measurement
    rate: float  # 0 = closed loop; else total requests/s across all clients
    client: str  # "raw" or "httpx"


@dataclass
class WorkerResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    total_201: int = 0
    errors: list[str] = field(default_factory=list)
    bad_bodies: int = 0
    cpu_window: float = 0.0
    reconnects: int = 0


def _check_body(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "token" in data and "number" in data


async def _sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _raw_client(cid: int, plan: WorkerPlan, result: WorkerResult) -> None:
    requests = _build_requests(plan.port, plan.services)
    conn = await _connect(plan.port)
    n = cid
    interval = plan.total_clients / plan.rate if plan.rate > 0 else 0.0
    scheduled = plan.t_go + (cid / plan.total_clients) * interval
    await _sleep_until(plan.t_go)
    for _ in range(10_000_000):  # bounded; the deadline ends it long before
        if plan.rate > 0:
            if scheduled >= plan.t_end:
                break
            await _sleep_until(scheduled)
            t0 = scheduled
            scheduled += interval
        else:
            t0 = time.monotonic()
            if t0 >= plan.t_end:
                break
        raw = requests[n % len(requests)]
        n += 1
        try:
            status, body, close = await conn.request(raw)
        except ConnectionError as exc:
            result.errors.append(str(exc))
            conn = await _connect(plan.port)
            result.reconnects += 1
            continue
        t1 = time.monotonic()
        if status == 201:
            result.total_201 += 1
            if n % 64 == 0 and not _check_body(body):
                result.bad_bodies += 1
        elif len(result.errors) < 20:
            result.errors.append(f"{status} {body[:200]!r}")
        if t0 >= plan.t_measure and t1 <= plan.t_end:
            result.latencies.append(t1 - t0)
            result.statuses[status] += 1
        if close or conn.closed:
            if conn.transport is not None:
                conn.transport.close()
            conn = await _connect(plan.port)
            result.reconnects += 1
    if conn.transport is not None:
        conn.transport.close()


async def _httpx_client(cid: int, plan: WorkerPlan, result: WorkerResult, client: Any) -> None:
    n = cid
    interval = plan.total_clients / plan.rate if plan.rate > 0 else 0.0
    scheduled = plan.t_go + (cid / plan.total_clients) * interval
    await _sleep_until(plan.t_go)
    url = plan.base_url + "/api/v1/tickets"
    for _ in range(10_000_000):
        if plan.rate > 0:
            if scheduled >= plan.t_end:
                break
            await _sleep_until(scheduled)
            t0 = scheduled
            scheduled += interval
        else:
            t0 = time.monotonic()
            if t0 >= plan.t_end:
                break
        sid = plan.services[n % len(plan.services)]
        n += 1
        resp = await client.post(url, json={"service": sid})
        t1 = time.monotonic()
        if resp.status_code == 201:
            result.total_201 += 1
        elif len(result.errors) < 20:
            result.errors.append(f"{resp.status_code} {resp.text[:200]}")
        if t0 >= plan.t_measure and t1 <= plan.t_end:
            result.latencies.append(t1 - t0)
            result.statuses[resp.status_code] += 1


async def _cpu_sampler(plan: WorkerPlan, result: WorkerResult) -> None:
    await _sleep_until(plan.t_measure)
    c0 = benchlib.self_cpu_seconds()
    await _sleep_until(plan.t_end)
    result.cpu_window = benchlib.self_cpu_seconds() - c0


async def _run_worker_async(plan: WorkerPlan) -> WorkerResult:
    result = WorkerResult()
    sampler = asyncio.create_task(_cpu_sampler(plan, result))
    if plan.client == "httpx":
        import httpx

        limits = httpx.Limits(
            max_connections=len(plan.client_ids), max_keepalive_connections=len(plan.client_ids)
        )
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            await asyncio.gather(*(_httpx_client(c, plan, result, client) for c in plan.client_ids))
    else:
        await asyncio.gather(*(_raw_client(c, plan, result) for c in plan.client_ids))
    await sampler
    return result


def _new_loop_runner() -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def run_worker(plan: WorkerPlan) -> WorkerResult:
    benchlib.raise_nofile()
    return _new_loop_runner()(_run_worker_async(plan))


def _worker_entry(plan: WorkerPlan, queue: Any) -> None:
    try:
        queue.put(run_worker(plan))
    except BaseException as exc:
        queue.put(exc)
        raise


# --------------------------------------------------------------------------- main


def _server_cpu_thread(pid: int, t_measure: float, t_end: float, out: dict[str, float]) -> None:
    delay = t_measure - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    c0 = benchlib.tree_cpu_seconds(pid)
    rss0 = benchlib.tree_rss_kb(pid)
    delay = t_end - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    out["cpu"] = benchlib.tree_cpu_seconds(pid) - c0
    out["rss_start_kb"] = rss0
    out["rss_end_kb"] = benchlib.tree_rss_kb(pid)


def run_bench(args: argparse.Namespace, server: benchlib.Server) -> dict[str, Any]:
    port = int(server.base_url.rsplit(":", 1)[1])
    services = benchlib.service_ids(args.services)
    # a first request outside the clock (imports, prepared statements...)
    status, body = benchlib.http_json("POST", server.base_url + "/api/v1/tickets", {"service": services[0]})
    if status != 201:
        raise RuntimeError(f"first ticket issue failed: {status} {body}")
    t_go = time.monotonic() + 1.0 + 0.5 * args.procs
    t_measure = t_go + args.warmup
    t_end = t_measure + args.duration
    chunks = [list(range(i, args.clients, args.procs)) for i in range(args.procs)]
    plans = [
        WorkerPlan(
            port, server.base_url, services, ids, args.clients, t_go, t_measure, t_end, args.rate, args.client
        )
        for ids in chunks
        if ids
    ]
    server_stats: dict[str, float] = {}
    sampler = threading.Thread(
        target=_server_cpu_thread, args=(server.pid, t_measure, t_end, server_stats), daemon=True
    )
    sampler.start()
    spy = None
    if args.profile:
        spy = _profile_window(
            server.pid, benchlib.RESULTS_DIR / args.profile, t_measure, t_end, args.profile_native
        )
    results: list[WorkerResult] = []
    if args.procs == 1:
        results.append(run_worker(plans[0]))
    else:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_worker_entry, args=(p, queue), daemon=True) for p in plans]
        for p in procs:
            p.start()
        for _ in procs:
            item = queue.get(timeout=args.warmup + args.duration + 120)
            if isinstance(item, BaseException):
                raise RuntimeError("load worker failed") from item
            results.append(item)
        for p in procs:
            p.join(timeout=10)
    sampler.join(timeout=5)
    if spy is not None:
        spy.join(timeout=90)

    latencies = [x for r in results for x in r.latencies]
    statuses: Counter[int] = Counter()
    for r in results:
        statuses.update(r.statuses)
    total_201 = sum(r.total_201 for r in results) + 1
    ok = statuses.get(201, 0)
    stats = benchlib.summarize_ms(latencies)
    _, svc_list = benchlib.http_json("GET", server.base_url + "/api/v1/services")
    server_waiting = sum(int(s.get("waiting", 0)) for s in svc_list) if isinstance(svc_list, list) else None
    client_cpu = sum(r.cpu_window for r in results)
    return {
        "bench": "issue",
        "mode": f"open loop {args.rate:.0f}/s" if args.rate > 0 else "closed loop",
        "client": args.client,
        "clients": args.clients,
        "procs": args.procs,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "requests": len(latencies),
        "tickets_per_s": ok / args.duration,
        "requests_per_s": len(latencies) / args.duration,
        "latency_ms": stats,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": [e for r in results for e in r.errors][:10],
        "bad_bodies": sum(r.bad_bodies for r in results),
        "reconnects": sum(r.reconnects for r in results),
        "issued_total_201": total_201,
        "server_waiting_total": server_waiting,
        "client_cpu_pct": 100.0 * client_cpu / args.duration,
        "server_cpu_pct": 100.0 * server_stats.get("cpu", float("nan")) / args.duration,
        "server_rss_mb": server_stats.get("rss_end_kb", 0) / 1024,
        "target_tps": TARGET_TPS,
        "target_p99_ms": TARGET_P99_MS,
    }


def _profile_window(pid: int, out: Path, t_start: float, t_stop: float, native: bool) -> threading.Thread:
    """py-spy the server from ``t_start`` to ``t_stop`` (monotonic) in a background thread."""

    def run() -> None:
        delay = t_start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        proc = benchlib.start_py_spy(pid, out, native=native)
        delay = t_stop - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        benchlib.stop_py_spy(proc, out)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def print_report(res: dict[str, Any]) -> None:
    lat = res["latency_ms"]
    print(
        f"issue bench: {res['mode']}, {res['clients']} clients ({res['client']} client, "
        f"{res['procs']} proc), {res['duration_s']:.0f} s after {res['warmup_s']:.0f} s warm-up"
    )
    print(
        f"  throughput   {res['tickets_per_s']:.0f} tickets/s "
        f"({res['requests']} requests, statuses {res['statuses']})"
    )
    print(f"  latency      {benchlib.fmt_ms(lat)}")
    print(
        f"  cpu          server {res['server_cpu_pct']:.0f}%  client {res['client_cpu_pct']:.0f}%"
        f"  (of one core; machine has {mp.cpu_count()} cores)"
    )
    print(f"  server rss   {res['server_rss_mb']:.1f} MB")
    print(
        f"  check        201 answers {res['issued_total_201']}, server counts "
        f"{res['server_waiting_total']} waiting; bad bodies {res['bad_bodies']}, "
        f"reconnects {res['reconnects']}"
    )
    if res["errors"]:
        print(f"  errors       {res['errors'][:3]}")
    if lat.get("n"):
        tps_ok = res["tickets_per_s"] >= TARGET_TPS if res["mode"] == "closed loop" else None
        p99_ok = lat["p99"] <= TARGET_P99_MS
        verdict = []
        if tps_ok is not None:
            verdict.append(f"tickets/s >= {TARGET_TPS:.0f}: {'PASS' if tps_ok else 'MISS'}")
        verdict.append(f"p99 <= {TARGET_P99_MS:.0f} ms: {'PASS' if p99_ok else 'MISS'}")
        print("  target       " + "; ".join(verdict))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--clients", type=int, default=32, help="concurrent keep-alive clients")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    p.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: offered tickets/s over all clients (0 = closed loop)",
    )
    p.add_argument("--procs", type=int, default=1, help="load-generator processes")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw")
    p.add_argument("--services", type=int, default=4)
    p.add_argument("--capacity", type=int, default=100_000)
    p.add_argument("--launcher", choices=["auto", "support", "own"], default="auto")
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the server during the measured window into bench-results/FILE "
        "(.txt = collapsed stacks, .json = speedscope, .svg = flame graph)",
    )
    p.add_argument("--profile-native", action="store_true", help="py-spy --native (C frames)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    if not (1 <= args.clients <= 1024 and 1 <= args.procs <= args.clients):
        p.error("need 1 <= procs <= clients <= 1024")
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 120):
        p.error("duration must be in (0, 600] and warm-up in [0, 120]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = benchlib.office_toml(capacity=args.capacity, services=args.services, counters=args.services)
    with benchlib.running_server(config, launcher=args.launcher) as server:
        res = run_bench(args, server)
    print_report(res)
    benchlib.write_json(args.json, res)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
