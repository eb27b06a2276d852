"""The people of the simulated office, each an asyncio task that ends by itself.

Time is compressed: an office day (08:00-16:00, 480 minutes) lasts about
`DAY_SECONDS` of wall time, so one office minute is about 0.125 s. A longer run
plays several days back to back at the same pace (the server's calendar day does
not change, so ticket numbers keep counting). All choices come from
`random.Random` instances derived from the run's seed.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.field.net import Answer, Client, Tally
from tests.field.office import PRIORITY, REMOTE_SERVICE, SERVICES
from tests.field.screens import Phone

DAY_MINUTES = 480.0
DAY_SECONDS = 60.0  # wall seconds an office day lasts (a run of 60 s is one day)
MAX_PHONES = 40  # phones following their ticket at the same time ("dozens")
PHONE_SHARE = 0.35  # visitors who take their ticket on (or follow it with) their phone
IMPATIENT_SHARE = 0.7  # visitors who go home when left outside too long
PATIENCE_MINUTES = 60.0  # median office minutes an impatient visitor waits outside
LOOP_GUARD = 1_000_000  # every loop below also ends on the clock; this bounds it twice
REMOTE_SHARE = 0.3  # phone visitors for ktp who take a remote ticket at home (api-remote)
NEVER_COME_SHARE = 0.2  # remote visitors who never check in
PRIORITY_SHARE = 0.08  # kiosk visitors who are priority visitors
REJOIN_CHECK_SHARE = 0.4  # visitors who look at their ticket later and rejoin after a missed call


def days_in(duration: float) -> int:
    return max(1, round(duration / DAY_SECONDS))


@dataclass
class DayClock:
    """Maps office days and minutes to wall time for one run."""

    started: float  # monotonic time the first office day began
    duration: float  # wall seconds of traffic in all
    days: int = 1

    @property
    def day_seconds(self) -> float:
        return self.duration / self.days

    def minutes(self, office_minutes: float) -> float:
        return office_minutes * self.day_seconds / DAY_MINUTES

    def moment(self, day: int, fraction: float) -> float:
        """The monotonic time of a moment of a day (fraction 0 = opening, 1 = closing)."""
        return self.started + (day + fraction) * self.day_seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def ends(self) -> float:
        return self.started + self.duration

    def over(self) -> bool:
        return time.monotonic() >= self.ends

    async def sleep_minutes(self, office_minutes: float) -> None:
        """Sleep, but never past the end of the run (so every actor stops on time)."""
        await asyncio.sleep(max(0.0, min(self.minutes(office_minutes), self.ends - time.monotonic())))

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(max(0.0, min(moment, self.ends) - time.monotonic()))


def arrivals(count: int, days: int, rng: random.Random) -> list[tuple[int, float]]:
    """When visitors arrive: (day, fraction of that day), in time order.

    Each day has a morning peak and a smaller one after lunch: the study's office
    opens at 08:00, people queue before opening and most come in the first two
    hours. Arrivals stop at 90 % of the day (doors close at 15:30).
    """
    times: list[tuple[int, float]] = []
    for _ in range(count * 20):  # rejection sampling, bounded
        if len(times) >= count:
            break
        pick = rng.random()
        if pick < 0.60:
            value = rng.gauss(0.17, 0.09)  # morning rush around 09:20
        elif pick < 0.80:
            value = rng.gauss(0.60, 0.07)  # after the midday break
        else:
            value = rng.uniform(0.0, 0.9)
        if 0.0 <= value <= 0.9:
            times.append((rng.randrange(days), value))
    return sorted(times)


# ----- what happened, for the checks ------------------------------------------------------


@dataclass
class Issue:
    """One visitor's ticket request (all retries share the key)."""

    visitor: int
    key: str
    service: str
    party_size: int
    channel: str  # kiosk | phone
    answer: Answer | None = None
    remote: bool = False  # taken from home (api-remote): checked in at the door later, or never
    priority: str | None = None

    @property
    def ticket(self) -> dict[str, Any] | None:
        if (
            self.answer is not None
            and self.answer.status in (200, 201)
            and isinstance(self.answer.body, dict)
        ):
            return self.answer.body
        return None


UNKNOWN = -1
"""`meant` when the officer could not read the counter back: the step may concern anyone."""


@dataclass
class Press:
    """One press of "call next" at a counter (its retries share the key)."""

    counter: str
    key: str
    answer: Answer
    meant: int | None = None  # the ticket the officer believed current, which this press closes
    at: float = 0.0  # seconds into the day when pressed


@dataclass
class Step:
    """One counter step as the officer meant it: which visitor it was for."""

    counter: str
    action: str
    meant: int | None  # id of the ticket the officer believed current; UNKNOWN after a failed read-back
    status: int | None
    key: str = ""
    at: float = 0.0  # seconds into the day when pressed
    attempts: int = 1


@dataclass
class Records:
    """Everything the clients were told."""

    issues: list[Issue] = field(default_factory=list)
    presses: list[Press] = field(default_factory=list)
    sent_steps: list[Step] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    phones: list[Phone] = field(default_factory=list)
    capacity_changes: list[tuple[float, int, int | None]] = field(default_factory=list)
    door_in: int = 0
    door_out: int = 0
    door_full: int = 0

    def dump(self, path: Path) -> None:
        """What every device sent and was answered (tokens left out), for evidence after a run."""

        def issue(i: Issue) -> dict[str, Any]:
            ticket = {k: v for k, v in (i.ticket or {}).items() if k != "token"} or None
            status = i.answer.status if i.answer else None
            attempts = i.answer.attempts if i.answer else 0
            return {"key": i.key, "service": i.service, "party_size": i.party_size, "channel": i.channel,
                    "status": status, "attempts": attempts, "ticket": ticket}  # fmt: skip

        def press(p: Press) -> dict[str, Any]:
            called = (
                p.answer.body.get("id")
                if p.answer.status == 200 and isinstance(p.answer.body, dict)
                else None
            )
            return {"counter": p.counter, "key": p.key, "at": p.at, "meant": p.meant,
                    "status": p.answer.status, "attempts": p.answer.attempts, "called": called}  # fmt: skip

        data = {
            "issues": [issue(i) for i in self.issues],
            "presses": [press(p) for p in self.presses],
            "steps": [asdict(s) for s in self.sent_steps],
        }
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")

    def step(self, name: str) -> None:
        self.steps[name] = self.steps.get(name, 0) + 1

    def refused(self, code: str | None) -> None:
        key = code or "none"
        self.refusals[key] = self.refusals.get(key, 0) + 1


# ----- visitors ---------------------------------------------------------------------------


@dataclass
class Crowd:
    """Brings visitors in at their arrival times; some follow their ticket on a phone."""

    clock: DayClock
    kiosks: list[Client]
    phone_port: int  # the phones' proxy: each phone is its own device with its own connection
    tally: Tally
    phone_ws_base: str
    records: Records
    rng: random.Random
    seed: int
    count: int
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    phone_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    following: int = 0
    follow_deadline: float = 0.0
    door: Client | None = None  # the door keeper's device: remote visitors are checked in there

    async def run(self) -> None:
        services = [s[0] for s in SERVICES]
        shares = [s[3] for s in SERVICES]
        for index, (day, fraction) in enumerate(arrivals(self.count, self.clock.days, self.rng)):
            await self.clock.sleep_until(self.clock.moment(day, fraction))
            if self.clock.over():
                break
            party = self.rng.choices((1, 2, 3, 4), weights=(80, 14, 5, 1))[0]
            channel = "phone" if self.rng.random() < PHONE_SHARE else "kiosk"
            issue = Issue(
                index, f"v{self.seed}-{index}", self.rng.choices(services, shares)[0], party, channel
            )
            if channel == "phone" and issue.service == REMOTE_SERVICE and self.rng.random() < REMOTE_SHARE:
                issue.remote = True
            elif channel == "kiosk" and self.rng.random() < PRIORITY_SHARE:
                issue.priority = PRIORITY
            self.records.issues.append(issue)
            visitor_rng = random.Random(self.rng.getrandbits(64))
            task = asyncio.create_task(self._visit(issue, visitor_rng))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _visit(self, issue: Issue, rng: random.Random) -> None:
        # Most visitors go home when left outside too long; some wait whatever it takes.
        patience = (
            rng.lognormvariate(math.log(PATIENCE_MINUTES), 0.5) if rng.random() < IMPATIENT_SHARE else None
        )
        http = Client(self.phone_port, self.tally, rng)  # the visitor's own phone, if used
        try:
            if issue.channel == "phone":
                issue.answer = await http.call("POST", "/tickets", self._body(issue), key=issue.key)
            else:
                # A kiosk serves one visitor at a time: the others queue in front of it.
                kiosk = self.kiosks[issue.visitor % len(self.kiosks)]
                issue.answer = await kiosk.call("POST", "/tickets", self._body(issue), key=issue.key)
            ticket = issue.ticket
            if ticket is None:
                self.records.refused(issue.answer.error_code)
                return
            phone = self._follow(issue, ticket, rng) if issue.channel == "phone" else None
            if issue.remote and not await self._come_in(ticket, rng):
                return  # stayed at home: the ticket ends no_show at the day's end, or stays remote
            if rng.random() < REJOIN_CHECK_SHARE:
                await self._rejoin_if_missed(ticket, http, rng)
            if patience is not None:
                await self.clock.sleep_minutes(patience)
                if not self.clock.over():
                    await self._maybe_leave(ticket, phone, http, rng)
        finally:
            await http.aclose()

    @staticmethod
    def _body(issue: Issue) -> dict[str, Any]:
        body: dict[str, Any] = {"service": issue.service, "party_size": issue.party_size}
        if issue.remote:
            body["remote"] = True
        if issue.priority is not None:
            body["priority"] = issue.priority
        return body

    async def _come_in(self, ticket: dict[str, Any], rng: random.Random) -> bool:
        """A remote visitor travels in (or never does) and is checked in at the door by number."""
        if rng.random() < NEVER_COME_SHARE or self.door is None:
            return False
        await self.clock.sleep_minutes(rng.uniform(5.0, 90.0))
        if self.clock.over():
            return False
        answer = await self.door.call("POST", "/check-in", {"number": ticket["number"]})
        if answer.status == 200:
            self.records.step("check_in")
        else:
            self.records.refused(answer.error_code)  # not_remote: a lost answer's retry, or cancelled
        return True

    async def _rejoin_if_missed(self, ticket: dict[str, Any], http: Client, rng: random.Random) -> None:
        """Look at the ticket now and then; a visitor whose number was missed asks to rejoin, once."""
        for _ in range(3):
            await self.clock.sleep_minutes(rng.uniform(2.0, 15.0))
            if self.clock.over():
                return
            answer = await http.call("GET", f"/tickets/{ticket['token']}")
            status = (
                answer.body.get("status") if answer.status == 200 and isinstance(answer.body, dict) else None
            )
            if status == "no_show":
                rejoin = await http.call("POST", f"/tickets/{ticket['token']}/rejoin")
                if rejoin.status == 200:
                    self.records.step("rejoin")
                else:
                    self.records.refused(rejoin.error_code)  # rejoin_not_allowed: too late, or again
                return
            if status in ("done", "cancelled"):
                return

    def _follow(self, issue: Issue, ticket: dict[str, Any], rng: random.Random) -> Phone | None:
        """Open the phone page for the ticket, if fewer than MAX_PHONES are open."""
        if self.following >= MAX_PHONES:
            return None
        phone = Phone(f"phone-{issue.visitor}", self.phone_ws_base, ticket["token"], ticket["id"], rng)
        self.records.phones.append(phone)
        self.following += 1
        follow = asyncio.create_task(phone.follow(self.follow_deadline))
        self.phone_tasks.append(follow)
        follow.add_done_callback(lambda _task: self._unfollow())
        return phone

    async def _maybe_leave(
        self, ticket: dict[str, Any], phone: Phone | None, http: Client, rng: random.Random
    ) -> None:
        """Patience ran out: still outside, go home (cancel with the ticket's QR code); some
        who are inside but not yet called give up too."""
        if phone is not None and phone.view is not None:
            status = phone.view["status"]
        else:
            answer = await http.call("GET", f"/tickets/{ticket['token']}")
            status = (
                answer.body.get("status") if answer.status == 200 and isinstance(answer.body, dict) else None
            )
        if status == "outside" or (status == "waiting" and rng.random() < 0.2):
            answer = await http.call("DELETE", f"/tickets/{ticket['token']}")
            if answer.status == 200:
                self.records.step("cancel")
            else:
                self.records.refused(answer.error_code)

    def _unfollow(self) -> None:
        self.following -= 1


# ----- counters ---------------------------------------------------------------------------


@dataclass
class Officer:
    """One counter's officer: calls, serves, finishes; sometimes recalls, no-shows, transfers, pauses."""

    counter: str
    client: Client
    clock: DayClock
    records: Records
    rng: random.Random
    seed: int
    late_minutes: float = 0.0
    current: dict[str, Any] | None = None
    known: bool = True  # False while the officer could not read the counter back
    is_open: bool = True
    presses: int = 0
    speed: float = 1.0

    async def run(self) -> None:
        # Officers differ: some are quick, some are older and less at ease with the screen.
        self.speed = self.rng.uniform(0.75, 1.4)
        await self.sync()
        if self.late_minutes:
            await self.pause("late", self.late_minutes)
        for _ in range(LOOP_GUARD):
            if self.clock.over():
                break
            if self.rng.random() < 0.012:
                await self.pause(self.rng.choice(("break", "prayer", "meeting")), self.rng.uniform(4, 15))
                continue
            ticket = await self.call_next()
            if ticket is None:
                await self.clock.sleep_minutes(self.rng.uniform(0.3, 0.8))
                continue
            await self.attend(ticket)

    async def sync(self) -> None:
        """Read the counter back from the server after any doubt about what happened."""
        answer = await self.client.call("GET", "/counters")
        self.known = answer.status == 200 and isinstance(answer.body, list)
        if self.known:
            for counter in answer.body:
                if counter["id"] == self.counter:
                    self.current = counter["current"]
                    self.is_open = counter["open"]

    def meant(self) -> int | None:
        if not self.known:
            return UNKNOWN
        return self.current["id"] if self.current else None

    async def call_next(self) -> dict[str, Any] | None:
        if not self.is_open:
            await self.step("open")
        self.presses += 1
        key = f"c{self.seed}-{self.counter}-{self.presses}"
        meant, at = self.meant(), self.clock.elapsed()
        answer = await self.client.call("POST", f"/counters/{self.counter}/call-next", key=key)
        self.records.presses.append(Press(self.counter, key, answer, meant, round(at, 3)))
        if answer.status == 200:
            self.current, self.known = answer.body, True
            return self.current
        if answer.status == 204:
            self.current, self.known = None, True
            return None
        self.records.refused(answer.error_code)
        await self.sync()
        return None

    async def attend(self, ticket: dict[str, Any]) -> None:
        """The visitor walks up, is served, and the officer closes the visit one way or another."""
        rng = self.rng
        await self.clock.sleep_minutes(rng.uniform(0.1, 0.4))
        if rng.random() < 0.10:  # nobody comes: call again, then maybe give up on them
            await self.step("recall")
            await self.clock.sleep_minutes(rng.uniform(0.3, 1.0))
            if rng.random() < 0.5:
                await self.step("no-show")
                return
        if self.current is None:
            return
        if rng.random() < 0.8:
            await self.step("serve")
        minutes = min(20.0, rng.lognormvariate(math.log(1.2), 0.6) * self.speed)
        await self.clock.sleep_minutes(minutes)
        if self.current is None:
            return
        pick = rng.random()
        if pick < 0.05:
            others = [s[0] for s in SERVICES if s[0] != ticket["service"]]
            await self.step("transfer", {"service": rng.choice(others)})
        elif pick < 0.55:
            await self.step("finish")
        # else: the next "call next" closes this visit (as busy officers do).

    async def step(self, action: str, body: dict[str, Any] | None = None) -> None:
        meant = self.meant()
        self.presses += 1
        # api-v1 promises Idempotency-Key only for "call next"; the key is sent with every step
        # anyway (and reused on its retries), so a server that honours it on steps too is
        # protected against the late tries that check_steps looks for.
        key = f"s{self.seed}-{self.counter}-{self.presses}"
        at = self.clock.elapsed()
        answer = await self.client.call("POST", f"/counters/{self.counter}/{action}", body, key=key)
        self.records.sent_steps.append(
            Step(self.counter, action, meant, answer.status, key, round(at, 3), answer.attempts)
        )
        if answer.status == 200:
            self.records.step(action)
            if action in ("finish", "no-show", "transfer"):
                self.current = None
            elif action in ("open", "close"):
                self.is_open = action == "open"
            else:
                self.current = answer.body
            return
        # A refusal after a lost answer usually means the first try worked; read the truth back.
        self.records.refused(answer.error_code)
        await self.sync()

    async def pause(self, reason: str, minutes: float) -> None:
        await self.step("close", {"reason": reason})
        await self.clock.sleep_minutes(minutes)
        await self.step("open")


# ----- the door and the head of office ---------------------------------------------------


@dataclass
class DoorKeeper:
    """Counts people without a ticket in and out (couriers, people accompanying others)."""

    client: Client
    clock: DayClock
    records: Records
    rng: random.Random
    believed_inside: int = 0

    async def run(self) -> None:
        for _ in range(LOOP_GUARD):
            await self.clock.sleep_minutes(self.rng.expovariate(1 / 3))
            if self.clock.over():
                break
            if self.believed_inside < 10 and self.rng.random() < 0.55:
                await self.enter(self.rng.randint(1, 3))
            elif self.believed_inside > 0:
                await self.leave(self.rng.randint(1, min(3, self.believed_inside)))
        await self.leave(self.believed_inside)  # closing: everyone counted in goes out

    async def enter(self, count: int) -> None:
        # One try only: a lost answer must not count people twice. If the answer was lost the
        # keeper assumes they were counted; a later "exit" refused as below zero corrects it.
        answer = await self.client.call("POST", "/occupancy/enter", {"count": count}, retry=False)
        if answer.status == 200 or (answer.status is None and answer.uncertain):
            self.believed_inside += count
            self.records.door_in += count
        elif answer.error_code == "capacity_full":
            self.records.door_full += 1
        else:
            self.records.refused(answer.error_code)

    async def leave(self, count: int) -> None:
        for _ in range(max(0, count)):  # bounded: each refusal lowers the count by one
            if count <= 0:
                return
            answer = await self.client.call("POST", "/occupancy/exit", {"count": count}, retry=False)
            if answer.status == 200:
                self.believed_inside -= count
                self.records.door_out += count
                return
            if answer.error_code != "occupancy_below_zero":
                return  # a lost answer: assume nobody left yet; they leave later
            # The server counted fewer than `count` in (an "enter" whose answer was lost did not
            # land): it has at most count - 1, so believe that and let fewer out.
            self.believed_inside = min(self.believed_inside, count - 1)
            count -= 1


@dataclass
class HeadOfOffice:
    """Changes the capacity during the day: a room closed for cleaning, then more space."""

    client: Client
    clock: DayClock
    records: Records
    rng: random.Random
    base: int

    async def run(self) -> None:
        for day in range(self.clock.days):
            plan = [
                (self.rng.uniform(0.28, 0.36), max(3, int(self.base * self.rng.uniform(0.45, 0.6)))),
                (self.rng.uniform(0.45, 0.52), self.base),
                (self.rng.uniform(0.66, 0.72), int(self.base * 1.25)),
                (self.rng.uniform(0.84, 0.88), self.base),
            ]
            for fraction, capacity in plan:
                await self.clock.sleep_until(self.clock.moment(day, fraction))
                if self.clock.over():
                    return
                answer = await self.client.call("PUT", "/capacity", {"capacity": capacity})
                body = answer.body if answer.status == 200 and isinstance(answer.body, dict) else {}
                self.records.capacity_changes.append(
                    (round(self.clock.elapsed(), 1), capacity, body.get("inside"))
                )
                if answer.status != 200:
                    self.records.refused(answer.error_code)
