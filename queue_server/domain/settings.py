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


@dataclass(frozen=True)
class CounterConfig:
    id: str
    name: str
    services: tuple[str, ...]
    open: bool = True
    call_any_service: bool = False  # "call a number" may take a ticket of a service it does not serve


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
    broker_url: str = ""  # [broker] url: several workers share the offices through Redis (api-scale)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, service_id: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == service_id), None)
