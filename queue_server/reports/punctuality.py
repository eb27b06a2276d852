"""A counter's day: opening time, first call, minutes late, time open within the hours, idle time.

Idle is time the counter was open, had no current ticket, while a ticket of one of
its services was waiting (the `waiting` map every ticket event carries).
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from queue_server.domain.settings import OfficeConfig
from queue_server.reports import stats
from queue_server.reports.ledger import Ledger, Visit
from queue_server.reports.stats import Interval


def _days(first: str, last: str) -> list[date]:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _open_intervals(
    ledger: Ledger, until: float, open_at_start: dict[str, bool], origin: float
) -> dict[str, list[Interval]]:
    """Each counter's open intervals over the whole ledger (still open: up to `until`).

    A counter that starts open (the config's `open`, true unless it says otherwise) and is
    never closed is open all along: most offices never press "open" at all. Its state before
    the first recorded change is the opposite of that change.
    """
    out: dict[str, list[Interval]] = defaultdict(list)
    since: dict[str, float] = {}
    first_change: dict[str, bool] = {}
    for _t, _day, counter, is_open in ledger.counter_changes:
        first_change.setdefault(counter, is_open)
    for counter, starts_open in open_at_start.items():
        if (not first_change[counter]) if counter in first_change else starts_open:
            since[counter] = origin
    for t, _day, counter, is_open in ledger.counter_changes:
        if is_open:
            since.setdefault(counter, t)
        elif counter in since:
            out[counter].append((since.pop(counter), t))
    for counter, start in since.items():
        out[counter].append((start, max(start, until)))
    return out


def _waiting_intervals(ledger: Ledger, services: tuple[str, ...], window: Interval) -> list[Interval]:
    """When at least one ticket of these services was waiting, inside `window`."""
    timeline = ledger.waiting
    start = _index(timeline, window[0])
    out: list[Interval] = []
    since: float | None = None
    for i in range(max(start, 0), len(timeline)):
        t, counts = timeline[i]
        if t >= window[1]:
            break
        positive = any(counts.get(s, 0) > 0 for s in services) if services else any(counts.values())
        t = max(t, window[0])
        if positive and since is None:
            since = t
        elif not positive and since is not None:
            out.append((since, t))
            since = None
    if since is not None:
        out.append((since, window[1]))
    return out


def _index(timeline: list[tuple[float, dict[str, int]]], t: float) -> int:
    """The last entry at or before t (-1 if none): a bisection on the times."""
    lo, hi = 0, len(timeline)
    while lo < hi:
        mid = (lo + hi) // 2
        if timeline[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def counter_days(
    ledger: Ledger, config: OfficeConfig, first: str, last: str, only: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """(day, counter) -> opens_at, first_call_at, late_minutes, open_minutes, idle_minutes."""
    zone = config.zone
    origin = datetime.combine(date.fromisoformat(first), time(), zone).timestamp()
    opened = _open_intervals(ledger, clock.time(), {c.id: c.open for c in config.counters}, origin)
    visits: dict[tuple[str, str], list[Visit]] = defaultdict(list)
    for visit in ledger.between(first, last):
        visits[(visit.day, visit.counter)].append(visit)
    services = {c.id: tuple(c.services) for c in config.counters}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for day in _days(first, last):
        start = datetime.combine(day, time(), zone).timestamp()
        window = (start, datetime.combine(day + timedelta(days=1), time(), zone).timestamp())
        hours = config.hours
        if hours is None:
            within: list[Interval] = [window]
        else:
            within = [(start + a * 60, start + b * 60) for a, b in hours.ranges_on(day)]
        opening = hours.opens_at(day) if hours is not None else None
        names = set(opened) | {c for d, c in visits if d == day.isoformat()}
        for counter in sorted(names):
            if only is not None and counter != only:
                continue
            key = (day.isoformat(), counter)
            in_day = stats.intersect(stats.merge(opened.get(counter, [])), [window])
            todays = visits.get(key, [])
            is_open = stats.intersect(in_day, within)
            waiting = _waiting_intervals(ledger, services.get(counter, ()), window)
            if not todays and not (is_open and waiting):
                continue  # nothing happened at this counter that day: no visit, nobody waiting for it
            busy = stats.merge((v.start, v.end if v.end is not None else window[1]) for v in todays)
            free = stats.subtract(is_open, busy)
            idle = stats.intersect(free, waiting)
            first_call = min(todays, key=lambda v: v.start) if todays else None
            late = None
            if opening is not None and first_call is not None:
                hh, mm = int(opening[:2]), int(opening[3:])
                late = stats.minutes(max(0.0, first_call.start - (start + (hh * 60 + mm) * 60)))
            out[key] = {
                "opens_at": opening,
                "first_call_at": first_call.start_at if first_call else None,
                "late_minutes": late,
                "open_minutes": stats.minutes(sum(b - a for a, b in is_open)),
                "idle_minutes": stats.minutes(sum(b - a for a, b in idle)),
            }
    return out
