"""Office configuration: read once from TOML, validated, frozen.

Every error names the offending key so `queue-server serve` can exit with a
one-line reason an office administrator can act on.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.domain.hours import HoursError, parse_hours
from queue_server.domain.settings import (
    NIK_MODES,
    CounterConfig,
    OfficeConfig,
    PrinterConfig,
    QueuePolicy,
    RemotePolicy,
    ServiceConfig,
    route_problem,
)

ID_PATTERN = re.compile(r"[a-z0-9_-]+")  # used with fullmatch: no trailing newline
PREFIX_PATTERN = re.compile(r"[A-Z]{1,2}")
EXAMPLE_CONFIG = Path(__file__).with_name("example_office.toml")


__all__ = [
    "ConfigError",
    "CounterConfig",
    "OfficeConfig",
    "PrinterConfig",
    "ServiceConfig",
    "load_config",
    "parse_config",
]


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


def load_config(path: Path) -> OfficeConfig:
    """Read and validate an office TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "config") -> OfficeConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    return _build(raw)


class _Reader:
    """Takes keys out of one TOML table, so leftovers can be reported as unknown."""

    def __init__(self, table: Any, where: str) -> None:
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        self.table = dict(table)
        self.where = where

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def take(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if name not in self.table:
            if default is ...:
                raise ConfigError(f"{self.key(name)}: missing required key")
            return default
        value = self.table.pop(name)
        if isinstance(value, bool) and kind is int:
            raise ConfigError(f"{self.key(name)}: must be an integer")
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise ConfigError(f"{self.key(name)}: must be {names}, got {type(value).__name__}")
        return value

    def done(self) -> None:
        if self.table:
            unknown = sorted(self.table)[0]
            raise ConfigError(f"{self.key(unknown)}: unknown key")


def _build(raw: dict[str, Any]) -> OfficeConfig:
    top = _Reader(raw, "")
    office = _Reader(top.take("office", dict), "office")
    name = office.take("name", str)
    if not name.strip():
        raise ConfigError("office.name: must not be empty")
    timezone = office.take("timezone", str, "Asia/Jakarta")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # "Asia" is a folder, not a zone
        raise ConfigError(f"office.timezone: unknown time zone {timezone!r}") from exc
    language = office.take("language", str, "id")
    if language not in ("id", "en"):
        raise ConfigError('office.language: must be "id" or "en"')
    capacity = office.take("capacity", int, 30)
    if not 1 <= capacity <= 100_000:
        raise ConfigError("office.capacity: must be between 1 and 100000")
    running_text = office.take("running_text", str, "")
    public_url = office.take("public_url", str, "")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ConfigError("office.public_url: must start with http:// or https://")
    session_hours = office.take("session_hours", int, 12)
    if not 1 <= session_hours <= 24 * 30:
        raise ConfigError("office.session_hours: must be between 1 and 720")
    office.done()

    services = tuple(_service(s, i) for i, s in enumerate(top.take("services", list)))
    if not services:
        raise ConfigError("services: at least one service is required")
    _unique(services, "id", "services")
    _unique(services, "prefix", "services")
    problem = route_problem({s.id: s for s in services})
    if problem is not None:
        raise ConfigError(f"services.next: {problem}")
    known = {s.id for s in services}
    counters = tuple(_counter(c, i, known) for i, c in enumerate(top.take("counters", list)))
    if not counters:
        raise ConfigError("counters: at least one counter is required")
    _unique(counters, "id", "counters")

    limits = _Reader(top.take("limits", dict, {}), "limits")
    per_minute = limits.take("tickets_per_minute_per_address", int, 0)
    if per_minute < 0:
        raise ConfigError("limits.tickets_per_minute_per_address: must be 0 or more")
    limits.done()

    remote = _remote(top.take("remote", dict, {}))
    queue = _queue(top.take("queue", dict, {}))

    printer_table = _Reader(top.take("printer", dict, {}), "printer")
    printer = PrinterConfig(
        kind=printer_table.take("kind", str, "none"),
        target=printer_table.take("target", str, ""),
        width_mm=printer_table.take("width_mm", int, 80),
    )
    printer_table.done()
    hours_table = top.take("hours", dict, None)
    try:
        hours = parse_hours(hours_table) if hours_table is not None else None
    except HoursError as exc:
        raise ConfigError(str(exc)) from exc
    if printer.kind not in ("none", "file", "network", "usb"):
        raise ConfigError('printer.kind: must be "none", "file", "network" or "usb"')
    if printer.width_mm not in (58, 80):
        raise ConfigError("printer.width_mm: must be 58 or 80")
    top.done()
    return OfficeConfig(
        name=name,
        timezone=timezone,
        language=language,
        capacity=capacity,
        services=services,
        counters=counters,
        running_text=running_text,
        public_url=public_url,
        tickets_per_minute_per_address=per_minute,
        session_hours=session_hours,
        printer=printer,
        hours=hours,
        remote=remote,
        queue=queue,
    )


def _count(table: _Reader, name: str, default: int, low: int, high: int) -> int:
    value: int = table.take(name, int, default)
    if not low <= value <= high:
        raise ConfigError(f"{table.key(name)}: must be between {low} and {high}")
    return value


def _remote(raw: Any) -> RemotePolicy:
    """`[remote]` (api-remote.md); every key optional, the whole feature off by default."""
    table = _Reader(raw, "remote")
    policy = RemotePolicy(
        enabled=table.take("enabled", bool, False),
        come_now_position=_count(table, "come_now_position", 3, 0, 100_000),
        lead_minutes=_count(table, "lead_minutes", 20, 0, 24 * 60),
        book_days_ahead=_count(table, "book_days_ahead", 0, 0, 366),
        active_per_device=_count(table, "active_per_device", 2, 1, 100_000),
        nik=table.take("nik", str, "off"),
    )
    if policy.nik not in NIK_MODES:
        raise ConfigError('remote.nik: must be "off", "optional" or "required"')
    table.done()
    return policy


def _queue(raw: Any) -> QueuePolicy:
    """`[queue]` (api-remote.md): missed-call rejoin and priority visitors."""
    table = _Reader(raw, "queue")
    categories = table.take("priority_categories", list, [])
    for category in categories:
        if not isinstance(category, str) or not ID_PATTERN.fullmatch(category):
            raise ConfigError("queue.priority_categories: each must match [a-z0-9_-]+")
    if len(set(categories)) != len(categories):
        raise ConfigError("queue.priority_categories: lists a category twice")
    policy = QueuePolicy(
        rejoin_within_calls=_count(table, "rejoin_within_calls", 0, 0, 10_000),
        rejoin_after=_count(table, "rejoin_after", 2, 0, 10_000),
        priority_categories=tuple(categories),
        max_priority_in_a_row=_count(table, "max_priority_in_a_row", 2, 0, 10_000),
    )
    table.done()
    return policy


def _service(raw: Any, index: int) -> ServiceConfig:
    table = _Reader(raw, f"services[{index}]")
    service_id = table.take("id", str)
    if not ID_PATTERN.fullmatch(service_id):
        raise ConfigError(f"{table.key('id')}: must match [a-z0-9_-]+")
    name = table.take("name", str)
    prefix = table.take("prefix", str)
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ConfigError(f"{table.key('prefix')}: must be 1-2 capital letters")
    requirements = table.take("requirements", list, [])
    if not all(isinstance(r, str) for r in requirements):
        raise ConfigError(f"{table.key('requirements')}: must be a list of strings")
    standard = table.take("standard_minutes", int, None)
    if standard is not None and standard < 1:
        raise ConfigError(f"{table.key('standard_minutes')}: must be 1 or more")
    fee = table.take("fee", str, "")
    is_open = table.take("open", bool, True)  # false: takes no new tickets (api-office)
    remote_quota = _count(table, "remote_quota", 0, 0, 100_000)
    next_service = table.take("next", str, None)
    if next_service is not None and not ID_PATTERN.fullmatch(next_service):
        raise ConfigError(f"{table.key('next')}: must match [a-z0-9_-]+")
    if next_service == service_id:
        raise ConfigError(f"{table.key('next')}: a service cannot be its own next step")
    kiosk = table.take("kiosk", bool, True)
    table.done()
    return ServiceConfig(
        service_id,
        name,
        prefix,
        tuple(requirements),
        standard,
        fee,
        is_open,
        remote_quota=remote_quota,
        next=next_service,
        kiosk=kiosk,
    )


def _counter(raw: Any, index: int, known_services: set[str]) -> CounterConfig:
    table = _Reader(raw, f"counters[{index}]")
    counter_id = table.take("id", str)
    if not ID_PATTERN.fullmatch(counter_id):
        raise ConfigError(f"{table.key('id')}: must match [a-z0-9_-]+")
    name = table.take("name", str)
    services = table.take("services", list)
    if not services:
        raise ConfigError(f"{table.key('services')}: must name at least one service")
    for service_id in services:
        if not isinstance(service_id, str) or service_id not in known_services:
            raise ConfigError(f"{table.key('services')}: unknown service {service_id!r}")
    if len(set(services)) != len(services):
        raise ConfigError(f"{table.key('services')}: lists a service twice")
    is_open = table.take("open", bool, True)
    any_service = table.take("call_any_service", bool, False)
    table.done()
    return CounterConfig(counter_id, name, tuple(services), is_open, any_service)


def _unique(items: tuple[Any, ...], attribute: str, where: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        value = getattr(item, attribute)
        if value in seen:
            raise ConfigError(f"{where}[{index}].{attribute}: duplicate value {value!r}")
        seen.add(value)
