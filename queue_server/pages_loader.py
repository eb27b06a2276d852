"""Finds the HTML pages' routes when the screens are installed."""

from __future__ import annotations

from starlette.routing import BaseRoute

from queue_server.config import OfficeConfig


def page_routes(config: OfficeConfig) -> list[BaseRoute]:
    try:
        from queue_server import pages
    except ImportError:
        return []
    return pages.routes(config)
