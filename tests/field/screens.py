"""The screens of the simulated office: lobby displays and visitors' phones.

A `Display` follows `/ws/display` the way the lobby TV's script does: it starts
from the snapshot, applies each event whose `seq` is exactly one more than the
last applied, and after every cut reconnects with `?since=<last seq>`. It never
applies an event out of order; any frame that is not the next one is recorded
as a protocol violation by the server and the display resumes from what it has.
It also keeps a checksum of every event it applied, so the checks can prove the
screen saw exactly what the database holds under each `seq`.

A `Phone` follows `/ws/tickets/{token}`: a snapshot on every connection, then a
frame whenever the ticket's status, position or counter changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

RECENT = 10  # the server keeps this many recent calls and admissions
FINAL_STATUSES = frozenset({"done", "no_show", "cancelled"})
# Where a ticket is in its life, for "never goes back" (a transfer is the one way back).
STATUS_RANK = {
    "booked": -2,
    "remote": -1,
    "outside": 0,
    "waiting": 1,
    "called": 2,
    "serving": 3,
    "done": 4,
    "no_show": 4,
    "cancelled": 4,
}
MAX_CONNECTS = 10_000
WS_ERRORS = (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError, EOFError)

Json = dict[str, Any]


def checksum(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


async def _open(url: str) -> ClientConnection:
    # Pings every second: a stalled Wi-Fi link is noticed within ~3 s, as the lobby TV's script does.
    # proxy=None: never go through an HTTP proxy from the environment; loopback only.
    return await connect(
        url,
        proxy=None,
        open_timeout=3.0,
        ping_interval=1.0,
        ping_timeout=2.0,
        close_timeout=0.5,
        compression=None,
        max_size=None,
    )


def apply_event(state: Json, event: Json) -> list[str]:
    """Apply one office event to a display state (the snapshot's shape); return any oddities.

    This mirrors what the server does to its own state for the same event
    (docs/protocol.md), so that after the last event a screen equals GET /api/v1/state.
    """
    problems: list[str] = []
    kind = event["type"]
    counters = {c["id"]: c for c in state["counters"]}
    if isinstance(event.get("waiting"), dict):
        state["waiting"] = dict(event["waiting"])
        for service in state["services"]:
            service["waiting"] = state["waiting"].get(service["id"], service["waiting"])
    ticket = event.get("ticket")

    def counter(counter_id: Any) -> Json | None:
        found = counters.get(counter_id)
        if found is None:
            problems.append(f"seq {event['seq']} {kind} names unknown counter {counter_id!r}")
        return found

    if kind in ("ticket.called", "ticket.recalled", "ticket.serving"):
        at = counter(event.get("counter"))
        if at is not None:
            at["current"] = ticket
    elif kind in ("ticket.done", "ticket.no_show"):
        if event.get("counter") is not None:
            at = counter(event["counter"])
            if at is not None:
                at["current"] = None
        else:  # closed by the day's end: wherever it was
            for at in state["counters"]:
                if at["current"] is not None and ticket is not None and at["current"]["id"] == ticket["id"]:
                    at["current"] = None
    elif kind == "ticket.undone" and ticket is not None:
        # A step taken back: the ticket is where it was before it (at this counter, or in its queue).
        for at in state["counters"]:
            if at["current"] is not None and at["current"]["id"] == ticket["id"]:
                at["current"] = None
        if ticket["status"] in ("called", "serving"):
            at = counter(event.get("counter"))
            if at is not None:
                at["current"] = ticket
        else:
            state["recent_calls"] = [c for c in state["recent_calls"] if c["number"] != ticket["number"]]
    elif kind in ("ticket.transferred", "ticket.routed"):  # a route's next step: off the counter too
        at = counter(event.get("from_counter"))
        if at is not None:
            at["current"] = None
    elif kind == "occupancy.changed":
        state["occupancy"] = dict(event["occupancy"])
    elif kind in ("counter.opened", "counter.closed"):
        at = counter(event["counter"]["id"])
        if at is not None:
            at.clear()
            at.update(event["counter"])
    elif kind == "config.changed":
        waiting = state["waiting"]
        state["services"] = [
            {"id": s["id"], "name": s["name"], "prefix": s["prefix"], "waiting": waiting.get(s["id"], 0)}
            for s in event["services"]
        ]
        state["counters"] = [dict(c) for c in event["counters"]]
    elif kind == "day.started":
        state["day"] = event["day"]
        state["recent_calls"] = []
        state["recent_admitted"] = []
    if kind in ("ticket.called", "ticket.recalled") and ticket is not None:
        call = {
            "number": ticket["number"],
            "counter": event["counter"],
            "at": event["at"],
            "service": ticket["service"],
        }
        # One entry per number: a recall moves it to the front.
        others = [c for c in state["recent_calls"] if c["number"] != ticket["number"]]
        state["recent_calls"] = [call, *others][:RECENT]
    elif kind == "ticket.admitted" and ticket is not None:
        state["recent_admitted"] = [
            {"number": ticket["number"], "at": event["at"]},
            *state["recent_admitted"],
        ][:RECENT]
    if "queues" in state:
        fold_queues(state["queues"], kind, event, ticket)
    state["seq"] = event["seq"]
    return problems


def fold_queues(queues: dict[str, list[Json]], kind: str, event: Json, ticket: Json | None) -> None:
    """Keep the snapshot's `queues` (tickets not yet called, per service, in place order) in step."""
    if kind == "day.started":
        for service in queues:
            queues[service] = []
        return
    if kind == "config.changed":
        for service in event.get("services", []):
            queues.setdefault(service["id"], [])
        return
    if ticket is None or not kind.startswith("ticket."):
        return
    for service in queues:
        queues[service] = [t for t in queues[service] if t["id"] != ticket["id"]]
    if ticket["status"] in ("waiting", "outside", "remote") and ticket["service"] in queues:
        entry = {
            "id": ticket["id"],
            "number": ticket["number"],
            "status": ticket["status"],
            "party_size": ticket["party_size"],
            "priority": ticket.get("priority"),
        }
        # The event's view carries the ticket's place right after it (api-remote: places are not ids).
        queues[ticket["service"]].insert(ticket["position"] - 1, entry)


def state_diff(
    shown: Json, truth: Json, limit: int = 6, names: tuple[str, str] = ("screen", "server")
) -> list[str]:
    """Where a screen's state differs from the server's, field by field (empty when equal)."""
    mine_is, theirs_is = names
    diffs: list[str] = []
    for key in sorted(set(shown) | set(truth)):
        mine, theirs = shown.get(key), truth.get(key)
        if mine == theirs:
            continue
        if isinstance(mine, list) and isinstance(theirs, list):
            for index in range(max(len(mine), len(theirs))):
                a = mine[index] if index < len(mine) else "<none>"
                b = theirs[index] if index < len(theirs) else "<none>"
                if a != b:
                    diffs.append(f"{key}[{index}]: {mine_is} {_short(a)} / {theirs_is} {_short(b)}")
                    break
        else:
            diffs.append(f"{key}: {mine_is} {_short(mine)} / {theirs_is} {_short(theirs)}")
        if len(diffs) >= limit:
            break
    return diffs


def _short(value: Any, width: int = 220) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class Display:
    """One lobby TV on /ws/display."""

    name: str
    ws_base: str
    rng: random.Random
    state: Json | None = None
    connects: int = 0
    snapshots: int = 0
    resumes: int = 0
    reloads: int = 0
    applied: int = 0
    behind_closes: int = 0
    violations: list[str] = field(default_factory=list)
    applied_checksums: dict[int, int] = field(default_factory=dict)
    connected: bool = False

    @property
    def seq(self) -> int:
        return int(self.state["seq"]) if self.state else -1

    async def run(self, deadline: float, reload_p: float = 0.0) -> None:
        """Follow the office until cancelled or `deadline` (monotonic); reconnect after every cut.

        With probability `reload_p` a reconnection is a reload of the page (the TV box
        rebooted): the screen forgets its state and starts again from a snapshot.
        """
        backoff = 0.1
        for _ in range(MAX_CONNECTS):
            if time.monotonic() >= deadline:
                return
            url = f"{self.ws_base}/ws/display"
            if self.state is not None and self.rng.random() < reload_p:
                self.state = None
                self.reloads += 1
            resuming = self.state is not None
            if resuming:
                url += f"?since={self.state['seq']}"
            try:
                async with await _open(url) as ws:
                    self.connects += 1
                    self.resumes += resuming
                    backoff = 0.1
                    await self._session(ws)
            except WS_ERRORS:
                pass  # the link or the server went away: reconnect below
            except Exception as error:  # a frame this screen cannot handle is a finding, not a crash
                self.violations.append(f"{self.name}: {error!r}")
            finally:
                self.connected = False
            await asyncio.sleep(backoff * self.rng.uniform(0.5, 1.5))
            backoff = min(1.0, backoff * 2)

    async def _session(self, ws: ClientConnection) -> None:
        first = True
        self.connected = True
        async for raw in ws:
            text = raw if isinstance(raw, str) else raw.decode()
            if not self.on_frame(text, first):
                return
            first = False
        if ws.close_code == 4000:
            self.behind_closes += 1

    def on_frame(self, text: str, first: bool) -> bool:
        """Apply one frame; False when the connection must be dropped and resumed."""
        message = json.loads(text)
        if message.get("type") == "snapshot":
            if not first:
                self.violations.append(
                    f"{self.name}: a snapshot in the middle of a stream (seq {message['seq']})"
                )
            if self.state is not None and message["seq"] < self.state["seq"]:
                self.violations.append(
                    f"{self.name}: snapshot seq {message['seq']} is older than "
                    f"the applied seq {self.state['seq']}"
                )
            message.pop("type")
            self.state = message
            self.snapshots += 1
            return True
        if self.state is None:
            self.violations.append(f"{self.name}: event seq {message.get('seq')} before any snapshot")
            return False
        expected = self.state["seq"] + 1
        if message["seq"] != expected:
            how = "first frame after resume" if first else "live"
            self.violations.append(
                f"{self.name}: got seq {message['seq']} ({message['type']}) when {expected} was due ({how})"
            )
            return False  # do not apply it; reconnect and resume from what is shown
        for problem in apply_event(self.state, message):
            self.violations.append(f"{self.name}: {problem}")
        self.applied += 1
        self.applied_checksums[message["seq"]] = checksum(text)
        return True


@dataclass
class Phone:
    """A visitor's phone page on /ws/tickets/{token}."""

    name: str
    ws_base: str
    token: str
    ticket_id: int
    rng: random.Random
    view: Json | None = None
    last_seq: int = -1
    frames: int = 0
    connects: int = 0
    violations: list[str] = field(default_factory=list)
    connected: bool = False
    closed_by_server: int | None = None

    @property
    def final(self) -> bool:
        return self.view is not None and self.view["status"] in FINAL_STATUSES

    async def follow(self, deadline: float) -> None:
        """Follow the ticket until it is finished, cancelled, or `deadline` passes."""
        backoff = 0.1
        for _ in range(MAX_CONNECTS):
            if self.final or time.monotonic() >= deadline or self.closed_by_server == 4404:
                return
            try:
                since = f"?since={self.last_seq}" if self.last_seq >= 0 else ""
                async with await _open(f"{self.ws_base}/ws/tickets/{self.token}{since}") as ws:
                    self.connects += 1
                    backoff = 0.1
                    async for raw in ws:
                        self.on_frame(json.loads(raw))
                        self.connected = True  # live once this connection's snapshot is in
                        if self.final:
                            return  # the visitor is done and closes the page
                    if ws.close_code == 4404:
                        self.closed_by_server = 4404
                        self.violations.append(f"{self.name}: server says ticket {self.ticket_id} is unknown")
            except WS_ERRORS:
                pass  # the link or the server went away: reconnect below
            except Exception as error:  # a frame this screen cannot handle is a finding, not a crash
                self.violations.append(f"{self.name}: {error!r}")
            finally:
                self.connected = False
            await asyncio.sleep(backoff * self.rng.uniform(0.5, 1.5))
            backoff = min(1.0, backoff * 2)

    def on_frame(self, message: Json) -> None:
        self.frames += 1
        ticket = message.get("ticket")
        seq = message.get("seq")
        if not isinstance(ticket, dict) or not isinstance(seq, int):
            self.violations.append(f"{self.name}: malformed frame {str(message)[:120]}")
            return
        if ticket.get("id") != self.ticket_id:
            self.violations.append(f"{self.name}: frame for ticket {ticket.get('id')}, not {self.ticket_id}")
            return
        if seq < self.last_seq:
            self.violations.append(f"{self.name}: seq went back from {self.last_seq} to {seq}")
        new = ticket["status"]
        if self.view is not None and not _may_follow(self.view, ticket):
            self.violations.append(
                f"{self.name}: ticket {ticket['number']} went from {self.view['status']} to {new} (seq {seq})"
            )
        self.last_seq = max(self.last_seq, seq)
        self.view = ticket


def _may_follow(before: Json, after: Json) -> bool:
    """Whether a phone may show `after` once it showed `before` (frames in between may be missed)."""
    old, new = before["status"], after["status"]
    if old == "no_show" and new != "cancelled":
        return True  # a missed visitor may rejoin (api-remote) and go through the queue again
    if old in FINAL_STATUSES:
        return new == old
    if STATUS_RANK[new] >= STATUS_RANK[old]:
        return True
    # The one way back: a transfer puts a called or served ticket into another service's queue,
    # where it may already have been called again before the phone reconnected.
    moved = after["service"] != before["service"]
    return old in ("called", "serving") and (new == "waiting" or (new == "called" and moved))


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
