"""The survey's pages: `/admin/survey` (the IKM per period, service and counter), its printable report
`/admin/survey/print` in the regulation's layout, and `/survey/{counter}`, the tablet at a counter.

The tablet is for the visitor just finished at that counter. It opens for a paired
kiosk (an admin pairs the tablet once, like a ticket kiosk) or an officer/admin
session; anyone else is sent to log in. It can only rate the counter's latest
finished ticket, and each ticket answers once, so it cannot be flooded.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import survey
from queue_server.reports import queries
from queue_server.web.api.kiosks import paired_kiosk
from queue_server.web.pages import charts
from queue_server.web.pages.render import Renderer
from queue_server.web.pages.reports import chosen_period, link, names
from queue_server.web.state import antre

FACES = ("1", "2", "3", "4")


class SurveyPages:
    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer

    async def _gather(self, request: Request) -> dict[str, Any] | Response:
        who = self.pages.staff(request, "admin")
        if isinstance(who, Response):
            return who
        office = antre(request).service
        preset, span = chosen_period(request, office.now().date())
        lang = self.pages.translator(request).lang
        db = office.store.db
        services = [s.id for s in office.config.services]
        counters = [c.id for c in office.config.counters]

        def gather(conn: Any) -> dict[str, Any]:
            whole = queries.ikm(conn, span, None, None, lang)
            visitors = queries.visitors(conn, span, None, None)

            def unit(service: str | None, counter: str | None) -> dict[str, Any]:
                found = queries.ikm(conn, span, service, counter, lang)
                visitors = queries.visitors(conn, span, service, counter)
                return {"id": service or counter, **found, "visitors": visitors}

            per_service = [unit(s, None) for s in services]
            per_counter = [unit(None, c) for c in counters]
            return {
                "whole": whole,
                "visitors": visitors,
                "per_service": per_service,
                "per_counter": per_counter,
                "comments": queries.comments(conn, span),
            }

        data = await db.read(gather)
        t = self.pages.translator(request)
        labels = {k: t(f"survey.face_{k}") for k in FACES}
        base = {"from": span.first, "to": span.last}
        return {
            "user": who,
            "preset": preset,
            "presets": ("day", "week", "month", "range"),
            "span": span,
            "anchor": request.query_params.get("date") or span.first,
            "needed": survey.sample_size(data["visitors"]),
            "names": names(office),
            "ratings_svg": charts.rating_bars_svg(
                data["whole"]["rating"]["counts"], labels, t("survey.ratings")
            ),
            "csv": link("/api/v1/reports/ikm", **base, format="csv"),
            "print_url": link("/admin/survey/print", preset="range", **base),
            "elements": survey.ELEMENTS,
            "sample": survey.sample_size,
            **data,
        }

    async def admin(self, request: Request) -> Response:
        found = await self._gather(request)
        if isinstance(found, Response):
            return found
        template = "survey/_ikm.html" if request.headers.get("HX-Request") else "survey/admin.html"
        return self.pages.render(request, template, "admin_survey", **found)

    async def printable(self, request: Request) -> Response:
        found = await self._gather(request)
        if isinstance(found, Response):
            return found
        return self.pages.render(request, "survey/print.html", "admin_survey_print", **found)

    async def counter(self, request: Request) -> Response:
        """The tablet: four faces for the visitor just finished at this counter."""
        counter_id: str = request.path_params["counter"]
        if await paired_kiosk(request) is None:
            who = self.pages.staff(request, "officer")
            if isinstance(who, Response):
                return who
        office = antre(request).service
        counter = next((c for c in office.config.counters if c.id == counter_id), None)
        if counter is None:
            return self.pages.error_page(request, 404, "error.unknown_counter")
        return self.pages.render(
            request,
            "survey/counter.html",
            "survey_counter",
            {"counter": counter.id},
            counter=counter,
            faces=FACES,
        )
