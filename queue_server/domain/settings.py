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


NOTIFY_KINDS = ("come_now", "called")
NOTIFY_PLACEHOLDERS = ("number", "counter", "office", "service")
DEFAULT_NOTIFY_TEMPLATES: dict[str, dict[str, str]] = {
    "id": {
        "come_now": "{office}: nomor antrean {number} ({service}) sebentar lagi dipanggil. "
        "Silakan datang sekarang.",
        "called": "{office}: nomor antrean {number} ({service}) dipanggil. Silakan menuju {counter}.",
    },
    "en": {
        "come_now": "{office}: queue number {number} ({service}) will be called soon. Please come now.",
        "called": "{office}: queue number {number} ({service}) is called. Please go to {counter}.",
    },
}


@dataclass(frozen=True)
class NotifyConfig:
    """`[notify]`: "come now" and "called" messages to the visitor's phone through the office's
    messaging gateway (an outbound webhook); off while `url` is empty."""

    url: str = ""
    secret: str = ""  # the HMAC key; empty: generated once and kept in the database
    language: str = ""  # empty: the office language
    # language -> kind -> template; the defaults fill any language or kind not given
    templates: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    timeout_seconds: int = 10
    max_attempts: int = 20  # then the message is given up (its phone blanked)
    max_age_minutes: int = 120  # a message older than this is stale: given up, not sent
    first_retry_seconds: float = 2.0  # the wait after the first failure; it doubles each time ...
    max_retry_seconds: float = 300.0  # ... up to this (then a random part of it is taken off)

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def template(self, language: str, kind: str) -> str:
        given = {lang: dict(kinds) for lang, kinds in self.templates}
        if kind in given.get(language, {}):
            return given[language][kind]
        return DEFAULT_NOTIFY_TEMPLATES.get(language, DEFAULT_NOTIFY_TEMPLATES["id"])[kind]

    def templates_dict(self) -> dict[str, dict[str, str]]:
        return {lang: dict(kinds) for lang, kinds in self.templates}


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
    notify: NotifyConfig = field(default_factory=NotifyConfig)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service(self, service_id: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == service_id), None)
