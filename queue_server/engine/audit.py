"""The audit trail: every command a staff account makes is one row, committed in the same batch.

A row names the account, a short snake_case action, its target (a counter id or a
ticket number) and the seq range of the events the command caused, so reports
can tell which officer started each visit.
"""

from __future__ import annotations

import json
from typing import Any

from queue_server.domain import admin, supervise
from queue_server.domain import commands as cmd
from queue_server.domain import events as ev
from queue_server.store.day import AuditRow

ACTIONS: dict[type, str] = {
    cmd.CallNext: "call_next",
    cmd.CallNumber: "call_number",
    cmd.Recall: "recall",
    cmd.Serve: "serve",
    cmd.Finish: "finish",
    cmd.NoShow: "no_show",
    cmd.Transfer: "transfer",
    cmd.Undo: "undo",
    cmd.OpenCounter: "counter_opened",
    cmd.CloseCounter: "counter_closed",
    cmd.DoorEnter: "door_enter",
    cmd.DoorExit: "door_exit",
    cmd.SetCapacity: "capacity_changed",
    cmd.CancelTicket: "ticket_cancelled",
    cmd.IssueTicket: "ticket_issued",
    cmd.IssueRemote: "remote_ticket_issued",
    cmd.CheckIn: "ticket_checked_in",
    cmd.Rejoin: "ticket_rejoined",
    admin.CreateService: "service_created",
    admin.UpdateService: "service_updated",
    admin.CreateCounter: "counter_created",
    admin.UpdateCounter: "counter_updated",
    admin.SetHours: "hours_changed",
    admin.SetRunningText: "running_text_changed",
    supervise.SupervisorCancel: "ticket_cancelled",
    supervise.Reactivate: "ticket_reactivated",
    supervise.SupervisorTransfer: "ticket_transferred",
}


def row(
    actor: str,
    command: cmd.Command | admin.AdminCommand | supervise.SupervisorCommand,
    at: str,
    events: list[ev.Event],
) -> AuditRow:
    """The audit row of one applied command (`events`: the ones it caused, in order)."""
    detail: dict[str, Any] = {}
    target = getattr(command, "counter", None) or ""
    tickets = [e.ticket["number"] for e in events if e.ticket is not None]
    if tickets:
        detail["tickets"] = list(dict.fromkeys(tickets))
    match command:
        case cmd.CallNumber():
            detail["number"] = command.number
        case cmd.Transfer():
            detail["service"] = command.service
        case cmd.CloseCounter():
            detail["reason"] = command.reason
        case cmd.DoorEnter() | cmd.DoorExit():
            detail["count"] = command.count
        case cmd.SetCapacity():
            detail["capacity"] = command.capacity
        case cmd.IssueTicket():
            target = command.service
        case cmd.IssueRemote():
            target = command.service  # never the NIK hash or the holders
            detail["date"] = command.date
        case cmd.CheckIn() | cmd.Rejoin():
            target = tickets[0] if tickets else (command.number or str(command.ticket_id))
        case cmd.CancelTicket() | supervise.SupervisorCancel() | supervise.Reactivate():
            target = tickets[0] if tickets else str(command.ticket_id)
        case supervise.SupervisorTransfer():
            target = tickets[0] if tickets else str(command.ticket_id)
            detail["service"] = command.service
        case admin.CreateService() | admin.CreateCounter():
            target = command.id
            detail["name"] = command.name
        case admin.UpdateService() | admin.UpdateCounter():
            target = command.id
            detail["changes"] = dict(command.changes)
        case admin.SetHours():
            target = "hours"
            detail["hours"] = command.hours.as_dict() if command.hours is not None else None
        case admin.SetRunningText():
            target = "running_text"
            detail["text"] = command.text
    first = events[0].seq if events else None
    last = events[-1].seq if events else None
    action = ACTIONS.get(type(command), type(command).__name__.lower())
    return (
        at,
        at[:10],
        actor,
        action,
        target,
        json.dumps(detail, ensure_ascii=False, default=list),
        first,
        last,
    )


def account_row(actor: str, action: str, target: str, at: str, detail: dict[str, Any]) -> AuditRow:
    """The audit row of a change outside the office's writer (accounts, kiosks): no events."""
    return (at, at[:10], actor, action, target, json.dumps(detail, ensure_ascii=False), None, None)
