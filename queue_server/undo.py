"""Undoing a counter's last step: which step may be taken back, and until when. Standard library only.

An officer who presses "call next" by mistake has closed the visit of the person
in front of them and called someone across the room. For a short while the
step can be taken back: every ticket the step touched returns to exactly the
state it had before (the previous visitor back at the counter, the called one
back at its place in the queue). The rule here decides *whether* a step may be
undone; `domain.Office` records the steps and puts the tickets back.

A step may be undone only

- within `UNDO_SECONDS` of it,
- if it is the counter's latest undoable step and was not undone already, and
- if nothing else has moved the tickets it touched since (their status,
  counter and service are still what the step left), so an undo never
  overwrites a later, deliberate change.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

UNDO_SECONDS = 15.0
"""How long after a step "Batalkan" still works: enough to notice a stray key, short enough to be safe."""

UNDOABLE = frozenset({"call", "finish", "no_show", "serve"})
"""The counter steps that can be taken back (a call includes the implicit finish of the previous visitor)."""


@dataclass(frozen=True)
class Step:
    """One counter step, as recorded right after it was applied.

    `before` holds copies of the touched tickets as they were before the step
    (opaque to this module); `after` each touched ticket's fingerprint right
    after it; `current_before`/`current_after` the counter's current ticket id.
    """

    counter: str
    kind: str
    at: datetime
    before: tuple[Any, ...]
    after: Mapping[int, Hashable]
    current_before: int | None
    current_after: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)


def record(
    counter: str,
    kind: str,
    at: datetime,
    before: tuple[Any, ...],
    after: Mapping[int, Hashable],
    current_before: int | None,
    current_after: int | None,
    extra: Mapping[str, Any] | None = None,
) -> Step:
    """A step worth remembering; refuses kinds that cannot be undone."""
    if kind not in UNDOABLE:
        raise ValueError(f"a {kind!r} step cannot be undone")
    return Step(counter, kind, at, before, dict(after), current_before, current_after, dict(extra or {}))


def refusal(
    step: Step | None,
    now: datetime,
    fingerprints: Mapping[int, Hashable],
    current: int | None,
    window_seconds: float = UNDO_SECONDS,
) -> str | None:
    """Why `step` may not be undone at `now` (a short English reason), or None when it may.

    `fingerprints` gives the touched tickets' fingerprints now, `current` the
    counter's current ticket id now.
    """
    if step is None:
        return "there is no step to undo"
    elapsed = (now - step.at).total_seconds()
    if elapsed < 0 or elapsed > window_seconds:
        return f"the last step was more than {window_seconds:g} seconds ago"
    if current != step.current_after:
        return "the counter has moved on since"
    for ticket_id, fingerprint in step.after.items():
        if fingerprints.get(ticket_id) != fingerprint:
            return "a ticket of that step has changed since"
    return None
