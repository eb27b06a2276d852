"""The typed state the lifespan yields: what every request and socket of the app reaches."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from queue_server.domain.settings import OfficeConfig
from queue_server.engine.accounts import Accounts
from queue_server.engine.limits import RateLimiter
from queue_server.engine.service import OfficeService


@dataclass
class Antre:
    config: OfficeConfig
    service: OfficeService
    accounts: Accounts
    ticket_limiter: RateLimiter


def antre(connection: HTTPConnection) -> Antre:
    state: Antre = connection.state.antre
    return state
