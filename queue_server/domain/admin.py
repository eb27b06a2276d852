"""Live administration: services, counters, opening hours and the running text, changed while serving.

Each change is a command the engine applies through `Office.handle` like any
counter step, so it is committed, audited and published in order. A change ends
with one `config.changed` carrying the full new lists (and the hours or the
running text when those changed). Ids and prefixes follow the TOML rules.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from queue_server.domain import events as ev
from queue_server.domain.errors import Conflict, Invalid
from queue_server.domain.estimates import SERVICE_TIME_SAMPLES
from queue_server.domain.hours import OpeningHours
from queue_server.domain.settings import ServiceConfig
from queue_server.domain.state import Counter, OfficeState, Step

ID_PATTERN = re.compile(r"[a-z0-9_-]{1,64}")
PREFIX_PATTERN = re.compile(r"[A-Z]{1,2}")
SERVICE_FIELDS = frozenset({"name", "requirements", "standard_minutes", "fee", "open"})
COUNTER_FIELDS = frozenset({"name", "services"})

Changes = tuple[tuple[str, Any], ...]
"""(field, new value) pairs of a PATCH, in a hashable form so commands stay frozen."""


@dataclass(frozen=True)
class CreateService:
    id: str
    name: str
    prefix: str
    requirements: tuple[str, ...] = ()
    standard_minutes: int | None = None
    fee: str = ""
    open: bool = True


@dataclass(frozen=True)
class UpdateService:
    id: str
    changes: Changes


@dataclass(frozen=True)
class CreateCounter:
    id: str
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class UpdateCounter:
    id: str
    changes: Changes


@dataclass(frozen=True)
class SetHours:
    hours: OpeningHours | None  # None: always open


@dataclass(frozen=True)
class SetRunningText:
    text: str


AdminCommand = CreateService | UpdateService | CreateCounter | UpdateCounter | SetHours | SetRunningText
ADMIN_COMMANDS = (CreateService, UpdateService, CreateCounter, UpdateCounter, SetHours, SetRunningText)


def service_view(service: ServiceConfig) -> dict[str, Any]:
    """A service as the API, the screens and `config.changed` show it."""
    view: dict[str, Any] = {
        "id": service.id,
        "name": service.name,
        "prefix": service.prefix,
        "requirements": list(service.requirements),
        "standard_minutes": service.standard_minutes,
        "fee": service.fee,
        "open": service.open,
    }
    # api-remote's keys only when the office uses them: otherwise a service looks as api-office says.
    if service.remote_quota:
        view["remote_quota"] = service.remote_quota
    if service.next is not None:
        view["next"] = service.next
    if not service.kiosk:
        view["kiosk"] = False
    return view


def apply(state: OfficeState, step: Step, command: AdminCommand) -> ServiceConfig | Counter | None:
    """Apply one admin command; raises a DomainError before changing anything."""
    result: ServiceConfig | Counter | None
    hours_changed = text_changed = False
    match command:
        case CreateService():
            result = _create_service(state, command)
        case UpdateService():
            result = _update_service(state, command)
        case CreateCounter():
            result = _create_counter(state, command)
        case UpdateCounter():
            result = _update_counter(state, command)
        case SetHours():
            state.hours = command.hours
            hours_changed, result = True, None
        case SetRunningText():
            _check_text(command.text, "running_text", 500)
            state.running_text = command.text
            text_changed, result = True, None
    services = [service_view(s) for s in state.services.values()]
    counters = [state.counter_view(c) for c in state.counters.values()]
    hours = hours_dict(state.hours) if hours_changed else None
    step.emit(
        ev.ConfigChanged(
            *step.stamp(), services, counters, hours, state.running_text if text_changed else None
        )
    )
    return result


def hours_dict(hours: OpeningHours | None) -> dict[str, Any]:
    """The hours as JSON (api-office); with no hours (always open) every day is empty, `always_open` true."""
    if hours is None:
        return {**OpeningHours().as_dict(), "always_open": True}
    return hours.as_dict()


def _create_service(state: OfficeState, command: CreateService) -> ServiceConfig:
    if not ID_PATTERN.fullmatch(command.id):
        raise Invalid("invalid_request", "id must be 1-64 of a-z, 0-9, _ and -")
    if not PREFIX_PATTERN.fullmatch(command.prefix):
        raise Invalid("invalid_request", "prefix must be 1-2 capital letters")
    service = ServiceConfig(
        command.id,
        command.name,
        command.prefix,
        command.requirements,
        command.standard_minutes,
        command.fee,
        command.open,
    )
    _check_service(service)
    if command.id in state.services:
        raise Conflict("service_exists", f"there is already a service {command.id!r}")
    # Numbers are prefix + sequence: two services with one prefix would print the same numbers.
    taken = next((s for s in state.services.values() if s.prefix == command.prefix), None)
    if taken is not None:
        raise Conflict(
            "prefix_taken", f"prefix {command.prefix} is used by {taken.name}", {"service": taken.id}
        )
    state.services[service.id] = service
    state.last_number.setdefault(service.id, 0)
    state.queues.add_service(service.id)
    state.service_times.standard[service.id] = service.standard_minutes
    state.service_times.samples.setdefault(service.id, deque(maxlen=SERVICE_TIME_SAMPLES))
    return service


def _update_service(state: OfficeState, command: UpdateService) -> ServiceConfig:
    old = state.service(command.id)
    changes = dict(command.changes)
    unknown = sorted(set(changes) - SERVICE_FIELDS)
    if unknown:
        raise Invalid("invalid_request", f"unknown field: {unknown[0]!r}")
    if "requirements" in changes:
        changes["requirements"] = tuple(changes["requirements"])
    service = replace(old, **changes)
    _check_service(service)
    state.services[service.id] = service
    state.service_times.standard[service.id] = service.standard_minutes
    return service


def _check_service(service: ServiceConfig) -> None:
    _check_text(service.name, "name", 100, required=True)
    _check_text(service.fee, "fee", 100)
    if not isinstance(service.requirements, tuple) or not all(
        isinstance(r, str) and 0 < len(r) <= 200 for r in service.requirements
    ):
        raise Invalid("invalid_request", "requirements must be a list of non-empty strings")
    if len(service.requirements) > 30:
        raise Invalid("invalid_request", "at most 30 requirements")
    minutes = service.standard_minutes
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440
    ):
        raise Invalid("invalid_request", "standard_minutes must be 1-1440 or null")
    if not isinstance(service.open, bool):
        raise Invalid("invalid_request", "open must be true or false")


def _create_counter(state: OfficeState, command: CreateCounter) -> Counter:
    if not ID_PATTERN.fullmatch(command.id):
        raise Invalid("invalid_request", "id must be 1-64 of a-z, 0-9, _ and -")
    _check_text(command.name, "name", 100, required=True)
    _check_services(state, command.services)
    if command.id in state.counters:
        raise Conflict("counter_exists", f"there is already a counter {command.id!r}")
    # A new counter starts closed: nobody sits there until an officer opens it.
    counter = Counter(command.id, command.name, command.services, open=False)
    state.counters[counter.id] = counter
    state.touch_counter(counter)
    return counter


def _update_counter(state: OfficeState, command: UpdateCounter) -> Counter:
    counter = state.counter(command.id)
    changes = dict(command.changes)
    unknown = sorted(set(changes) - COUNTER_FIELDS)
    if unknown:
        raise Invalid("invalid_request", f"unknown field: {unknown[0]!r}")
    name = changes.get("name", counter.name)
    services = tuple(changes.get("services", counter.services))
    _check_text(name, "name", 100, required=True)
    _check_services(state, services)
    # The list is read at each call, so the new order counts from the counter's next call.
    counter.name = name
    counter.services = services
    state.touch_counter(counter)
    return counter


def _check_services(state: OfficeState, services: tuple[str, ...]) -> None:
    if not services or not all(isinstance(s, str) for s in services):
        raise Invalid("invalid_request", "services must name at least one service")
    if len(set(services)) != len(services):
        raise Invalid("invalid_request", "services lists a service twice")
    for service_id in services:
        state.service(service_id)  # 404 unknown_service


def _check_text(value: Any, name: str, longest: int, required: bool = False) -> None:
    if not isinstance(value, str) or len(value) > longest or (required and not value.strip()):
        raise Invalid("invalid_request", f"{name} must be a string of at most {longest} characters")
