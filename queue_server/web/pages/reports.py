"""`/admin/reports` (admin): a period's figures per service, counter and officer, occupancy, a weekday x
hour heat map, punctuality per day and a month view; `/admin/reports/tickets`: the visits behind a figure.

Rendered on the server from the same queries the reports API answers with (on
the store's read pool); the period form swaps the report section with htmx and
every table links its CSV from the API. Charts are inline SVG built here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from queue_server.reports import queries, worker
from queue_server.web.pages import charts
from queue_server.web.pages.render import Renderer
from queue_server.web.state import antre

PRESETS = ("day", "week", "month", "range")


def chosen_period(request: Request, today: date) -> tuple[str, queries.Period]:
    """The period the form asks for: a day, the week or month around `date`, or any from..to range."""
    params = request.query_params
    preset = params.get("preset", "day")
    try:
        anchor = date.fromisoformat(params.get("date", "")) if params.get("date") else today
    except ValueError:
        anchor = today
    if preset == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return preset, queries.Period(first.isoformat(), (first + timedelta(days=6)).isoformat())
    if preset == "month":
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return preset, queries.Period(first.isoformat(), last.isoformat())
    if preset == "range":
        try:
            return preset, queries.Period.parse(params.get("from"), params.get("to"))
        except queries.InvalidPeriod:
            pass
    return "day", queries.Period(anchor.isoformat(), anchor.isoformat())


def link(path: str, **params: str | None) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v})}"


class ReportPages:
    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer

    async def reports(self, request: Request) -> Response:
        who = self.pages.staff(request, "admin")
        if isinstance(who, Response):
            return who
        office = antre(request).service
        preset, span = chosen_period(request, office.now().date())
        group = request.query_params.get("group", "all")
        group = group if group in queries.GROUPS else "all"
        data = await antre(request).reports.run(
            worker.reports_page, str(office.store.path), office.config, span, group
        )
        t = self.pages.translator(request)
        heat = charts.weekday_hours(data["occupancy_days"])
        base = {"from": span.first, "to": span.last}
        csv = {
            by: link("/api/v1/reports", **base, by=by, group=group, format="csv")
            for by in ("office", "service", "counter", "officer")
        }
        csv["punctual"] = link("/api/v1/reports", **base, by="counter", group="day", format="csv")
        csv["occupancy"] = link("/api/v1/reports/occupancy", **base, group=group, format="csv")
        context = {
            "user": who,
            "preset": preset,
            "presets": PRESETS,
            "span": span,
            "group": group,
            "groups": queries.GROUPS,
            "anchor": request.query_params.get("date") or span.first,
            "rows": data,
            "csv": csv,
            "names": names(office),
            "heat_svg": charts.heat_map_svg(heat, t("reports.heat_title")),
            "bars_svg": charts.bars_svg(
                [(r["period"][5:], r["called"]) for r in data["per_day"]], t("reports.chart_called")
            ),
            "month": month_view(data["punctual"]),
            "officer_first": officer_first_calls(data["officer_days"]),
            "tickets_link": lambda **p: link("/admin/reports/tickets", **{**base, **p}),
        }
        template = "reports/_report.html" if request.headers.get("HX-Request") else "reports/reports.html"
        return self.pages.render(request, template, "admin_reports", **context)

    async def tickets(self, request: Request) -> Response:
        who = self.pages.staff(request, "admin")
        if isinstance(who, Response):
            return who
        office = antre(request).service
        params = request.query_params
        try:
            span = queries.Period.parse(params.get("from"), params.get("to"))
        except queries.InvalidPeriod:
            today = office.now().date().isoformat()
            span = queries.Period(today, today)
        service, counter, officer = params.get("service"), params.get("counter"), params.get("officer")
        visits = await antre(request).reports.run(
            worker.tickets_behind, str(office.store.path), span, service, counter, officer
        )
        filters = {
            "from": span.first,
            "to": span.last,
            "service": service,
            "counter": counter,
            "officer": officer,
        }
        template = "reports/_tickets.html" if request.headers.get("HX-Request") else "reports/tickets.html"
        return self.pages.render(
            request,
            template,
            "admin_report_tickets",
            user=who,
            span=span,
            visits=visits,
            filters=filters,
            names=names(office),
            csv=link("/api/v1/reports/tickets", **filters, format="csv"),
        )


def names(office: Any) -> dict[str, str]:
    """Service and counter ids to their names, for the tables."""
    found = {s.id: s.name for s in office.config.services}
    found |= {f"counter:{c.id}": c.name for c in office.config.counters}
    return found


def month_view(punctual: list[dict[str, Any]]) -> dict[str, Any]:
    """Counters x days of the period: minutes late (or the first call without hours)."""
    days = sorted({r["period"] for r in punctual})
    grid: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in punctual:
        grid[row["key"]][row["period"]] = row
    return {"days": days, "counters": sorted(grid), "grid": grid}


def officer_first_calls(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per officer per day: the visits and the first call (from the report's `first_call_at`)."""
    return [r for r in rows if r.get("called")]
