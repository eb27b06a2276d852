"""The phone page /remote: take a ticket from home (api-remote.md), then follow it on /t/<token>."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server.web.api.remote_offer import offer
from queue_server.web.pages.render import Renderer
from queue_server.web.state import antre


class RemotePage:
    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer

    async def page(self, request: Request) -> Response:
        # The offer is rendered in, so the phone shows the services at once; the script refreshes it.
        current = offer(antre(request).service)
        return self.pages.render(request, "remote.html", "remote", {"offer": current}, offer=current)
