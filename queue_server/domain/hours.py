"""Opening hours: weekly time ranges in local time, and closed dates (holidays).

Without hours the office is always open (api-v1). With them, new tickets for
today are refused outside the ranges (`office_closed`, with the next opening),
while counters keep serving the queue already issued.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")
LOOK_AHEAD_DAYS = 400
"""How far ahead `next_opening` looks (a year of holidays and closed weekdays)."""

Range = tuple[int, int]
"""Minutes after local midnight: [start, end)."""


class HoursError(ValueError):
    """The hours cannot be used; the message names the key."""


@dataclass(frozen=True)
class OpeningHours:
    week: Mapping[str, tuple[Range, ...]] = field(default_factory=dict)
    closed_dates: frozenset[str] = frozenset()

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        if day.isoformat() in self.closed_dates:
            return ()
        return self.week.get(DAYS[day.weekday()], ())

    def is_open(self, now: datetime) -> bool:
        minute = now.hour * 60 + now.minute
        return any(start <= minute < end for start, end in self.ranges_on(now.date()))

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment the office opens after `now` (aware, in now's zone); None if never."""
        minute = now.hour * 60 + now.minute
        for offset in range(LOOK_AHEAD_DAYS):
            day = now.date() + timedelta(days=offset)
            for start, _end in self.ranges_on(day):
                if offset > 0 or start > minute:
                    return datetime.combine(day, time(start // 60, start % 60), now.tzinfo)
        return None

    def opens_at(self, day: date) -> str | None:
        """The day's first opening time as "08:00", or None when closed that day."""
        ranges = self.ranges_on(day)
        return _clock(ranges[0][0]) if ranges else None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            d: [f"{_clock(s)}-{_clock(e)}" for s, e in self.week.get(d, ())] for d in DAYS
        }
        data["closed_dates"] = sorted(self.closed_dates)
        return data


def parse_hours(raw: Mapping[str, Any], where: str = "hours") -> OpeningHours:
    """Hours from TOML or JSON: `{"mon": ["08:00-12:00", ...], ..., "closed_dates": ["2026-12-25"]}`."""
    unknown = sorted(set(raw) - set(DAYS) - {"closed_dates"})
    if unknown:
        raise HoursError(f"{where}.{unknown[0]}: unknown key (use mon..sun and closed_dates)")
    week: dict[str, tuple[Range, ...]] = {}
    for day in DAYS:
        values = raw.get(day, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise HoursError(f'{where}.{day}: must be a list of "HH:MM-HH:MM" ranges')
        ranges = sorted(_range(v, f"{where}.{day}") for v in values)
        for (_, end), (start, _) in pairwise(ranges):
            if start < end:
                raise HoursError(f"{where}.{day}: ranges overlap")
        if ranges:
            week[day] = tuple(ranges)
    dates = raw.get("closed_dates", [])
    if not isinstance(dates, list) or not all(isinstance(d, str) for d in dates):
        raise HoursError(f'{where}.closed_dates: must be a list of "YYYY-MM-DD" dates')
    for value in dates:
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            raise HoursError(f"{where}.closed_dates: {value!r} is not a YYYY-MM-DD date") from exc
    return OpeningHours(week, frozenset(dates))


def _range(text: str, where: str) -> Range:
    match = _RANGE.fullmatch(text)
    if match is None:
        raise HoursError(f'{where}: {text!r} is not "HH:MM-HH:MM"')
    start = int(match[1]) * 60 + int(match[2])
    end = int(match[3]) * 60 + int(match[4])
    if end > 24 * 60 or end <= start:
        raise HoursError(f"{where}: {text!r} must end after it starts, by 24:00")
    return start, end


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
