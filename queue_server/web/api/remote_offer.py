"""What a visitor at home may take now (docs/protocol.md "Remote tickets, as built"): the offer
behind the /remote page, public like GET /api/v1/services.

api-remote.md gives the rules (quota, booking window, NIK) but no way for a phone to see, before
asking, how much of today's quota is left or how long the wait is; this is that extension. It
reads the live state between two commands of the office's writer, so its figures are the ones
the next ticket issue would meet.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import estimates, remote
from queue_server.engine.service import OfficeService
from queue_server.web.api.common import json_response, service


async def remote_services(request: Request) -> Response:
    return json_response(offer(service(request)))


def offer(office: OfficeService) -> dict[str, Any]:
    """`{"enabled", "today", "book_days_ahead", "nik", "services": [...]}`; no services when remote is off."""
    config = office.config
    policy = config.remote
    state = office.office.state
    views = {view["id"]: view for view in office.services_view()}
    waiting = state.waiting_counts()
    services = []
    for s in config.services if policy.enabled else ():
        # A later step of a route (kiosk = false) is reached by its route, never taken on its own.
        if s.remote_quota <= 0 or not s.kiosk:
            continue
        pending = waiting.get(s.id, 0)
        # A ticket taken now would stand behind every ticket of the service not yet called.
        position = pending + 1
        per_visit = state.service_times.minutes_per_visit(s.id)
        counters = state.open_counters_for(s.id)
        span = estimates.wait_range(position, per_visit, counters)
        services.append(
            {
                **views[s.id],
                "remote_quota": s.remote_quota,
                "remote_left": max(0, s.remote_quota - remote.taken(state, s.id, state.day)),
                "waiting": pending,
                "estimated_wait_minutes": estimates.rounded_minutes(position, per_visit, counters),
                "estimated_wait_range": list(span) if span else None,
            }
        )
    return {
        "enabled": policy.enabled,
        "today": state.day,
        "book_days_ahead": policy.book_days_ahead,
        "nik": policy.nik,
        "services": services,
    }
