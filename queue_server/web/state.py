"""The typed state the lifespan yields: what every request and socket of the app reaches."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from queue_server.domain.settings import OfficeConfig
from queue_server.engine.accounts import Accounts
from queue_server.engine.limits import RateLimiter
from queue_server.engine.service import OfficeService
from queue_server.reports.worker import ReportProcess


@dataclass
class Antre:
    config: OfficeConfig
    service: OfficeService
    accounts: Accounts
    ticket_limiter: RateLimiter
    reports: ReportProcess = field(default_factory=ReportProcess)


def antre(connection: HTTPConnection) -> Antre:
    state: Antre = connection.state.antre
    return state


def base_path(connection: HTTPConnection) -> str:
    """The path this office is served under: "" for one office, "/o/<id>" on a regency deployment."""
    root: str = connection.scope.get("root_path", "")
    return root.rstrip("/")


def cookie_path(connection: HTTPConnection) -> str:
    """Cookies stay with their office: a session at one office is no session at another."""
    return base_path(connection) + "/"
