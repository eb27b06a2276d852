"""How long a visitor will wait: a rule a visitor can trust. Standard library only, no state.

A few quick visits early in the morning must not turn a 20-minute service into
"about 1 minute", so the estimate starts from the service's published standard
time and only switches to measured times once enough visits of the day were
timed; even then it uses the median (one odd visit moves it little) and never
goes below a fraction of the standard. The result is shown as a rounded range,
because a single figure reads as a promise the office cannot keep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

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
