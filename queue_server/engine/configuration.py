"""The configuration the engine serves: the database's (the TOML seeds a new one), kept in step
with admin changes so every answer and page shows what is live."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from queue_server.domain.settings import CounterConfig, OfficeConfig
from queue_server.domain.state import OfficeState
from queue_server.store import settings


def served(toml_config: OfficeConfig, stored: dict[str, Any] | None) -> OfficeConfig:
    """What to serve at start: the database's live parts if it has them, else the TOML file's."""
    return settings.apply_stored(toml_config, stored) if stored is not None else toml_config


def from_state(config: OfficeConfig, state: OfficeState) -> OfficeConfig:
    """The configuration after admin commands changed the state's services, counters or hours."""
    counters = tuple(
        CounterConfig(c.id, c.name, c.services, c.open, c.any_service) for c in state.counters.values()
    )
    return replace(
        config,
        services=tuple(state.services.values()),
        counters=counters,
        capacity=state.occupancy.capacity,
        hours=state.hours,
        running_text=state.running_text,
    )
