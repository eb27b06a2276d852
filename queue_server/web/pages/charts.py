"""Inline SVG charts for the report pages, built on the server (no script, no CDN, printable).

Each returns SVG text that the templates insert with `|safe`: every text in it is escaped here.
Only presentation attributes (fill, width...), never `style`: the CSP allows no inline CSS.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.sax.saxutils import escape

WEEKDAYS = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")


def weekday_hours(days: list[dict[str, Any]]) -> list[list[int]]:
    """Arrivals per weekday (0 = Monday) x hour, summed over the days of occupancy rows by day."""
    grid = [[0] * 24 for _ in range(7)]
    for row in days:
        weekday = date.fromisoformat(row["period"]).weekday()
        for hour, count in row["arrivals_by_hour"].items():
            grid[weekday][int(hour)] += count
    return grid


def _open(kind: str, width: int, height: int, title: str) -> str:
    label = escape(title)
    return (
        f'<svg class="chart {kind}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
    )


def _shade(value: int, top: int) -> str:
    # From the page's pale blue to a deep blue, so zero is still visibly a cell.
    if top <= 0 or value <= 0:
        return "#eef2f7"
    ratio = value / top
    r, g, b = (int(238 - ratio * (238 - 21)), int(242 - ratio * (242 - 70)), int(247 - ratio * (247 - 140)))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map_svg(grid: list[list[int]], title: str, weekdays: tuple[str, ...] = WEEKDAYS) -> str:
    """A weekday x hour grid of cells, darker for more arrivals, each with its count as a tooltip."""
    hours = [h for h in range(24) if any(grid[d][h] for d in range(7))] or list(range(7, 17))
    first, last = min(hours), max(hours)
    columns = list(range(first, last + 1))
    cell, left, topm = 28, 40, 20
    width, height = left + cell * len(columns) + 4, topm + cell * 7 + 4
    top = max((max(row) for row in grid), default=0)
    parts = [_open("heat-map", width, height, title)]
    for i, hour in enumerate(columns):
        parts.append(
            f'<text x="{left + i * cell + cell / 2}" y="14" font-size="10" '
            f'text-anchor="middle">{hour:02d}</text>'
        )
    for d in range(7):
        y = topm + d * cell
        parts.append(f'<text x="0" y="{y + cell * 0.65}" font-size="11">{escape(weekdays[d])}</text>')
        for i, hour in enumerate(columns):
            value = grid[d][hour]
            parts.append(
                f'<rect x="{left + i * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{_shade(value, top)}"><title>{escape(weekdays[d])} {hour:02d}:00 - '
                f"{value}</title></rect>"
            )
            if value:
                ink = "#ffffff" if value > top / 2 else "#1b2430"
                parts.append(
                    f'<text x="{left + i * cell + cell / 2 - 1}" y="{y + cell * 0.62}" font-size="9" '
                    f'text-anchor="middle" fill="{ink}">{value}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(points: list[tuple[str, int]], title: str) -> str:
    """A bar per period (visits started), labelled below, the value above."""
    if not points:
        return ""
    bar, gap, height, base = 22, 6, 140, 120
    width = max(200, len(points) * (bar + gap) + 10)
    top = max(v for _, v in points) or 1
    parts = [
        _open("bars", width, height, title),
        f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#9aa5b1"/>',
    ]
    for i, (label, value) in enumerate(points):
        x = 5 + i * (bar + gap)
        h = round(value / top * (base - 20))
        parts.append(
            f'<rect x="{x}" y="{base - h}" width="{bar}" height="{h}" fill="#1f5fa8">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{base - h - 3}" font-size="9" text-anchor="middle">{value}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{base + 12}" font-size="8" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def rating_bars_svg(counts: dict[str, int], labels: dict[str, str], title: str) -> str:
    """The four faces' counts as horizontal bars."""
    total = max(counts.values(), default=0) or 1
    row, width = 24, 320
    parts = [_open("ratings", width, row * 4 + 4, title)]
    for i, key in enumerate(("4", "3", "2", "1")):
        value = counts.get(key, 0)
        y = i * row
        parts.append(f'<text x="0" y="{y + 16}" font-size="11">{escape(labels.get(key, key))}</text>')
        length = round(value / total * 170)
        parts.append(f'<rect x="110" y="{y + 4}" width="{length}" height="{row - 8}" fill="#1f5fa8"/>')
        parts.append(f'<text x="{115 + length}" y="{y + 16}" font-size="11">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
