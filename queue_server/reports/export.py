"""CSV (RFC 4180, UTF-8): one header row, nested figures flattened as `wait_minutes_mean`, ..."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"wait_minutes": {"mean": 1}} -> {"wait_minutes_mean": 1}; lists and other values as they are."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            out |= flatten(value, f"{prefix}{name}_")
        else:
            out[f"{prefix}{name}"] = value
    return out


def to_csv(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> str:
    """The rows as CSV text: CRLF line ends, fields with commas, quotes or line breaks quoted."""
    flat = [flatten(r) for r in rows]
    if columns is None:
        columns = []
        for row in flat:
            columns.extend(c for c in row if c not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in flat:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()
