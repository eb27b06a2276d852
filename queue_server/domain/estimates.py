"""How long a visitor will wait: service-time samples per service, and the estimate from them."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime

from queue_server.domain.settings import ServiceConfig
from queue_server.domain.tickets import Ticket

SERVICE_TIME_SAMPLES = 20
DEFAULT_SERVICE_MINUTES = 5.0
# A visit closed within seconds was a mis-press or a quick hand-back, not service time.
SHORTEST_SAMPLE_SECONDS = 30.0


class ServiceTimes:
    """Minutes each of the latest finished visits took, per service."""

    def __init__(self, services: Iterable[ServiceConfig]) -> None:
        self.standard = {s.id: s.standard_minutes for s in services}
        self.samples: dict[str, deque[float]] = {s: deque(maxlen=SERVICE_TIME_SAMPLES) for s in self.standard}

    def note(self, ticket: Ticket) -> None:
        """Record a finished visit's length (from its call, or from the start of service)."""
        started = ticket.serving_at or ticket.called_at
        if started and ticket.finished_at and ticket.service in self.samples:
            seconds = (
                datetime.fromisoformat(ticket.finished_at) - datetime.fromisoformat(started)
            ).total_seconds()
            if seconds >= SHORTEST_SAMPLE_SECONDS:
                self.samples[ticket.service].append(seconds / 60.0)

    def minutes_per_visit(self, service: str) -> float:
        """Recent average service time, else the published standard, else a default."""
        samples = self.samples.get(service)
        if samples:
            return sum(samples) / len(samples)
        standard = self.standard.get(service)
        return float(standard) if standard else DEFAULT_SERVICE_MINUTES

    def estimated_wait(self, service: str, position: int, open_counters: int) -> int:
        """Minutes until called: the visits ahead, shared among the open counters that serve it."""
        ahead = position - 1
        return round(ahead * self.minutes_per_visit(service) / max(1, open_counters))
