"""Every command of a staff account is an audit row, committed with the command, naming the account."""

from __future__ import annotations

import json
from pathlib import Path

from queue_server.domain import commands as cmd
from tests.engine.test_durability import Clock, started, stopped


async def test_counter_steps_are_audited_with_the_officer_and_their_events(tmp_path: Path) -> None:
    """call-next and finish leave one row each: the account, the action, the counter, the ticket, the seqs."""
    service = await started(tmp_path / "queue.db", Clock())
    try:
        await service.issue_ticket("a", 1, "web", None)  # a visitor: not audited
        await service.execute(cmd.CallNext("1", "budi"), actor="budi")
        await service.execute(cmd.Finish("1"), actor="budi")
        entries = await service.store.audit("0000-01-01", "9999-12-31")
        conn = service.store.db.reader()
        seqs = conn.execute("SELECT first_seq, last_seq FROM audit ORDER BY id").fetchall()
        called = conn.execute("SELECT seq FROM events WHERE type = 'ticket.called'").fetchone()[0]
    finally:
        await stopped(service)
    assert [(e["user"], e["action"], e["target"]) for e in entries] == [
        ("budi", "call_next", "1"),
        ("budi", "finish", "1"),
    ]
    assert json.loads(entries[0]["detail"])["tickets"] == ["A001"]
    assert seqs[0][0] <= called <= seqs[0][1], "the call's event lies in its row's seq range"


async def test_a_refused_step_leaves_no_audit_row(tmp_path: Path) -> None:
    """Only what was applied is in the trail: a finish with nobody at the counter is not."""
    service = await started(tmp_path / "queue.db", Clock())
    try:
        try:
            await service.execute(cmd.Finish("1"), actor="budi")
        except Exception as error:  # the domain refuses: no current ticket
            assert getattr(error, "code", None) == "no_current_ticket"
        entries = await service.store.audit("0000-01-01", "9999-12-31")
    finally:
        await stopped(service)
    assert entries == []
