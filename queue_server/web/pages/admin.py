"""The head of office's pages (role admin): `/admin` to run the office, `/admin/live` to supervise it.

Both are rendered on the server; their forms send JSON to the same API every
other client uses (admin.js, an htmx extension), then htmx swaps in the
re-rendered section, so a change shows what was committed. `/admin/live`
re-renders its board every few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain.hours import DAYS
from queue_server.web.pages.render import Renderer
from queue_server.web.state import antre

LIVE_REFRESH_SECONDS = 5
IDLE_ALERT_MINUTES = 2
"""A counter open with nobody at it while people wait this long is worth a look."""


@dataclass(frozen=True)
class Alert:
    kind: str  # long_wait | idle_counter
    subject: str  # a ticket number or a counter name
    minutes: int
    limit: int | None = None


class AdminPages:
    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer

    async def admin(self, request: Request) -> Response:
        who = self.pages.staff(request, "admin")
        if isinstance(who, Response):
            return who
        state = antre(request)
        office = state.service
        hours = office.hours_view()
        return self.pages.render(
            request,
            "admin.html",
            "admin",
            user=who,
            admin_services=office.services_view(),
            admin_counters=office.counters_view(),
            capacity=office.occupancy()["capacity"],
            hours=hours,
            days=DAYS,
            running_text=office.office.state.running_text,
            users=await state.accounts.users(),
            kiosks=await state.accounts.kiosks(),
            roles=("admin", "officer", "door"),
        )

    async def live(self, request: Request) -> Response:
        who = self.pages.staff(request, "admin")
        if isinstance(who, Response):
            return who
        office = antre(request).service
        now = office.now()
        services = office.services_view()
        counters = office.counters_view()
        tickets = office.live_views()
        queues = live_queues(services, tickets, now)
        return self.pages.render(
            request,
            "admin_live.html",
            "admin_live",
            user=who,
            admin_services=services,
            admin_counters=counters,
            queues=queues,
            alerts=alerts(services, counters, tickets, now),
            finished=[t for t in tickets if t["status"] in ("no_show", "cancelled")][-30:],
            occupancy=office.occupancy(),
            refresh=LIVE_REFRESH_SECONDS,
            now=now.strftime("%H:%M:%S"),
        )


def _minutes_since(moment: str | None, now: datetime) -> int:
    if not moment:
        return 0
    return max(0, int((now - datetime.fromisoformat(moment)).total_seconds() // 60))


def live_queues(
    services: list[dict[str, Any]], tickets: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """Per service: its tickets not yet called (in place order), each with its wait so far; the longest."""
    rows = []
    for service in services:
        waiting = [
            {**t, "waited": _minutes_since(t["issued_at"], now)}
            for t in tickets
            if t["service"] == service["id"] and t["status"] in ("waiting", "outside")
        ]
        waiting.sort(key=lambda t: t["position"] or 0)
        longest = max((t["waited"] for t in waiting), default=0)
        rows.append({"service": service, "tickets": waiting, "longest": longest})
    return rows


def alerts(
    services: list[dict[str, Any]],
    counters: list[dict[str, Any]],
    tickets: list[dict[str, Any]],
    now: datetime,
) -> list[Alert]:
    """Visitors waiting longer than their service's standard time; open counters idle while people wait."""
    standard = {s["id"]: s["standard_minutes"] for s in services}
    found: list[Alert] = []
    for ticket in tickets:
        limit = standard.get(ticket["service"])
        if ticket["status"] in ("waiting", "outside") and limit:
            waited = _minutes_since(ticket["issued_at"], now)
            if waited > limit:
                found.append(Alert("long_wait", ticket["number"], waited, limit))
    waiting_by_service: dict[str, int] = {}
    for ticket in tickets:
        if ticket["status"] == "waiting":
            waiting_by_service[ticket["service"]] = waiting_by_service.get(ticket["service"], 0) + 1
    for counter in counters:
        if not counter["open"] or counter["current"] is not None:
            continue
        if not any(waiting_by_service.get(s) for s in counter["services"]):
            continue
        # Idle since its last visitor left (or, with none today, since the first of them waited).
        ended = [t["finished_at"] for t in tickets if t["counter"] == counter["id"] and t["finished_at"]]
        queued = [
            t["issued_at"]
            for t in tickets
            if t["status"] == "waiting" and t["service"] in counter["services"]
        ]
        since = max(ended) if ended else min(queued, default=None)
        idle = _minutes_since(since, now)
        if idle >= IDLE_ALERT_MINUTES:
            found.append(Alert("idle_counter", counter["name"], idle))
    return found
