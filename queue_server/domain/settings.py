"""What an office is made of: its services, counters, printer and limits (frozen settings).

`config.py` reads these from TOML; the rules and every layer above use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from queue_server.domain.hours import OpeningHours


@dataclass(frozen=True)
class ServiceConfig:
    id: str
    name: str
    prefix: str
    requirements: tuple[str, ...] = ()
    standard_minutes: int | None = None
    fee: str = ""
    open: bool = True  # a closed service issues no new tickets; its queue is still served
    remote_quota: int = 0  # remote tickets per day (api-remote); 0: none
    next: str | None = None  # route: after a visit ends done here, the ticket joins this service
    kiosk: bool = True  # shown at the kiosk (false for a later step that visitors do not pick)


@dataclass(frozen=True)
class CounterConfig:
    id: str
    name: str
    services: tuple[str, ...]
    open: bool = True
    call_any_service: bool = False  # "call a number" may take a ticket of a service it does not serve


NIK_MODES = ("off", "optional", "required")


@dataclass(frozen=True)
class RemotePolicy:
    """`[remote]` (api-remote): tickets taken from home and bookings; off unless enabled."""

    enabled: bool = False
    come_now_position: int = 3  # "come now" once at most this many are ahead ...
    lead_minutes: int = 20  # ... or the estimated wait is at most this
    book_days_ahead: int = 0  # 0: today only
    active_per_device: int = 2  # active remote/booked tickets per device cookie and per address
    nik: str = "off"  # off | optional | required


@dataclass(frozen=True)
class QueuePolicy:
    """`[queue]` additions (api-remote): missed-call rejoin and priority visitors; off by default."""

    rejoin_within_calls: int = 0  # 0: a no-show never rejoins
    rejoin_after: int = 2
    priority_categories: tuple[str, ...] = ()
    max_priority_in_a_row: int = 2


@dataclass(frozen=True)
class PrinterConfig:
    kind: str = "none"  # none | file | network | usb
    target: str = ""
    width_mm: int = 80


@dataclass(frozen=True)
class OfficeConfig:
    name: str
    timezone: str
    language: str
    capacity: int
    services: tuple[ServiceConfig, ...]
    counters: tuple[CounterConfig, ...]
    running_text: str = ""
    public_url: str = ""
    tickets_per_minute_per_address: int = 0
    session_hours: int = 12
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    hours: OpeningHours | None = None  # None: always open (api-v1)
    remote: RemotePolicy = field(default_factory=RemotePolicy)
    queue: QueuePolicy = field(default_factory=QueuePolicy)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, service_id: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == service_id), None)


def route_of(services: dict[str, ServiceConfig], start: str) -> tuple[str, ...]:
    """The services a ticket passes through from `start` on, following `next` (stops at a cycle)."""
    route: list[str] = []
    current: str | None = start
    while current is not None and current in services and current not in route:
        route.append(current)
        current = services[current].next
    return tuple(route)


def route_problem(services: dict[str, ServiceConfig]) -> str | None:
    """Why these services' `next` links cannot be used (an unknown service, a cycle), or None."""
    for service in services.values():
        if service.next is None:
            continue
        if service.next not in services:
            return f"service {service.id!r}: next names unknown service {service.next!r}"
        seen = [service.id]
        current: str | None = service.next
        while current is not None:
            if current in seen:
                return f"service {service.id!r}: route {' -> '.join([*seen, current])} is a cycle"
            seen.append(current)
            current = services[current].next if current in services else None
    return None
