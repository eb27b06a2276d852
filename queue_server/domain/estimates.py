"""How long a visitor will wait: a rule a visitor can trust, and the day's timed visits it learns from.

A few quick visits early in the morning must not turn a 20-minute service into
"about 1 minute", so the estimate starts from the service's published standard
time and only switches to measured times once enough visits of the day were
timed; even then it uses the median (one odd visit moves it little) and never
goes below a fraction of the standard. The result is shown as a rounded range,
because a single figure reads as a promise the office cannot keep.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import datetime
from statistics import median

from queue_server.domain.settings import ServiceConfig
from queue_server.domain.tickets import Ticket

DEFAULT_MINUTES = 5.0
"""Minutes per visit for a service that publishes no standard time."""
MIN_SAMPLES = 5
"""Timed visits of the day needed before measured times replace the standard."""
RECENT_SAMPLES = 10
"""The median is taken over this many latest visits: the pace of the last hour, not the morning."""
FLOOR_FRACTION = 0.5
"""Measured minutes never count for less than this share of the standard."""
LOW_FACTOR = 0.8
HIGH_FACTOR = 1.2
STEP_MINUTES = 5
"""Ranges of five minutes ("10-15") from ten minutes on; finer below that."""


def minutes_per_visit(samples: Sequence[float], standard_minutes: float | None) -> float:
    """The minutes one visit is expected to take, from the day's timed visits (oldest first)."""
    standard = float(standard_minutes) if standard_minutes else DEFAULT_MINUTES
    if len(samples) < MIN_SAMPLES:
        return standard
    measured = float(median(list(samples)[-RECENT_SAMPLES:]))
    return max(measured, FLOOR_FRACTION * standard)


def wait_minutes(position: int, per_visit: float, open_counters: int) -> float:
    """Minutes until called: the visits ahead, shared among the open counters that serve the service."""
    ahead = max(0, position - 1)
    return ahead * per_visit / max(1, open_counters)


def rounded_minutes(position: int, per_visit: float, open_counters: int) -> int:
    """The single figure (api-v1's `estimated_wait_minutes`): never 0 while someone is ahead."""
    minutes = wait_minutes(position, per_visit, open_counters)
    if position <= 1:
        return 0
    return max(1, round(minutes))


def wait_range(position: int, per_visit: float, open_counters: int) -> tuple[int, int] | None:
    """A rounded range such as (10, 15); None when nobody is ahead (the visitor is next)."""
    if position <= 1:
        return None
    minutes = wait_minutes(position, per_visit, open_counters)
    low_raw = minutes * LOW_FACTOR
    high_raw = minutes * HIGH_FACTOR
    if minutes < 2 * STEP_MINUTES:
        # Short waits: whole minutes, at least "1-5" so a range never reads "0-0".
        low = max(1, math.floor(low_raw))
        high = max(low + 1, math.ceil(high_raw), STEP_MINUTES if low < STEP_MINUTES else 0)
        return low, high
    low = max(STEP_MINUTES, math.floor(low_raw / STEP_MINUTES) * STEP_MINUTES)
    high = math.ceil(high_raw / STEP_MINUTES) * STEP_MINUTES
    if high <= low:
        high = low + STEP_MINUTES
    return low, high


SERVICE_TIME_SAMPLES = 20
# A visit closed within seconds was a mis-press or a quick hand-back, not service time.
SHORTEST_SAMPLE_SECONDS = 30.0


def visit_minutes(ticket: Ticket, ended_at: str) -> float | None:
    """How long a visit took, in minutes, from its call (or start of service) to `ended_at`; None
    for a visit never called or closed too soon to count."""
    started = ticket.serving_at or ticket.called_at
    if not started:
        return None
    seconds = (datetime.fromisoformat(ended_at) - datetime.fromisoformat(started)).total_seconds()
    return seconds / 60.0 if seconds >= SHORTEST_SAMPLE_SECONDS else None


class ServiceTimes:
    """Minutes each of the day's latest finished visits took, per service."""

    def __init__(self, services: Iterable[ServiceConfig]) -> None:
        self.standard = {s.id: s.standard_minutes for s in services}
        self.samples: dict[str, deque[float]] = {s: deque(maxlen=SERVICE_TIME_SAMPLES) for s in self.standard}

    def note(self, ticket: Ticket) -> None:
        """Record a finished visit's length (from its call, or from the start of service)."""
        if ticket.finished_at:
            self.note_visit(ticket.service, ticket, ticket.finished_at)

    def note_visit(self, service: str, ticket: Ticket, ended_at: str) -> None:
        """Record one visit of `service` that ended at `ended_at` (a route step ends without finishing)."""
        if service in self.samples:
            minutes = visit_minutes(ticket, ended_at)
            if minutes is not None:
                self.samples[service].append(minutes)

    def sample_of(self, ticket: Ticket) -> float | None:
        """The minutes `note(ticket)` would record, or None (a replica's reload keeps its own tally)."""
        if not ticket.finished_at or ticket.service not in self.samples:
            return None
        return visit_minutes(ticket, ticket.finished_at)

    def minutes_per_visit(self, service: str) -> float:
        return minutes_per_visit(list(self.samples.get(service, ())), self.standard.get(service))

    def restore(self, service: str, samples: Sequence[float]) -> None:
        """Put back the samples a step had changed (an undone finish)."""
        self.samples[service] = deque(samples, maxlen=SERVICE_TIME_SAMPLES)

    def clear(self) -> None:
        """A new day: estimates learn from the day's own visits."""
        for samples in self.samples.values():
            samples.clear()
