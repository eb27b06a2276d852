"""Reports (admin): figures per period and service, counter or officer; occupancy; JSON or CSV.

Every query runs on the store's read pool, never on the event loop.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.reports import export, queries, worker
from queue_server.web.api.common import json_response, service
from queue_server.web.auth import require
from queue_server.web.errors import ApiError
from queue_server.web.state import antre

CSV_TYPE = "text/csv; charset=utf-8"


def period(request: Request) -> queries.Period:
    try:
        return queries.Period.parse(request.query_params.get("from"), request.query_params.get("to"))
    except queries.InvalidPeriod as exc:
        raise ApiError(422, "invalid_period", str(exc)) from exc


def wants_csv(request: Request) -> bool:
    wanted = request.query_params.get("format")
    if wanted is not None:
        return wanted == "csv"
    return "text/csv" in request.headers.get("accept", "")


def csv_response(text: str, name: str) -> Response:
    # A BOM-less UTF-8 body; the filename lets a browser save it from a plain link.
    return Response(
        text.encode("utf-8"),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _choice(request: Request, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = request.query_params.get(name, default)
    if value not in allowed:
        raise ApiError(422, "invalid_period", f"{name} must be one of {', '.join(allowed)}")
    return value


async def run_report(request: Request, by: str, group: str, span: queries.Period) -> dict[str, Any]:
    office = service(request)
    path = str(office.store.path)
    return await antre(request).reports.run(worker.report, path, office.config, span, by, group)


async def get_report(request: Request) -> Response:
    require(request, "admin")
    span = period(request)
    by = _choice(request, "by", "office", queries.BY)
    group = _choice(request, "group", "day", queries.GROUPS)
    body = await run_report(request, by, group, span)
    if wants_csv(request):
        text = export.to_csv(body["rows"], queries.report_columns(by, group))
        return csv_response(text, f"report-{by}-{group}-{span.first}-{span.last}")
    return json_response(body)


async def get_occupancy(request: Request) -> Response:
    require(request, "admin")
    span = period(request)
    group = _choice(request, "group", "day", queries.GROUPS)
    office = service(request)
    path = str(office.store.path)
    body = await antre(request).reports.run(worker.occupancy, path, office.config, span, group)
    if wants_csv(request):
        rows = [
            {**r, "arrivals_by_hour": " ".join(f"{h}:{n}" for h, n in r["arrivals_by_hour"].items())}
            for r in body["rows"]
        ]
        return csv_response(export.to_csv(rows), f"occupancy-{group}-{span.first}-{span.last}")
    return json_response(body)


async def get_tickets_behind(request: Request) -> Response:
    """The visits behind a figure (extension): ?from&to[&service][&counter][&officer]."""
    require(request, "admin")
    span = period(request)
    params = request.query_params
    office = service(request)
    rows = await antre(request).reports.run(
        worker.tickets_behind,
        str(office.store.path),
        span,
        params.get("service"),
        params.get("counter"),
        params.get("officer"),
    )
    if wants_csv(request):
        return csv_response(export.to_csv(rows), f"tickets-{span.first}-{span.last}")
    return json_response({"from": span.first, "to": span.last, "visits": rows})
