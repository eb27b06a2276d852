"""One read model: the server's Board (domain/board.py) and the screens' reducer (live/board.js)
fold the same event streams into the same board."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.domain.errors import DomainError
from tests.domain.office_factory import Desk

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


def run(desk: Desk, commands: list[cmd.Command]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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


COMMANDS = st.one_of(
    st.builds(lambda s, p: cmd.IssueTicket(s, p, ""), st.sampled_from(["a", "b"]), st.integers(1, 3)),
    st.builds(cmd.CallNext, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.Recall, st.sampled_from(["1", "2"])),
    st.builds(cmd.Serve, st.sampled_from(["1", "2"])),
    st.builds(cmd.Finish, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.NoShow, st.sampled_from(["1", "2"])),
    st.builds(cmd.Transfer, st.sampled_from(["1", "2"]), st.sampled_from(["a", "b"])),
    st.builds(cmd.Undo, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.CancelTicket, st.integers(1, 8)),
    st.builds(cmd.CloseCounter, st.sampled_from(["2", "3"]), st.sampled_from([None, "break"])),
    st.builds(cmd.OpenCounter, st.sampled_from(["2", "3"])),
    st.builds(cmd.DoorEnter, st.integers(1, 2)),
    st.builds(cmd.DoorExit, st.integers(1, 2)),
    st.builds(cmd.CallNumber, st.sampled_from(["1", "2"]), st.sampled_from(["A001", "A002", "B001", "B002"])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(COMMANDS, min_size=1, max_size=40), st.booleans())
def test_the_screens_fold_equals_the_servers_board(commands: list[cmd.Command], midnight: bool) -> None:
    """Any stream of commands (with a day's end in it or not): node's fold of the events equals the Board."""
    desk = Desk(capacity=4)
    unique = [
        cmd.IssueTicket(c.service, c.party_size, f"token-{i}") if isinstance(c, cmd.IssueTicket) else c
        for i, c in enumerate(commands)
    ]
    start, events = run(desk, unique)
    if midnight:
        desk.clock.advance(24 * 3600)
        closing = desk.office.roll_over(desk.clock.now)
        for event in closing:
            desk.board.apply(event)
        events += [ev.as_dict(e) for e in closing]
    assert comparable(fold_in_node(start, events)) == comparable(desk.snapshot())
