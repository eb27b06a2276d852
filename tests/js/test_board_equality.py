"""One read model: the server's Board (domain/board.py) and the screens' reducer (live/board.js)
fold the same event streams into the same board."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import QueuePolicy, RemotePolicy, ServiceConfig
from tests.domain.office_factory import Desk
from tests.support.command_streams import COMMANDS

# api-remote switched on: `a` takes remote tickets and is a route's first step (a -> b); priority and
# rejoin are offered, so the generated streams carry every new event type.
SERVICES = (
    ServiceConfig("a", "Layanan A", "A", remote_quota=4, next="b"),
    ServiceConfig("b", "Layanan B", "B"),
)
QUEUE = QueuePolicy(rejoin_within_calls=3, rejoin_after=1, priority_categories=("lansia",))
REMOTE = RemotePolicy(enabled=True, book_days_ahead=1)

STATIC_JS = Path(__file__).resolve().parents[2] / "queue_server" / "web" / "static" / "js"
BOARD_JS = STATIC_JS / "live" / "board.js"
FOLD = """
const Board = require(process.argv[1]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
let state = Board.fromSnapshot(input.snapshot);
for (const e of input.events) state = Board.reduce(state, e);
process.stdout.write(JSON.stringify(state));
"""


def comparable(board: dict[str, Any]) -> dict[str, Any]:
    """What a screen shows: counters and who is at them, counts, queues, the recent lists."""
    return {
        "seq": board["seq"],
        "day": board["day"],
        "counters": [
            {
                "id": c["id"],
                "open": c["open"],
                "reason": c.get("reason"),
                "current": _at_counter(c.get("current")),
            }
            for c in board["counters"]
        ],
        "waiting": board["waiting"],
        "services": [(s["id"], s.get("waiting")) for s in board["services"]],
        "occupancy": board["occupancy"],
        "queues": board["queues"],
        "recent_calls": [(c["number"], c["counter"], c["at"]) for c in board["recent_calls"]],
        "recent_admitted": [(a["number"], a["at"]) for a in board["recent_admitted"]],
    }


def _at_counter(ticket: dict[str, Any] | None) -> tuple[str, str] | None:
    return None if ticket is None else (ticket["number"], ticket["status"])


def fold_in_node(snapshot: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the board-equality test (Debian: apt-get install nodejs)")
    result = subprocess.run(
        [node, "-e", FOLD, str(BOARD_JS)],
        input=json.dumps({"snapshot": snapshot, "events": events}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    folded: dict[str, Any] = json.loads(result.stdout)
    return folded


def run(desk: Desk, commands: list[Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    start = desk.snapshot()
    first = len(desk.events)
    for command in commands:
        with contextlib.suppress(DomainError):  # a refused command changes nothing and emits nothing
            desk.do(command)
    return start, [ev.as_dict(e) for e in desk.events[first:]]


def test_issue_call_recall_gives_one_recent_call_on_the_server_and_the_screen() -> None:
    """The bug of issue 9: a recall must not show a number twice on a TV that reloads."""
    desk = Desk()
    start, events = run(desk, [cmd.IssueTicket("a", 1, "h1"), cmd.CallNext("1"), cmd.Recall("1")])
    server = desk.snapshot()
    assert [c["number"] for c in server["recent_calls"]] == ["A001"]
    assert comparable(fold_in_node(start, events)) == comparable(server)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(COMMANDS, min_size=1, max_size=40), st.booleans())
def test_the_screens_fold_equals_the_servers_board(commands: list[Any], midnight: bool) -> None:
    """Any stream of commands (with a day's end in it or not), api-remote's included (priority, remote
    tickets and bookings, check-in, rejoin, a route): node's fold of the events equals the Board."""
    desk = Desk(capacity=4, services=SERVICES, queue=QUEUE, remote=REMOTE)
    today = desk.clock.now.date()

    def distinct(i: int, c: Any) -> Any:
        if isinstance(c, cmd.IssueTicket):
            return cmd.IssueTicket(c.service, c.party_size, f"token-{i}", priority=c.priority)
        if isinstance(c, tuple):
            return cmd.IssueRemote("a", 1, f"token-{i}", (today + timedelta(days=c[1])).isoformat())
        return c

    start, events = run(desk, [distinct(i, c) for i, c in enumerate(commands)])
    if midnight:
        desk.clock.advance(24 * 3600)
        closing = desk.office.roll_over(desk.clock.now)
        for event in closing:
            desk.board.apply(event)
        events += [ev.as_dict(e) for e in closing]
    assert comparable(fold_in_node(start, events)) == comparable(desk.snapshot())


def test_every_api_remote_event_folds_the_same_on_the_server_and_the_screen() -> None:
    """A stream with ticket.issued (remote, booked, priority), checked_in, rejoined, routed and activated."""
    desk = Desk(capacity=4, services=SERVICES, queue=QUEUE, remote=REMOTE)
    tomorrow = (desk.clock.now.date() + timedelta(days=1)).isoformat()
    today = desk.clock.now.date().isoformat()
    commands: list[Any] = [
        cmd.IssueTicket("a", 1, "t1"),
        cmd.IssueRemote("a", 1, "t2", today),
        cmd.IssueTicket("a", 1, "t3", priority="lansia"),
        cmd.IssueRemote("a", 1, "t4", tomorrow),
        cmd.CallNext("1"),
        cmd.NoShow("1"),
        cmd.CheckIn(number="A002"),
        cmd.Rejoin(number="A003"),
        cmd.CallNext("1"),
        cmd.Finish("1"),
        cmd.Rejoin(number="A003"),
    ]
    start, events = run(desk, commands)
    desk.clock.advance(24 * 3600)
    closing = desk.office.roll_over(desk.clock.now)
    for event in closing:
        desk.board.apply(event)
    events += [ev.as_dict(e) for e in closing]
    types = {e["type"] for e in events}
    assert {"ticket.checked_in", "ticket.rejoined", "ticket.routed", "ticket.activated"} <= types, types
    assert comparable(fold_in_node(start, events)) == comparable(desk.snapshot())
