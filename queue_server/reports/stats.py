"""Pure figures: summaries, periods, interval arithmetic, the heat map and the IKM. Standard library only."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from queue_server.domain import survey

Interval = tuple[float, float]
"""[start, end) in POSIX seconds."""


def percentile(ordered: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of sorted values, linear between the closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Iterable[float]) -> dict[str, float | None]:
    """{"mean", "median", "p90"} in minutes rounded to 2 decimals; all None without a sample."""
    ordered = sorted(values)
    if not ordered:
        return {"mean": None, "median": None, "p90": None}
    return {
        "mean": round(sum(ordered) / len(ordered), 2),
        "median": round(percentile(ordered, 50), 2),
        "p90": round(percentile(ordered, 90), 2),
    }


def period_of(day: str, group: str) -> str:
    """The period a local day belongs to: the day, its ISO week ("2026-W49"), month or "all"."""
    if group == "day":
        return day
    if group == "month":
        return day[:7]
    if group == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    return "all"


def overlap(intervals: Iterable[Interval], window: Interval) -> float:
    """Seconds of `intervals` (not overlapping each other) inside `window`."""
    start, end = window
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)


def intersect(first: Sequence[Interval], second: Sequence[Interval]) -> list[Interval]:
    """The intersection of two sorted lists of disjoint intervals."""
    out: list[Interval] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start = max(first[i][0], second[j][0])
        end = min(first[i][1], second[j][1])
        if start < end:
            out.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(base: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """`base` minus `holes` (both sorted and disjoint)."""
    out: list[Interval] = []
    j = 0
    for start, end in base:
        cursor = start
        while j < len(holes) and holes[j][1] <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k][0] < end:
            if holes[k][0] > cursor:
                out.append((cursor, holes[k][0]))
            cursor = max(cursor, holes[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, overlapping intervals joined."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif start < end:
            out.append((start, end))
    return out


def minutes(seconds: float) -> float:
    return round(seconds / 60, 2)


def heat_map(moments: Iterable[datetime]) -> list[list[int]]:
    """Counts per weekday (0 = Monday) x local hour (0..23)."""
    grid = [[0] * 24 for _ in range(7)]
    for moment in moments:
        grid[moment.weekday()][moment.hour] += 1
    return grid


def ikm_report(totals: dict[str, int], respondents: int, lang: str) -> dict[str, Any]:
    """Elements with their NRR, the index and its category, from the element sums of `respondents` surveys."""
    elements: list[dict[str, Any]] = []
    nrrs: list[float] = []
    for element in survey.ELEMENTS:
        value = survey.nrr(totals.get(element.id, 0), respondents)
        if value is not None:
            nrrs.append(value)
        elements.append(
            {
                "id": element.id,
                "name": element.name.get(lang, element.name["id"]),
                "nrr": None if value is None else round(value, 2),
            }
        )
    if not respondents:
        return {"respondents": 0, "elements": elements, "ikm": None, "category": None, "quality": None}
    index = survey.ikm(nrrs)
    letter, quality = survey.category(index)
    return {
        "respondents": respondents,
        "elements": elements,
        "ikm": index,
        "category": letter,
        "quality": quality.get(lang, quality["id"]),
    }


def rating_summary(counts: dict[int, int]) -> dict[str, Any]:
    """The one-tap ratings: how many, their mean (2 decimals) and the count of each face."""
    total = sum(counts.values())
    mean = round(sum(k * v for k, v in counts.items()) / total, 2) if total else None
    return {"respondents": total, "mean": mean, "counts": {str(k): counts.get(k, 0) for k in range(1, 5)}}
