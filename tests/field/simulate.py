"""A bad day at the office, played against a real server: `python -m tests.field.simulate`.

    python -m tests.field.simulate --seed 7 --duration 60     # the CI length, ~75 s of wall time
    python -m tests.field.simulate --seed 7 --duration 540    # the 10-minute run

It starts the server in a fresh folder, puts four fault proxies in front of it
(kiosks, phones, counters, displays), plays a compressed office day through
them while stopping the server with SIGTERM and SIGKILL at random moments, lets
everything settle, restarts the server once more at closing time, then checks
the invariants (tests/field/checks.py) and prints a short report. Exit status
0 when every invariant holds. See tests/field/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.field import checks
from tests.field.actors import Crowd, DayClock, DoorKeeper, HeadOfOffice, Officer, Records, days_in
from tests.field.net import Client, Tally, percentile
from tests.field.office import ADMIN, CAPACITY, COUNTERS, DOOR, FieldServer, Restart, officer_account
from tests.field.proxy import FaultPlan, FaultProxy
from tests.field.screens import Display, Phone, cancel_all, state_diff
from tests.support.server import ServerStartError

DISPLAYS = 3
KIOSKS = 4
VISITORS_PER_SECOND = 35  # of traffic duration: 60 s -> 2,100 visitors
SETTLE_TIMEOUT = 25.0
DISPLAY_RELOAD_P = 0.15  # a reconnection that is a reload (snapshot) rather than a resume (?since=N)
LATE_COUNTER = "7"  # its officer comes late (the study: officers who come late)

# The links of the office. Per chunk (a request or answer is usually one) unless marked.
PLANS: dict[str, FaultPlan] = {
    # Kiosks on a cable to the office switch: mostly fine, the odd reset.
    "kiosks": FaultPlan(
        delay_p=0.2, spike_p=0.005, cut_up_p=0.01, cut_down_p=0.02, stall_p=0.005,
        drop_p=0.01,  # per connection
    ),
    # Visitors' phones on mobile data: slow, spiky, often cut.
    "phones": FaultPlan(
        delay_p=0.5, delay_s=(0.005, 0.06), spike_p=0.02, cut_up_p=0.03, cut_down_p=0.04, stall_p=0.01,
        drop_p=0.03, cut_time_p=0.15, cut_time_mean_s=5.0,  # per connection
    ),
    # Officers, door keeper and admin on office Wi-Fi that drops, or on a phone's hotspot:
    # long stalls, so a request may reach the server after the officer already retried.
    "counters": FaultPlan(
        delay_p=0.3, spike_p=0.01, cut_up_p=0.02, cut_down_p=0.03, stall_p=0.01, stall_s=(0.5, 4.0),
        drop_p=0.02,  # per connection
    ),
    # Lobby TVs on Wi-Fi: a stream of event frames, cut mid-frame, stalled, dropped.
    "displays": FaultPlan(
        delay_p=0.3, spike_p=0.002, cut_down_p=0.004, stall_p=0.001, stall_s=(0.5, 4.0),
        drop_p=0.05, cut_time_p=0.5, cut_time_mean_s=8.0,  # per connection
    ),
}  # fmt: skip


@dataclass
class Options:
    seed: int = 7
    duration: float = 60.0  # seconds of office traffic; setup, settling and checks add ~15 s
    visitors: int | None = None
    restarts: int | None = None
    workdir: Path | None = None
    keep: bool = False

    @property
    def visitor_count(self) -> int:
        return self.visitors if self.visitors is not None else int(VISITORS_PER_SECOND * self.duration)

    @property
    def restart_count(self) -> int:
        return self.restarts if self.restarts is not None else max(2, round(self.duration / 15))


@dataclass
class Report:
    options: Options
    workdir: Path
    lines: list[str] = field(default_factory=list)
    results: list[checks.Check] = field(default_factory=list)
    wall: float = 0.0
    kept: bool = True  # False once a passing run's temporary folder was removed

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(c.ok for c in self.results)

    def failures(self) -> list[str]:
        out: list[str] = []
        for check in self.results:
            if not check.ok:
                out.append(f"{check.name}: {check.problem_count} problem(s)")
                out += [f"  - {p}" for p in check.problems]
        return out

    def text(self) -> str:
        out = list(self.lines)
        out.append("invariants:")
        for check in self.results:
            out.append(f"  {'PASS' if check.ok else 'FAIL'}  {check.name}")
            out += [f"        {fact}" for fact in check.facts[:8]]
            if not check.ok:
                out.append(f"        {check.problem_count} problem(s), first ones:")
                out += [f"        - {p}" for p in check.problems]
        verdict = "PASS" if self.ok else "FAIL"
        folder = str(self.workdir) if self.kept else "removed; --keep keeps it"
        out.append(f"RESULT: {verdict} (seed {self.options.seed}, wall {self.wall:.1f} s, folder {folder})")
        return "\n".join(out)


class Chaos:
    """Restarts the server (SIGTERM or SIGKILL) and blacks out links, at seeded random moments."""

    def __init__(
        self,
        server: FieldServer,
        proxies: dict[str, FaultProxy],
        clock: DayClock,
        rng: random.Random,
        restarts: int,
    ) -> None:
        self.server = server
        self.proxies = proxies
        self.clock = clock
        self.rng = rng
        # Restarts spread over the run, at least 4 s apart so clients live through each one.
        gap = 4.0 / clock.duration
        self.restart_at: list[float] = []
        for slot in sorted(rng.uniform(0.08, 0.88) for _ in range(restarts)):
            self.restart_at.append(max(slot, self.restart_at[-1] + gap) if self.restart_at else slot)
        kinds = [signal.SIGTERM, signal.SIGKILL] * ((restarts + 1) // 2)
        rng.shuffle(kinds)
        self.signals = kinds[:restarts]
        blackouts = max(2, round(clock.duration / 10))
        self.blackouts = sorted(
            (rng.uniform(0.05, 0.9), rng.choice(sorted(proxies)), rng.uniform(0.3, 2.5))
            for _ in range(blackouts)
        )

    async def run(self) -> None:
        outages = asyncio.create_task(self._blackouts())
        try:
            for fraction, sig in zip(self.restart_at, self.signals, strict=True):
                wait = self.clock.started + fraction * self.clock.duration - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.clock.over():
                    break
                await self.server.restart(sig, self.rng.uniform(0.2, 1.5), self.clock.elapsed())
        finally:
            await outages

    async def _blackouts(self) -> None:
        for fraction, name, seconds in self.blackouts:
            wait = self.clock.started + fraction * self.clock.duration - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.clock.over():
                return
            await self.proxies[name].blackout(seconds)


async def _direct_state(base_url: str) -> dict[str, Any]:
    """The server's own state, asked directly (not through a proxy)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0, trust_env=False) as http:
        resp = await http.get("/api/v1/state")
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data


async def _login(client: Client, account: tuple[str, str]) -> str:
    name, password = account
    answer = await client.call("POST", "/login", {"username": name, "password": password})
    if answer.status != 200:
        raise RuntimeError(f"login {name} failed: {answer.status} {answer.body}")
    return str(answer.body["token"])


async def _settle(
    base_url: str, displays: list[Display], phones: list[Phone]
) -> tuple[dict[str, Any], list[str]]:
    """Wait until the server is quiet and every screen is connected and caught up.

    Returns the server's state and, when that did not happen in time, what was still behind.
    """
    ends = time.monotonic() + SETTLE_TIMEOUT
    state = await _direct_state(base_url)
    behind: list[str] = []
    for _ in range(int(SETTLE_TIMEOUT / 0.25) + 1):
        await asyncio.sleep(0.25)
        again = await _direct_state(base_url)
        behind = [
            f"{d.name} at seq {d.seq}, server at {again['seq']}, connected {d.connected}"
            for d in displays
            if not (d.connected and d.seq == again["seq"])
        ]
        behind += [
            f"{p.name} not connected"
            for p in phones
            if not p.final and not p.connected and p.closed_by_server is None  # 4404 is reported apart
        ]
        if again["seq"] == state["seq"] and not behind:
            return again, []
        state = again
        if time.monotonic() > ends:
            break
    return state, behind


async def _compare_phones(base_url: str, phones: list[Phone]) -> list[tuple[str, list[str]]]:
    """Each phone still open shows its ticket's status, position and counter as the server has them."""
    out: list[tuple[str, list[str]]] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0, trust_env=False) as http:
        for phone in phones:
            if phone.final or phone.view is None:
                continue
            resp = await http.get(f"/api/v1/tickets/{phone.token}")
            truth = resp.json()
            diffs = [
                f"{key}: phone {phone.view.get(key)!r} / server {truth.get(key)!r}"
                for key in ("status", "position", "counter", "service")
                if phone.view.get(key) != truth.get(key)
            ]
            if diffs:
                out.append((f"{phone.name} (ticket {truth.get('number')})", diffs))
    return out


async def run_day(options: Options, say: Callable[[str], None] = print) -> Report:
    """Play one office day and check it. Never raises for an invariant: see Report.ok."""
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="antre-field-"))
    if (workdir / "server").exists():
        # A day must start from an empty database, or yesterday's answers would mix with today's.
        raise SystemExit(f"{workdir / 'server'} already exists; give an empty or new --workdir")
    day = FieldDay(options, workdir, say)
    try:
        report = await day.play()
    finally:
        await day.tear_down()
    if not options.keep and report.ok and options.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
        report.kept = False
    return report


class FieldDay:
    """One run: the server, its proxies, the people and screens, and what they saw."""

    def __init__(self, options: Options, workdir: Path, say: Callable[[str], None]) -> None:
        self.options = options
        self.workdir = workdir
        self.say = say
        self.rng = random.Random(options.seed)
        self.server = FieldServer(workdir / "server")
        self.proxies: dict[str, FaultProxy] = {}
        self.tally = Tally()
        self.records = Records()
        self.clients: list[Client] = []
        self.displays: list[Display] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.watch = LoopWatch()

    def _rng(self) -> random.Random:
        return random.Random(self.rng.getrandbits(64))

    def _client(self, proxy: str, token: str | None = None) -> Client:
        made = Client(self.proxies[proxy].port, self.tally, self._rng(), token)
        self.clients.append(made)
        return made

    async def tear_down(self) -> None:
        """Whatever happened: screens closed, proxies stopped, and never a server left running."""
        await cancel_all(self.tasks)
        await self.server.settle()
        for made in self.clients:
            await made.aclose()
        for proxy in self.proxies.values():
            await proxy.stop()
        if self.server.process.running:
            await self.server.stop(signal.SIGKILL)

    async def _revive(self, crashed: list[str]) -> bool:
        """After the day the server must be up for the final comparisons; a failed start is a finding."""
        if self.server.process.running:
            return True
        try:
            await self.server.start()
        except ServerStartError as error:
            crashed.append(f"the server did not start again after the day: {error}")
            return False
        crashed.append(
            "the server was down at the end of the day (a restart failed):\n" + self.server.log_text()[-2000:]
        )
        return True

    async def play(self) -> Report:
        began = time.monotonic()
        options, server, records = self.options, self.server, self.records
        await asyncio.to_thread(server.create_accounts)
        await server.start()
        self.say(f"server up on {server.base_url}, folder {self.workdir}")
        for name, plan in PLANS.items():
            self.proxies[name] = FaultProxy(name, server.port, plan, self.rng.getrandbits(32))
            await self.proxies[name].start()
        desk = self._client("counters")
        officer_tokens = {c: await _login(desk, officer_account(c)) for c in COUNTERS}
        door_token = await _login(desk, DOOR)
        admin_token = await _login(desk, ADMIN)

        hard_deadline = time.monotonic() + options.duration + 120.0  # every screen loop ends by this
        ws_displays = self.proxies["displays"].ws_url
        self.displays = [Display(f"tv{i + 1}", ws_displays, self._rng()) for i in range(DISPLAYS)]
        self.tasks += [asyncio.create_task(d.run(hard_deadline, DISPLAY_RELOAD_P)) for d in self.displays]
        for _ in range(100):  # the TVs are on before the doors open
            if all(d.state is not None for d in self.displays):
                break
            await asyncio.sleep(0.1)

        clock = DayClock(time.monotonic(), options.duration, days_in(options.duration))
        wall_started = time.time()
        self.say(
            f"{clock.days} office day(s) in {options.duration:.0f} s, "
            f"1 office minute = {clock.minutes(1):.3f} s, {options.visitor_count} visitors"
        )
        phones = self.proxies["phones"]
        kiosks = [self._client("kiosks") for _ in range(KIOSKS)]
        crowd = Crowd(
            clock, kiosks, phones.port, self.tally, phones.ws_url, records, self._rng(), options.seed,
            options.visitor_count,
        )  # fmt: skip
        crowd.follow_deadline = hard_deadline
        crowd.door = self._client("counters", door_token)
        crowd.phone_tasks = self.tasks  # so that tear_down closes every phone too
        self.tasks.append(asyncio.create_task(self.watch.run(clock.ends + 10.0)))
        people: list[Awaitable[None]] = [
            crowd.run(),
            DoorKeeper(self._client("counters", door_token), clock, records, self._rng()).run(),
            HeadOfOffice(self._client("counters", admin_token), clock, records, self._rng(), CAPACITY).run(),
            Chaos(server, self.proxies, clock, self._rng(), options.restart_count).run(),
        ]
        people += [
            Officer(c, self._client("counters", officer_tokens[c]), clock, records, self._rng(), options.seed,
                    late_minutes=25.0 if c == LATE_COUNTER else 0.0).run()
            for c in COUNTERS
        ]  # fmt: skip
        outcome = await asyncio.gather(*people, return_exceptions=True)
        crashed = [repr(x) for x in outcome if isinstance(x, BaseException)]
        traffic_s = clock.elapsed()

        # Closing time: the links calm down; every screen must catch up and equal the server.
        for proxy in self.proxies.values():
            proxy.calm()
        comparisons: list[tuple[str, str, list[str]]] = []
        truth: dict[str, Any] | None = None
        after: dict[str, Any] | None = None
        closing: Restart | None = None
        phone_finals: list[tuple[str, list[str]]] = []
        if await self._revive(crashed):
            await asyncio.sleep(1.0)  # bytes still in a delayed pump arrive now, before the truth is taken
            truth, behind = await _settle(server.base_url, self.displays, records.phones)
            comparisons.append(("after the day", "settling", behind))
            for display in self.displays:
                comparisons.append(("after the day", display.name, state_diff(display.state or {}, truth)))
            # One more restart with the screens connected: with nothing happening in between, the
            # state after it must be the same, and the screens, reconnected, must still equal it.
            sig = self.rng.choice([signal.SIGTERM, signal.SIGKILL])
            try:
                closing = await server.restart(sig, 0.5, clock.elapsed())
            except ServerStartError as error:
                crashed.append(f"the server did not start again after the closing {sig.name}: {error}")
            else:
                after, behind = await _settle(server.base_url, self.displays, records.phones)
                comparisons.append(("after the closing restart", "settling", behind))
                for display in self.displays:
                    diffs = state_diff(display.state or {}, after)
                    comparisons.append(("after the closing restart", display.name, diffs))
                phone_finals = await _compare_phones(server.base_url, records.phones)

        await cancel_all(self.tasks)
        exit_code = await server.stop(signal.SIGTERM)
        records.dump(self.workdir / "answers.json")
        db = checks.read_database(server.db_path)
        replay = checks.Replay(CAPACITY)
        replay.run(db.events)
        report = Report(options, self.workdir)
        report.results = [
            checks.check_tickets(records, db),
            checks.check_numbers(db),
            checks.check_counters(replay, db),
            checks.check_presses(records, replay, db),
            checks.check_steps(records, db, wall_started),
            replay.capacity_check,
            replay.fifo,
            replay.remote,
            replay.rejoins,
            replay.fairness,
            replay.routes,
            checks.check_history(replay, db, after or truth),
            checks.check_screens(self.displays, db, comparisons),
            checks.check_restart(truth, after, closing),
            checks.check_phones(records, db, phone_finals),
            _check_run(self.tally, crashed, exit_code, server),
        ]
        replay.capacity_check.facts.append(
            f"max inside {replay.max_inside}; "
            f"{replay.over_after_lowering} events over capacity after the admin lowered it, "
            f"{replay.over_after_rejoin} after a missed visitor rejoined"
        )
        counts = replay.counts
        replay.remote.facts.append(
            f"{sum(replay.remote_issued.values())} remote tickets, {counts['ticket.checked_in']} checked in"
        )
        replay.rejoins.facts.append(
            f"{counts['ticket.rejoined']} rejoins, {counts['ticket.no_show']} no-shows"
        )
        replay.routes.facts.append(f"{counts['ticket.routed']} tickets moved on to their next step")
        replay.fifo.facts.append(
            f"{replay.queued_outside} tickets queued outside, {replay.admissions} admitted in order; "
            f"max {replay.max_outside} outside at once"
        )
        report.wall = time.monotonic() - began
        report.lines = _summary(
            options,
            records,
            self.tally,
            self.proxies,
            server,
            closing,
            traffic_s,
            clock.minutes(1),
            db,
            self.watch,
        )
        return report


CLEAN_EXIT = {0, -signal.SIGTERM}  # uvicorn re-raises SIGTERM after a clean, complete shutdown


def _check_run(tally: Tally, crashed: list[str], exit_code: int, server: FieldServer) -> checks.Check:
    check = checks.Check("no 5xx but a stopping server's 503; no actor crashed; SIGTERM stops cleanly")
    for error in tally.server_errors:
        check.fail(error)
    for crash in crashed:
        check.fail(f"actor crashed: {crash}")
    for restart in server.restarts:
        if restart.signal == "SIGTERM" and restart.exit_code not in CLEAN_EXIT:
            check.fail(
                f"SIGTERM at {restart.at:.1f} s: exit code {restart.exit_code} after {restart.stop_s:.1f} s"
            )
    if exit_code not in CLEAN_EXIT:
        check.fail(f"final SIGTERM stop exited with {exit_code}")
    slowest = max((r.stop_s for r in server.restarts if r.signal == "SIGTERM"), default=0.0)
    check.facts.append(
        f"statuses {dict(sorted(tally.statuses.items()))}; slowest SIGTERM stop {slowest:.1f} s"
    )
    return check


def _summary(
    options: Options,
    records: Records,
    tally: Tally,
    proxies: dict[str, FaultProxy],
    server: FieldServer,
    closing: Restart | None,
    traffic_s: float,
    minute: float,
    db: checks.Database,
    watch: LoopWatch,
) -> list[str]:
    issued = [i for i in records.issues if i.ticket is not None]
    phones = sum(1 for i in records.issues if i.channel == "phone")
    presses = records.presses
    called = sum(1 for p in presses if p.answer.status == 200)
    empty = sum(1 for p in presses if p.answer.status == 204)
    steps = " ".join(f"{k} {v}" for k, v in sorted(records.steps.items()))
    faults = {name: p.stats.faults() for name, p in proxies.items()}
    during = [r for r in server.restarts if r is not closing]
    kinds = {sig: sum(1 for r in during if r.signal == sig) for sig in ("SIGTERM", "SIGKILL")}
    lines = [
        f"Antre field day: seed {options.seed}, {traffic_s:.1f} s of traffic, {days_in(options.duration)} "
        f"office day(s) (1 office minute = {minute:.3f} s)",
        f"visitors {len(records.issues)} ({phones} by phone, {len(records.issues) - phones} at kiosks); "
        f"tickets answered 201: {len(issued)}; in the DB: {len(db.tickets)}; "
        f"phones following: {len(records.phones)}",
        f"calls {called} (call-next presses {len(presses)}, {empty} found nobody); steps: {steps}",
        f"door in {records.door_in} / out {records.door_out} (refused full {records.door_full}); capacity "
        + ", ".join(f"{cap}@{at:.0f}s(inside {inside})" for at, cap, inside in records.capacity_changes[:8])
        + (f", ... ({len(records.capacity_changes) - 8} more)" if len(records.capacity_changes) > 8 else ""),
        f"faults injected {sum(faults.values())}: "
        + "; ".join(
            f"{name} {p.stats.faults()} (cuts {p.stats.cut_up}+{p.stats.cut_down}+{p.stats.cut_time} timed, "
            f"drops {p.stats.dropped}, stalls {p.stats.stalls}, delays {p.stats.delayed_chunks}"
            f"+{p.stats.spikes} spikes, blackouts {p.stats.blackouts})"
            for name, p in proxies.items()
        ),
        f"restarts during the day {len(during)} ({kinds['SIGTERM']} SIGTERM, {kinds['SIGKILL']} SIGKILL): "
        + ", ".join(f"{r.signal}@{r.at:.0f}s ({r.down_s:.1f}s down)" for r in during[:12])
        + (f", ... ({len(during) - 12} more)" if len(during) > 12 else "")
        + f"; at closing time: {closing.signal if closing else 'none (the server was down)'}",
        f"http: {tally.requests} requests, {tally.attempts} attempts, {tally.network_errors} network errors, "
        f"{tally.gave_up} gave up {dict(tally.error_kinds.most_common(4))}; "
        f"latency p50 {percentile(tally.latencies, 0.5) * 1000:.0f} ms "
        f"p99 {percentile(tally.latencies, 0.99) * 1000:.0f} ms",
        f"refusals {dict(sorted(records.refusals.items()))}",
        f"simulator loop: worst lag {watch.worst:.2f} s, {watch.late} times over 0.25 s",
    ]
    return lines


class LoopWatch:
    """How late the simulation's own event loop ran: a starved loop would fake network faults."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.late = 0

    async def run(self, until: float) -> None:
        for _ in range(1_000_000):
            if time.monotonic() >= until:
                return
            began = time.monotonic()
            await asyncio.sleep(0.1)
            lag = time.monotonic() - began - 0.1
            self.worst = max(self.worst, lag)
            self.late += lag > 0.25


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.field.simulate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of office traffic (default 60)")
    parser.add_argument("--visitors", type=int, help=f"default {VISITORS_PER_SECOND} per second of duration")
    parser.add_argument("--restarts", type=int, help="server restarts during the day (default duration/15)")
    parser.add_argument("--workdir", type=Path, help="folder for the server's config, database and log")
    parser.add_argument("--keep", action="store_true", help="keep the folder even when everything passed")
    args = parser.parse_args(argv)
    if args.duration < 10:
        parser.error("--duration must be at least 10 seconds")
    return Options(args.seed, args.duration, args.visitors, args.restarts, args.workdir, args.keep)


def run(options: Options, say: Callable[[str], None] = print) -> Report:
    """Run the day on a fresh event loop (uvloop when installed: the clients are the busy part)."""
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(_interruptible(run_day(options, say)))


async def _interruptible(work: Awaitable[Report]) -> Report:
    """Ctrl-C or SIGTERM cancel the run, so its clean-up still stops the server it started."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    report = run(options)
    print(report.text(), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
