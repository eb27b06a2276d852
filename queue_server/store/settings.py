"""The office's configuration in the database: the TOML seeds it once, admin changes keep it.

One row (`settings.key = 'office'`) holds the whole configuration as JSON. The
database is the authority for what an admin can change live (services,
counters, capacity, opening hours, running text); the rest (name, time zone,
language, printer, limits, addresses) follows the TOML file at every start.
`to_toml` writes it back as a file `serve` accepts (`queue-server config export`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any

from queue_server.domain.hours import parse_hours
from queue_server.domain.settings import (
    CounterConfig,
    OfficeConfig,
    PrinterConfig,
    QueuePolicy,
    RemotePolicy,
    ServiceConfig,
)

KEY = "office"
LIVE_PARTS = ("services", "counters", "capacity", "hours", "running_text")
"""What the database holds against the TOML file (admin changes survive restarts)."""


def load(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY,)).fetchone()
    return json.loads(row[0]) if row else None


def save(conn: sqlite3.Connection, data: dict[str, Any], now: str) -> None:
    """Write the configuration (inside the caller's transaction)."""
    conn.execute(
        "INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
        (KEY, json.dumps(data, ensure_ascii=False, sort_keys=True), now),
    )


def as_data(config: OfficeConfig) -> dict[str, Any]:
    """The configuration as plain JSON data (the settings row)."""
    return {
        "office": {
            "name": config.name,
            "timezone": config.timezone,
            "language": config.language,
            "public_url": config.public_url,
            "session_hours": config.session_hours,
        },
        "capacity": config.capacity,
        "running_text": config.running_text,
        "services": [_service_data(s) for s in config.services],
        "counters": [
            {"id": c.id, "name": c.name, "services": list(c.services), "call_any_service": c.call_any_service}
            for c in config.counters
        ],
        "hours": config.hours.as_dict() if config.hours is not None else None,
        "limits": {"tickets_per_minute_per_address": config.tickets_per_minute_per_address},
        "printer": {
            "kind": config.printer.kind,
            "target": config.printer.target,
            "width_mm": config.printer.width_mm,
        },
        "remote": {
            "enabled": config.remote.enabled,
            "come_now_position": config.remote.come_now_position,
            "lead_minutes": config.remote.lead_minutes,
            "book_days_ahead": config.remote.book_days_ahead,
            "active_per_device": config.remote.active_per_device,
            "nik": config.remote.nik,
        },
        "queue": {
            "rejoin_within_calls": config.queue.rejoin_within_calls,
            "rejoin_after": config.queue.rejoin_after,
            "priority_categories": list(config.queue.priority_categories),
            "max_priority_in_a_row": config.queue.max_priority_in_a_row,
        },
    }


def _service_data(service: ServiceConfig) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": service.id,
        "name": service.name,
        "prefix": service.prefix,
        "requirements": list(service.requirements),
        "standard_minutes": service.standard_minutes,
        "fee": service.fee,
        "open": service.open,
    }
    # api-remote's keys only when set: a database seeded before them keeps matching its TOML file.
    if service.remote_quota:
        data["remote_quota"] = service.remote_quota
    if service.next is not None:
        data["next"] = service.next
    if not service.kiosk:
        data["kiosk"] = False
    return data


def live_parts(data: dict[str, Any]) -> dict[str, Any]:
    return {part: data.get(part) for part in LIVE_PARTS}


def differs(toml_config: OfficeConfig, stored: dict[str, Any]) -> list[str]:
    """The live parts where the TOML file no longer matches the database (empty: they match)."""
    seeded = live_parts(as_data(toml_config))
    held = live_parts(stored)
    return [
        part
        for part in LIVE_PARTS
        if json.dumps(seeded[part], sort_keys=True) != json.dumps(held[part], sort_keys=True)
    ]


def apply_stored(toml_config: OfficeConfig, stored: dict[str, Any]) -> OfficeConfig:
    """The configuration to serve: the database's live parts over the TOML file's other settings."""
    services = tuple(
        ServiceConfig(
            s["id"],
            s["name"],
            s["prefix"],
            tuple(s.get("requirements", ())),
            s.get("standard_minutes"),
            s.get("fee", ""),
            bool(s.get("open", True)),
            remote_quota=int(s.get("remote_quota", 0)),
            next=s.get("next"),
            kiosk=bool(s.get("kiosk", True)),
        )
        for s in stored["services"]
    )
    counters = tuple(
        CounterConfig(
            c["id"], c["name"], tuple(c["services"]), call_any_service=bool(c.get("call_any_service", False))
        )
        for c in stored["counters"]
    )
    hours = parse_hours(stored["hours"]) if stored.get("hours") is not None else None
    return replace(
        toml_config,
        services=services,
        counters=counters,
        capacity=int(stored.get("capacity", toml_config.capacity)),
        running_text=str(stored.get("running_text", "")),
        hours=hours,
    )


def from_data(stored: dict[str, Any]) -> OfficeConfig:
    """A whole configuration from the settings row alone (for `config export`)."""
    office = stored.get("office", {})
    printer = stored.get("printer", {})
    base = OfficeConfig(
        name=office.get("name", "Antre"),
        timezone=office.get("timezone", "Asia/Jakarta"),
        language=office.get("language", "id"),
        capacity=int(stored.get("capacity", 30)),
        services=(),
        counters=(),
        public_url=office.get("public_url", ""),
        session_hours=int(office.get("session_hours", 12)),
        tickets_per_minute_per_address=int(stored.get("limits", {}).get("tickets_per_minute_per_address", 0)),
        printer=PrinterConfig(
            printer.get("kind", "none"), printer.get("target", ""), printer.get("width_mm", 80)
        ),
        remote=RemotePolicy(**stored["remote"]) if "remote" in stored else RemotePolicy(),
        queue=_queue_policy(stored["queue"]) if "queue" in stored else QueuePolicy(),
    )
    return apply_stored(base, stored)


def _queue_policy(data: dict[str, Any]) -> QueuePolicy:
    return QueuePolicy(**{**data, "priority_categories": tuple(data.get("priority_categories", ()))})


def to_toml(config: OfficeConfig) -> str:
    """TOML that `serve` accepts and reads back to the same configuration."""
    lines = [
        "[office]",
        f"name = {_s(config.name)}",
        f"timezone = {_s(config.timezone)}",
        f"language = {_s(config.language)}",
        f"capacity = {config.capacity}",
        f"running_text = {_s(config.running_text)}",
        f"public_url = {_s(config.public_url)}",
        f"session_hours = {config.session_hours}",
        "",
        "[limits]",
        f"tickets_per_minute_per_address = {config.tickets_per_minute_per_address}",
        "",
        "[printer]",
        f"kind = {_s(config.printer.kind)}",
        f"target = {_s(config.printer.target)}",
        f"width_mm = {config.printer.width_mm}",
        "",
        "[remote]",
        f"enabled = {_b(config.remote.enabled)}",
        f"come_now_position = {config.remote.come_now_position}",
        f"lead_minutes = {config.remote.lead_minutes}",
        f"book_days_ahead = {config.remote.book_days_ahead}",
        f"active_per_device = {config.remote.active_per_device}",
        f"nik = {_s(config.remote.nik)}",
        "",
        "[queue]",
        f"rejoin_within_calls = {config.queue.rejoin_within_calls}",
        f"rejoin_after = {config.queue.rejoin_after}",
        f"priority_categories = {_list(config.queue.priority_categories)}",
        f"max_priority_in_a_row = {config.queue.max_priority_in_a_row}",
    ]
    for service in config.services:
        lines += [
            "",
            "[[services]]",
            f"id = {_s(service.id)}",
            f"name = {_s(service.name)}",
            f"prefix = {_s(service.prefix)}",
            f"requirements = {_list(service.requirements)}",
            f"fee = {_s(service.fee)}",
            f"open = {'true' if service.open else 'false'}",
        ]
        if service.standard_minutes is not None:
            lines.append(f"standard_minutes = {service.standard_minutes}")
        lines.append(f"remote_quota = {service.remote_quota}")
        if service.next is not None:
            lines.append(f"next = {_s(service.next)}")
        lines.append(f"kiosk = {_b(service.kiosk)}")
    for counter in config.counters:
        lines += [
            "",
            "[[counters]]",
            f"id = {_s(counter.id)}",
            f"name = {_s(counter.name)}",
            f"services = {_list(counter.services)}",
            f"call_any_service = {'true' if counter.call_any_service else 'false'}",
        ]
    if config.hours is not None:
        lines += ["", "[hours]"]
        for day, ranges in config.hours.as_dict().items():
            if day != "closed_dates" and ranges:
                lines.append(f"{day} = {_list(ranges)}")
        lines.append(f"closed_dates = {_list(sorted(config.hours.closed_dates))}")
    return "\n".join(lines) + "\n"


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string: JSON's escapes are valid TOML


def _b(value: bool) -> str:
    return "true" if value else "false"


def _list(values: Any) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"
