"""The HTML pages' routes, for create_app's callers (the CLI and tests)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from queue_server.config import OfficeConfig


def page_routes(config: OfficeConfig) -> list[BaseRoute]:
    from queue_server import pages  # imported late: jinja2 and the templates load only for a server

    return pages.routes(config)
