"""The screens: index, kiosk, lobby and entrance displays, counter, door, the visitor's ticket and its QR."""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response

from queue_server import __version__
from queue_server.domain.settings import OfficeConfig
from queue_server.web.api.kiosks import paired_kiosk
from queue_server.web.pages.render import Renderer
from queue_server.web.state import antre, base_path

PAUSE_REASONS = ("break", "prayer", "meeting")


def hidden_at_kiosk(config: OfficeConfig) -> set[str]:
    """Services visitors never pick (`kiosk = false`: a later step of a route, reached by the route)."""
    return {s.id for s in config.services if not s.kiosk}


class Screens:
    def __init__(self, renderer: Renderer, printer_enabled: bool) -> None:
        self.pages = renderer
        self.config = renderer.config
        self.printer_enabled = printer_enabled

    async def index(self, request: Request) -> Response:
        return self.pages.render(
            request, "index.html", "index", counters=self.config.counters, version=__version__
        )

    async def kiosk(self, request: Request) -> Response:
        # A paired kiosk stays a kiosk at any size; an unpaired phone keeps its ticket (kiosk.js).
        paired = await paired_kiosk(request) is not None
        office = antre(request).service
        # Outside the opening hours the kiosk shows its closed screen with the next opening.
        config = office.config
        categories = list(config.queue.priority_categories)
        data = {
            "printer": self.printer_enabled,
            "paired": paired,
            "closed": office.is_closed_now(),
            "opens_at": office.opens_at(),
            # Issue 11: check-in of tickets from home (scanner, camera) and priority visitors.
            "checkin": config.remote.enabled,
            "priority_categories": categories,
            "decoder": base_path(request) + self.pages.static_url("vendor/jsQR.js"),
        }
        return self.pages.render(
            request,
            "kiosk.html",
            "kiosk",
            data,
            checkin=config.remote.enabled,
            priority_categories=categories,
            kiosk_hidden=hidden_at_kiosk(config),
        )

    async def display(self, request: Request) -> Response:
        return self.pages.render(request, "display.html", "display")

    async def entrance(self, request: Request) -> Response:
        return self.pages.render(request, "entrance.html", "entrance")

    async def counter(self, request: Request) -> Response:
        # "No such counter" first, to anyone: logging in would not make /counter/99 exist.
        counter_id = request.path_params["counter"]
        counter = next((c for c in self.config.counters if c.id == counter_id), None)
        if counter is None:
            return self.pages.error_page(request, 404, "error.unknown_counter", counter=counter_id)
        who = self.pages.staff(request, "officer")
        if isinstance(who, Response):
            return who
        # Rejoin by number only where the office lets missed calls back ([queue] rejoin_within_calls).
        rejoin = antre(request).service.config.queue.rejoin_within_calls > 0
        return self.pages.render(
            request,
            "counter.html",
            "counter",
            {
                "counter": counter_id,
                "pause_reasons": list(PAUSE_REASONS),
                "user": who.username,
                "rejoin": rejoin,
            },
            user=who,
            counter=counter,
            pause_reasons=PAUSE_REASONS,
            rejoin=rejoin,
        )

    async def door(self, request: Request) -> Response:
        who = self.pages.staff(request, "door")
        if isinstance(who, Response):
            return who
        config = antre(request).service.config
        return self.pages.render(
            request,
            "door.html",
            "door",
            {"printer": self.printer_enabled, "user": who.username},
            user=who,
            # Check-in by number is for tickets from home; rejoin by number shares its field.
            checkin=config.remote.enabled or config.queue.rejoin_within_calls > 0,
            priority_categories=list(config.queue.priority_categories),
            kiosk_hidden=hidden_at_kiosk(config),
        )

    async def ticket(self, request: Request) -> Response:
        found = await self.pages.ticket(request)
        if found is None:
            return self.pages.error_page(request, 404, "phone.unknown")
        _, view = found
        token = request.path_params["token"]
        # The office's day: a no-show of today may rejoin (the phone's own clock may be wrong).
        data = {"ticket": view, "token": token, "today": antre(request).service.day}
        return self.pages.render(request, "ticket.html", "ticket", data, ticket=view, token=token)

    async def ticket_qr(self, request: Request) -> Response:
        if await self.pages.ticket(request) is None:
            return Response("unknown ticket", status_code=404, media_type="text/plain")
        qr = segno.make(self.pages.ticket_url(request), error="m")
        buffer = io.BytesIO()
        # A standalone file (with xmlns, unlike svg_inline); omitsize lets it
        # scale to whatever box the page's CSS gives the <img>.
        qr.save(buffer, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=2, svgclass=None)
        return Response(
            buffer.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"}
        )
