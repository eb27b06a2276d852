"""The invariants, checked after the day from three witnesses that do not share code paths:
what the clients were answered, what the screens received, and the database
(read with sqlite3 once the server has stopped).

The events table holds every event across restarts, so most rules are checked
by replaying it from seq 1; the replay's final ticket statuses must also equal
the tickets table, which proves the events really are the whole history.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.field.actors import UNKNOWN, Records
from tests.field.office import (
    MAX_PRIORITY_IN_A_ROW,
    REJOIN_WITHIN_CALLS,
    REMOTE_QUOTA,
    REMOTE_SERVICE,
    ROUTES,
    SERVICES,
    Restart,
)
from tests.field.screens import Display, checksum, state_diff

MAX_DETAILS = 8
PREFIX = {service_id: prefix for service_id, _name, prefix, _share in SERVICES}


@dataclass
class Check:
    name: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def fail(self, problem: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_DETAILS:
            self.problems.append(problem)


@dataclass
class Database:
    events: list[dict[str, Any]]
    checksums: dict[int, int]
    tickets: dict[int, dict[str, Any]]
    idempotency: list[tuple[str, str, int, Any]]
    office: dict[str, Any]


def read_database(path: Path) -> Database:
    """Everything the checks need, read directly with sqlite3 (the server is stopped)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        events: list[dict[str, Any]] = []
        checksums: dict[int, int] = {}
        for row in conn.execute("SELECT seq, type, at, body FROM events ORDER BY seq"):
            body = json.loads(row["body"])
            if body.get("seq") != row["seq"] or body.get("type") != row["type"]:
                body["_mismatch"] = f"row seq {row['seq']} type {row['type']}"
            events.append(body)
            checksums[row["seq"]] = checksum(row["body"])
        tickets = {row["id"]: dict(row) for row in conn.execute("SELECT * FROM tickets")}
        idempotency = [
            (row["scope"], row["key"], *_as_http(row["scope"], json.loads(row["body"])))
            for row in conn.execute("SELECT scope, key, body FROM idempotency")
        ]
        office_row = conn.execute("SELECT * FROM office_state WHERE id = 1").fetchone()
        office = dict(office_row) if office_row else {}
    finally:
        conn.close()
    return Database(events, checksums, tickets, idempotency, office)


def _as_http(scope: str, result: dict[str, Any]) -> tuple[int, Any]:
    """A stored idempotency record (the engine's typed result) as the status and body it was answered with."""
    kind = result.get("kind")
    if kind == "ticket":
        return (201 if scope.startswith("tickets|") else 200), result["ticket"]
    if kind in ("no_ticket", "nothing"):
        return 204, None
    if kind == "counter":
        return 200, {"id": result["id"], "open": result["open"]}
    if kind == "occupancy":
        return 200, result["occupancy"]
    return 200, result


# ----- replaying the event history ---------------------------------------------------------------


@dataclass
class Replay:
    """Walks the events in seq order, holding what the office must have looked like."""

    capacity: int
    status: dict[int, str] = field(default_factory=dict)
    current: dict[str, int | None] = field(default_factory=dict)
    calls: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    outside: list[int] = field(default_factory=list)
    admitted_now: list[int] = field(default_factory=list)
    occupancy: dict[str, int] = field(default_factory=dict)
    one_counter: Check = field(
        default_factory=lambda: Check("no ticket current at two counters, none called twice")
    )
    capacity_check: Check = field(default_factory=lambda: Check("occupancy never over capacity"))
    fifo: Check = field(default_factory=lambda: Check("admission FIFO, no overtaking"))
    history: Check = field(
        default_factory=lambda: Check("events: seq 1..N without gaps; they are the whole history")
    )
    remote: Check = field(
        default_factory=lambda: Check("remote tickets: never inside or called before check-in; quota kept")
    )
    rejoins: Check = field(default_factory=lambda: Check("rejoin: once, from a no-show, inside its window"))
    fairness: Check = field(
        default_factory=lambda: Check(
            "priority: oldest first, at most the bound in a row while a normal waits"
        )
    )
    routes: Check = field(
        default_factory=lambda: Check("routes: each step in order, same number, still inside")
    )
    # Per service, the waiting tickets (id -> priority?), the calls made and the priority run.
    waiting: dict[str, dict[int, bool]] = field(default_factory=lambda: defaultdict(dict))
    service_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    runs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    call_runs: dict[int, tuple[int, int]] = field(default_factory=dict)  # per call: the run before, after
    no_show_mark: dict[int, int] = field(default_factory=dict)
    rejoined: set[int] = field(default_factory=set)
    remote_issued: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    remote_held: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))  # not cancelled
    remote_of: dict[int, tuple[str, str]] = field(default_factory=dict)
    over_after_rejoin: int = 0
    rejoined_now: bool = False
    counts: Counter[str] = field(default_factory=Counter)
    admissions: int = 0
    queued_outside: int = 0
    over_after_lowering: int = 0
    max_inside: int = 0
    max_outside: int = 0

    def __post_init__(self) -> None:
        self.occupancy = {"inside": 0, "capacity": self.capacity, "outside": 0, "outside_people": 0}

    def run(self, events: list[dict[str, Any]]) -> None:
        for index, event in enumerate(events, start=1):
            if event.get("seq") != index:
                self.history.fail(f"event #{index} has seq {event.get('seq')}")
            if "_mismatch" in event:
                self.history.fail(f"event body seq/type differ from its row: {event['_mismatch']}")
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        seq = event["seq"]
        ticket = event.get("ticket")
        if kind == "occupancy.changed":
            self._occupancy(seq, event["occupancy"])
            return
        if kind == "day.started":
            self.outside.clear()
            return
        if ticket is None or not kind.startswith("ticket."):
            return
        tid = ticket["id"]
        before = self.status.get(tid)
        after = ticket["status"]
        where = f"seq {seq} {kind} {ticket['number']} (id {tid})"
        if kind != "ticket.issued" and before is None:
            self.history.fail(f"{where}: no ticket.issued before it")
        handler = getattr(self, "_" + kind.split(".", 1)[1], None)
        if handler is not None:
            handler(event, ticket, before, where)
        self.status[tid] = after
        self.counts[kind] += 1
        # The waiting set per service, for the fairness bound (after the handler saw it as before).
        for queue in self.waiting.values():
            queue.pop(tid, None)
        if after == "waiting":
            self.waiting[ticket["service"]][tid] = ticket.get("priority") is not None

    # --- ticket events ---

    def _issued(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        tid = ticket["id"]
        if before is not None:
            self.history.fail(f"{where}: issued twice")
        if ticket["status"] == "remote":
            day_service = (ticket["day"], ticket["service"])
            self.remote_issued[day_service] += 1
            self.remote_held[day_service] += 1  # a cancelled one gives its slot back
            self.remote_of[tid] = day_service
            if ticket["service"] != REMOTE_SERVICE:
                self.remote.fail(f"{where}: a remote ticket of {ticket['service']}, which takes none")
            elif self.remote_held[day_service] > REMOTE_QUOTA:
                self.remote.fail(
                    f"{where}: {self.remote_held[day_service]} remote tickets held, quota {REMOTE_QUOTA}"
                )
        elif ticket["status"] == "outside":
            self.outside.append(tid)
            self.queued_outside += 1
        elif ticket["status"] == "waiting":
            if self.outside:
                ahead = self.outside[0]
                self.fifo.fail(f"{where}: issued straight inside while ticket id {ahead} waited outside")
            self.admitted_now.append(tid)
        else:
            self.history.fail(f"{where}: issued as {ticket['status']}")

    def _admitted(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        tid = ticket["id"]
        self.admissions += 1
        if before != "outside":
            self.fifo.fail(f"{where}: admitted while {before}")
        if not self.outside or self.outside[0] != tid:
            head = self.outside[0] if self.outside else None
            self.fifo.fail(f"{where}: admitted ahead of ticket id {head}, which was issued earlier")
        if tid in self.outside:
            self.outside.remove(tid)
        self.admitted_now.append(tid)

    def _called(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        tid, counter = ticket["id"], event["counter"]
        if before != "waiting":
            self.one_counter.fail(f"{where}: called at counter {counter} while {before}")
        if before == "remote":
            self.remote.fail(f"{where}: called before it was checked in")
        self._fair_call(ticket, where)
        for other, holding in self.current.items():
            if holding == tid and other != counter:
                self.one_counter.fail(
                    f"{where}: called at counter {counter} while current at counter {other}"
                )
        if self.current.get(counter) is not None:
            self.one_counter.fail(
                f"{where}: counter {counter} still had ticket id {self.current[counter]} as current"
            )
        self.current[counter] = tid
        self.calls[counter].append(tid)
        self._expect(ticket, "called", where)

    def _recalled(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        self._at_counter(event["counter"], ticket, where)
        self._expect(ticket, "called", where)

    def _serving(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        self._at_counter(event["counter"], ticket, where)
        if before != "called":
            self.one_counter.fail(f"{where}: served while {before}")
        self._expect(ticket, "serving", where)

    def _done(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        self._release(event.get("counter"), ticket, before, where, ("called", "serving"))
        self._expect(ticket, "done", where)

    def _no_show(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        if before == "remote" and event.get("counter") is None:  # the day ended before its check-in
            self._expect(ticket, "no_show", where)
            return
        self._release(event.get("counter"), ticket, before, where, ("called",))
        self.no_show_mark[ticket["id"]] = self.service_calls[ticket["service"]]
        self._expect(ticket, "no_show", where)

    def _transferred(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        self._release(event.get("from_counter"), ticket, before, where, ("called", "serving"))
        self._expect(ticket, "waiting", where)

    def _checked_in(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        tid = ticket["id"]
        if before != "remote":
            self.remote.fail(f"{where}: checked in while {before}")
        if ticket["status"] == "outside":
            # Its place is its issue time: outside, it goes ahead of tickets issued after it.
            self.outside.append(tid)
            self.outside.sort()
            self.queued_outside += 1
        elif ticket["status"] == "waiting":
            if any(other < tid for other in self.outside):
                self.fifo.fail(f"{where}: checked in straight inside while an earlier ticket waited outside")
            self.admitted_now.append(tid)
        else:
            self.remote.fail(f"{where}: checked in as {ticket['status']}")

    def _rejoined(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        tid = ticket["id"]
        if before != "no_show":
            self.rejoins.fail(f"{where}: rejoined while {before}")
        if tid in self.rejoined:
            self.rejoins.fail(f"{where}: rejoined a second time")
        mark = self.no_show_mark.get(tid)
        since = self.service_calls[ticket["service"]] - mark if mark is not None else None
        if since is None or since >= REJOIN_WITHIN_CALLS:
            self.rejoins.fail(
                f"{where}: rejoined {since} calls after its no-show (window {REJOIN_WITHIN_CALLS})"
            )
        self.rejoined.add(tid)
        self.rejoined_now = True  # the visitor is back inside even if the office is full
        self._expect(ticket, "waiting", where)

    def _routed(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        self._release(event.get("from_counter"), ticket, before, where, ("called", "serving"))
        if ROUTES.get(event.get("from_service", "")) != ticket["service"]:
            self.routes.fail(f"{where}: routed from {event.get('from_service')} to {ticket['service']}")
        if ticket.get("route", [])[ticket.get("step", 0) - 1 : ticket.get("step", 0)] != [ticket["service"]]:
            self.routes.fail(f"{where}: step {ticket.get('step')} of {ticket.get('route')}")
        self._expect(ticket, "waiting", where)

    def _fair_call(self, ticket: dict[str, Any], where: str) -> None:
        """The call of a waiting ticket, against the priority rule of its service."""
        service, tid = ticket["service"], ticket["id"]
        waiting = self.waiting[service]
        self.service_calls[service] += 1
        normal_waits = any(not priority for other, priority in waiting.items() if other != tid)
        run_before = self.runs[service]
        if ticket.get("priority") is not None and normal_waits:
            self.runs[service] += 1
            if self.runs[service] > MAX_PRIORITY_IN_A_ROW:
                self.fairness.fail(
                    f"{where}: priority call {self.runs[service]} in a row while a normal waited"
                )
        else:
            self.runs[service] = 0
        if (
            ticket.get("priority") is None
            and any(priority for priority in waiting.values())
            and (run_before < MAX_PRIORITY_IN_A_ROW)
        ):
            self.fairness.fail(f"{where}: a normal ticket went before a waiting priority ticket")
        self.call_runs[tid] = (run_before, self.runs[service])

    def _undone(self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str) -> None:
        if ticket["status"] in ("waiting", "outside") and before == "called":
            # The call never happened: not for the rejoin window, not for the priority run (undo.py).
            service = ticket["service"]
            self.service_calls[service] -= 1
            run_before, run_after = self.call_runs.get(ticket["id"], (0, 0))
            if self.runs[service] == run_after:
                self.runs[service] = run_before

    def _cancelled(
        self, event: dict[str, Any], ticket: dict[str, Any], before: str | None, where: str
    ) -> None:
        tid = ticket["id"]
        if tid in self.remote_of:
            self.remote_held[self.remote_of.pop(tid)] -= 1
        if before not in ("outside", "waiting", "remote"):
            self.history.fail(f"{where}: cancelled while {before}")
        if tid in self.outside:
            self.outside.remove(tid)
        self._expect(ticket, "cancelled", where)

    def _at_counter(self, counter: str, ticket: dict[str, Any], where: str) -> None:
        if self.current.get(counter) != ticket["id"]:
            self.one_counter.fail(
                f"{where}: counter {counter} does not hold it (holds {self.current.get(counter)})"
            )

    def _release(
        self,
        counter: str | None,
        ticket: dict[str, Any],
        before: str | None,
        where: str,
        allowed: tuple[str, ...],
    ) -> None:
        if before not in allowed:
            self.one_counter.fail(f"{where}: left a counter while {before}")
        if counter is None:  # the day ended: wherever it was
            for key, holding in self.current.items():
                if holding == ticket["id"]:
                    self.current[key] = None
            return
        self._at_counter(counter, ticket, where)
        self.current[counter] = None

    def _expect(self, ticket: dict[str, Any], status: str, where: str) -> None:
        if ticket["status"] != status:
            self.history.fail(f"{where}: carries status {ticket['status']}, expected {status}")

    # --- occupancy ---

    def _occupancy(self, seq: int, now: dict[str, int]) -> None:
        before = self.occupancy
        over = now["inside"] > now["capacity"]
        self.max_inside = max(self.max_inside, now["inside"])
        self.max_outside = max(self.max_outside, now["outside"])
        rejoined, self.rejoined_now = self.rejoined_now, False
        if over and rejoined:
            self.over_after_rejoin += 1  # allowed: a missed visitor is back in the building
        elif over:
            if now["inside"] > before["inside"]:
                self.capacity_check.fail(
                    f"seq {seq}: inside rose {before['inside']} -> {now['inside']} "
                    f"over capacity {now['capacity']}"
                )
            elif self.admitted_now:
                self.capacity_check.fail(
                    f"seq {seq}: ticket ids {self.admitted_now} let in while inside {now['inside']} "
                    f"> capacity {now['capacity']}"
                )
            else:
                # Allowed: the admin lowered the capacity below the people already inside.
                self.over_after_lowering += 1
        if now["outside"] != len(self.outside):
            self.fifo.fail(
                f"seq {seq}: occupancy says {now['outside']} tickets outside, "
                f"the events say {len(self.outside)}"
            )
        self.admitted_now = []
        self.occupancy = dict(now)


# ----- the checks -------------------------------------------------------------------------------


def check_tickets(records: Records, db: Database) -> Check:
    check = Check("every 201 ticket exists with its number; one ticket per Idempotency-Key")
    by_key: dict[str, int] = {}
    answered = 0
    for issue in records.issues:
        ticket = issue.ticket
        if ticket is None:
            continue
        answered += 1
        row = db.tickets.get(ticket["id"])
        if row is None:
            check.fail(
                f"key {issue.key}: answered {ticket['number']} (id {ticket['id']}) but it is not in the DB"
            )
            continue
        for name, value in (
            ("number", ticket["number"]),
            ("day", ticket["day"]),
            ("party_size", issue.party_size),
        ):
            if row[name] != value:
                check.fail(f"key {issue.key}: answered {name} {value!r}, DB has {row[name]!r}")
        if row["issued_service"] != issue.service:
            check.fail(f"key {issue.key}: asked for {issue.service}, DB has {row['issued_service']}")
        if hashlib.sha256(ticket["token"].encode()).hexdigest() != row["token_hash"]:
            check.fail(f"key {issue.key}: token answered does not open ticket {ticket['number']}")
        by_key[issue.key] = ticket["id"]
    owners = Counter(by_key.values())
    for ticket_id, count in owners.items():
        if count > 1:
            check.fail(f"ticket id {ticket_id} was answered to {count} different keys")
    sent_keys = {issue.key for issue in records.issues}
    recorded: dict[int, list[str]] = defaultdict(list)
    for scope, key, status, body in db.idempotency:
        if not scope.startswith("tickets|"):  # tickets|<client>|<service>|<party size>
            continue
        if key not in sent_keys:
            check.fail(f"the DB remembers ticket key {key}, which no visitor sent")
        if status == 201 and isinstance(body, dict):
            recorded[body["id"]].append(key)
            if key in by_key and by_key[key] != body["id"]:
                check.fail(f"key {key}: answered id {by_key[key]}, the DB's answer for it is id {body['id']}")
    for ticket_id in db.tickets:
        keys = recorded.get(ticket_id, [])
        if len(keys) != 1:
            check.fail(f"ticket id {ticket_id} was issued under {len(keys)} keys ({keys[:3]})")
    orphans = len(db.tickets) - answered
    check.facts.append(
        f"{answered} answered 201, {len(db.tickets)} in the DB "
        f"({orphans} issued whose visitor never got the answer)"
    )
    return check


def check_numbers(db: Database) -> Check:
    check = Check("numbers unique and contiguous per service per day")
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in db.tickets.values():
        groups[(row["day"], row["issued_service"])].append(row)
    seen: dict[tuple[str, str], int] = {}
    for (day, service), rows in sorted(groups.items()):
        sequences = sorted(r["sequence"] for r in rows)
        if sequences != list(range(1, len(rows) + 1)):
            missing = sorted(set(range(1, max(sequences) + 1)) - set(sequences))[:5]
            dupes = [s for s, n in Counter(sequences).items() if n > 1][:5]
            check.fail(
                f"{day} {service}: sequences not 1..{len(rows)} (missing {missing}, duplicated {dupes})"
            )
        for row in rows:
            expected = f"{PREFIX.get(service, '?')}{row['sequence']:03d}"
            if row["number"] != expected:
                check.fail(f"ticket id {row['id']}: number {row['number']}, expected {expected}")
            if (day, row["number"]) in seen:
                check.fail(
                    f"{day}: number {row['number']} given to ids {seen[(day, row['number'])]} and {row['id']}"
                )
            seen[(day, row["number"])] = row["id"]
        check.facts.append(f"{day} {service}: {PREFIX.get(service)}001..{len(rows)}")
    return check


def check_history(replay: Replay, db: Database, final_state: dict[str, Any] | None) -> Check:
    check = replay.history
    last = db.events[-1]["seq"] if db.events else 0
    if db.office.get("seq") != last:
        check.fail(f"office_state.seq {db.office.get('seq')} but the last event is {last}")
    if final_state is not None and final_state["seq"] != last:
        check.fail(f"the server's last state had seq {final_state['seq']}, the DB's last event is {last}")
    for ticket_id, row in db.tickets.items():
        replayed = replay.status.get(ticket_id)
        if replayed != row["status"]:
            check.fail(
                f"ticket {row['number']} (id {ticket_id}): DB says {row['status']}, events say {replayed}"
            )
    check.facts.append(f"{last} events")
    return check


def check_counters(replay: Replay, db: Database) -> Check:
    check = replay.one_counter
    holding = {r["counter"]: r["id"] for r in db.tickets.values() if r["status"] in ("called", "serving")}
    held = Counter(r["counter"] for r in db.tickets.values() if r["status"] in ("called", "serving"))
    for counter, count in held.items():
        if count > 1:
            check.fail(f"DB: {count} tickets are current at counter {counter}")
    replayed = {c: t for c, t in replay.current.items() if t is not None}
    if replayed != holding:
        check.fail(f"DB currents {holding} differ from the events' {replayed}")
    return check


def check_presses(records: Records, replay: Replay, db: Database) -> Check:
    check = Check("each 'call next' press (through retries) called at most one visitor")
    pressed = {p.key: p for p in records.presses}
    recorded: dict[str, tuple[str, int, Any]] = {}
    from_records: dict[str, list[int]] = defaultdict(list)
    for scope, key, status, body in db.idempotency:
        if not scope.startswith("call-next:"):
            continue
        counter = scope.split(":", 1)[1]
        recorded[key] = (counter, status, body)
        if key not in pressed:
            check.fail(f"the DB remembers press {key} at counter {counter}, which no officer made")
        if status == 200:
            from_records[counter].append(body["id"])
    retried = 0
    for key, press in pressed.items():
        answer = press.answer
        if answer.attempts > 1:
            retried += 1
        if answer.status not in (200, 204):
            continue
        got = recorded.get(key)
        if got is None:
            check.fail(f"press {key}: answered {answer.status} but the server kept no record of it")
            continue
        answered_id = answer.body["id"] if answer.status == 200 else None
        stored_id = got[2]["id"] if got[1] == 200 else None
        if answered_id != stored_id:
            check.fail(f"press {key}: answered ticket {answered_id}, the server's record says {stored_id}")
    for counter in sorted(set(replay.calls) | set(from_records)):
        events = Counter(replay.calls.get(counter, []))
        kept = Counter(from_records.get(counter, []))
        if events != kept:
            extra = list((events - kept).elements())[:5]
            check.fail(f"counter {counter}: calls without a press of their own: ticket ids {extra}")
    calls = sum(len(v) for v in replay.calls.values())
    check.facts.append(f"{len(pressed)} presses ({retried} retried), {calls} calls")
    return check


def check_screens(
    displays: list[Display], db: Database, comparisons: list[tuple[str, str, list[str]]]
) -> Check:
    check = Check("screens: each event applied once, in order, as stored; equal to the server at the end")
    for display in displays:
        for violation in display.violations:
            check.fail(violation)
        for seq, crc in display.applied_checksums.items():
            if db.checksums.get(seq) != crc:
                check.fail(f"{display.name}: applied seq {seq}, which differs from the DB's event {seq}")
                break
    for moment, name, diffs in comparisons:
        for diff in diffs:
            if name == "settling":
                check.fail(f"{moment}: not caught up with the server in time: {diff}")
            else:
                check.fail(f"{moment}: {name} differs from GET /api/v1/state: {diff}")
    for display in displays:
        check.facts.append(
            f"{display.name}: {display.connects} connections ({display.resumes} resumed with since, "
            f"{display.reloads} reloads), {display.snapshots} snapshots, "
            f"{display.applied} events applied, {display.behind_closes} closed as behind"
        )
    return check


def check_restart(
    before: dict[str, Any] | None, after: dict[str, Any] | None, restart: Restart | None
) -> Check:
    """With nothing happening, a restart must not change what the office shows (same seq, same state)."""
    check = Check("a restart at closing time changes nothing (same seq, same snapshot)")
    if before is None or after is None or restart is None:
        check.fail("not checked: the server was not up at closing time (see the run check)")
        return check
    for diff in state_diff(before, after, names=("before", "after")):
        check.fail(f"{restart.signal} restart at seq {before['seq']}: {diff}")
    check.facts.append(f"{restart.signal} at seq {before['seq']}, seq after {after['seq']}")
    return check


def check_phones(records: Records, db: Database, finals: list[tuple[str, list[str]]]) -> Check:
    check = Check("phones: views never go back; each matches the server at the end")
    ended = 0
    # A phone stops following at a no-show; the visitor may still rejoin later (api-remote).
    rejoined = {e["ticket"]["id"] for e in db.events if e["type"] == "ticket.rejoined"}
    for phone in records.phones:
        for violation in phone.violations:
            check.fail(violation)
        if phone.final and phone.view is not None:
            ended += 1
            row = db.tickets.get(phone.ticket_id)
            if phone.view["status"] == "no_show" and phone.ticket_id in rejoined:
                continue
            if row is None or row["status"] != phone.view["status"]:
                check.fail(f"{phone.name}: showed {phone.view['status']}, DB has {row and row['status']}")
    for name, diffs in finals:
        for diff in diffs:
            check.fail(f"{name}: {diff}")
    frames = sum(p.frames for p in records.phones)
    connects = sum(p.connects for p in records.phones)
    check.facts.append(
        f"{len(records.phones)} phones, {connects} connections, {frames} frames, {ended} saw their ticket end"
    )
    return check


# Events a counter step causes, and the steps that may cause them at that counter.
STEP_EVENTS = {
    "ticket.recalled": (("recall",), "counter"),
    "ticket.serving": (("serve",), "counter"),
    "ticket.no_show": (("no-show",), "counter"),
    "ticket.transferred": (("transfer",), "from_counter"),
    "ticket.done": (("finish", "call-next"), "counter"),  # "call next" first closes the current visit
}


def check_steps(records: Records, db: Database, wall_started: float) -> Check:
    """Every recall, serve, finish, no-show, transfer (and the close a "call next" does) must reach
    the visitor the officer pressed it for.

    These steps carry no ticket number and no Idempotency-Key (api-v1), so a try
    held on a stalled link that reaches the server after the officer retried and
    moved on applies to whoever is current by then: the next visitor is served,
    finished or marked no-show without anyone pressing for them (skipped), and
    the reports' times are wrong. A retried step applied twice to the same visitor
    (a recall announced twice) is counted as a fact, not a failure.
    """
    check = Check("counter steps reached the visitor the officer meant (none hit the next visitor)")
    sent: Counter[tuple[str | None, str, int | None]] = Counter()
    for step in records.sent_steps:
        sent[(step.counter, step.action, step.meant)] += 1
    for press in records.presses:
        sent[(press.counter, "call-next", press.meant)] += 1
    ever = set(sent)
    twice: Counter[str] = Counter()
    for event in db.events:
        rule = STEP_EVENTS.get(event["type"])
        if rule is None:
            continue
        actions, counter_field = rule
        counter = event.get(counter_field)
        if counter is None:
            continue  # closed by the day's end, not by an officer
        ticket = event["ticket"]
        found = next((a for a in actions if sent[(counter, a, ticket["id"])] > 0), None)
        if found is None:
            found = next((a for a in actions if sent[(counter, a, UNKNOWN)] > 0), None)
            if found is not None:
                sent[(counter, found, UNKNOWN)] -= 1
                continue
        else:
            sent[(counter, found, ticket["id"])] -= 1
            continue
        again = next((a for a in actions if (counter, a, ticket["id"]) in ever), None)
        if again is not None:
            twice[again] += 1
            continue
        check.fail(
            f"seq {event['seq']} {event['type']}: {ticket['number']} (id {ticket['id']}) at counter "
            f"{counter}, but officer {counter} pressed no {'/'.join(actions)} for it"
            + _suspect(records, counter, actions, event, wall_started)
        )
    check.facts.append(
        f"{len(records.sent_steps)} steps and {len(records.presses)} presses sent; applied twice to the same "
        f"visitor through a retry: {dict(twice) or 'none'}"
    )
    return check


def _suspect(
    records: Records, counter: str, actions: tuple[str, ...], event: dict[str, Any], wall_started: float
) -> str:
    """The likely culprit: the latest retried step of that kind at that counter before the event."""
    happened = datetime.fromisoformat(event["at"]).timestamp() - wall_started
    retried = [
        s
        for s in records.sent_steps
        if s.counter == counter and s.action in actions and s.attempts > 1 and s.at <= happened + 1.0
    ]
    if not retried:
        return ""
    step = max(retried, key=lambda s: s.at)
    return (
        f"; likely the first try of '{step.action}' pressed {happened - step.at:.1f} s earlier for id "
        f"{step.meant} (answered {step.status} after {step.attempts} tries), held up on the link and "
        "delivered after the officer had moved on"
    )
