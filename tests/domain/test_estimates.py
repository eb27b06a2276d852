"""Wait estimates a visitor can trust (estimates.py), and their place in the ticket view."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from queue_server.domain import commands as cmd
from queue_server.domain import estimates
from tests.domain.office_factory import Desk


def test_the_standard_holds_until_enough_visits_are_timed() -> None:
    """Fewer than MIN_SAMPLES timed visits: the published standard minutes, however quick they were."""
    quick = [1.0] * (estimates.MIN_SAMPLES - 1)
    assert estimates.minutes_per_visit(quick, 20) == 20.0
    assert estimates.minutes_per_visit([], None) == estimates.DEFAULT_MINUTES


def test_measured_times_use_the_median_bounded_below_by_a_share_of_the_standard() -> None:
    """Enough visits: their median, but never under FLOOR_FRACTION of the standard."""
    assert estimates.minutes_per_visit([10, 12, 11, 60, 9], 10) == 11.0  # one long visit barely moves it
    assert estimates.minutes_per_visit([1, 1, 1, 1, 1], 20) == 20 * estimates.FLOOR_FRACTION


def test_a_twenty_minute_service_never_reads_one_minute_after_a_few_short_visits() -> None:
    """Found 8: three quick visits did not turn a 20-minute service at position 3 into "±1 minute"."""
    per_visit = estimates.minutes_per_visit([0.6, 0.8, 0.7], 20)
    assert estimates.rounded_minutes(3, per_visit, 1) == 40
    assert estimates.wait_range(3, per_visit, 1) == (30, 50)


def test_the_visitor_who_is_next_gets_no_range_and_nobody_ahead_reads_zero() -> None:
    """Position 1: no range (the page says "you are next"); from position 2 never 0 minutes."""
    assert estimates.wait_range(1, 10, 1) is None
    assert estimates.rounded_minutes(1, 10, 1) == 0
    assert estimates.rounded_minutes(2, 0.1, 5) == 1


def test_ranges_round_to_five_minutes() -> None:
    """ "sekitar 10-15 menit": the example of the issue."""
    assert estimates.wait_range(2, 12.5, 1) == (10, 15)


@given(
    position=st.integers(2, 500),
    per_visit=st.floats(0.1, 240),
    counters=st.integers(0, 20),
)
def test_a_range_is_never_empty_never_zero_and_holds_the_estimate(
    position: int, per_visit: float, counters: int
) -> None:
    """Property: low >= 1, low < high, and the single-figure estimate lies within the range."""
    span = estimates.wait_range(position, per_visit, counters)
    assert span is not None
    low, high = span
    assert 1 <= low < high
    minutes = estimates.wait_minutes(position, per_visit, counters)
    assert low <= max(1.0, minutes) <= high


@given(samples=st.lists(st.floats(0.5, 120), max_size=30), standard=st.one_of(st.none(), st.integers(1, 120)))
def test_minutes_per_visit_is_never_below_half_the_standard(
    samples: list[float], standard: int | None
) -> None:
    """Property: whatever the visits, per-visit minutes stay at or above FLOOR_FRACTION of the standard."""
    floor = (standard or estimates.DEFAULT_MINUTES) * estimates.FLOOR_FRACTION
    assert estimates.minutes_per_visit(samples, standard) >= floor


def test_the_ticket_view_carries_the_range() -> None:
    """The view keeps estimated_wait_minutes and adds estimated_wait_range as [low, high], null when next."""
    desk = Desk()
    first, _, third = desk.issue("a"), desk.issue("a"), desk.issue("a")
    view = desk.state.view(third)
    low, high = view["estimated_wait_range"]
    assert low <= view["estimated_wait_minutes"] <= high
    assert desk.state.view(first)["estimated_wait_range"] is None
    desk.call("1")
    assert desk.state.view(first)["estimated_wait_range"] is None
    assert desk.state.view(first)["estimated_wait_minutes"] is None


def test_the_day_starts_without_yesterdays_visit_times() -> None:
    """Measured visit times are the day's own: a new day starts from the standard again."""
    desk = Desk()
    for _ in range(estimates.MIN_SAMPLES):
        desk.issue("a")
        desk.call("1")
        desk.clock.advance(120)
        desk.do(cmd.Finish("1"))
    assert len(desk.state.service_times.samples["a"]) == estimates.MIN_SAMPLES
    desk.clock.advance(24 * 3600)
    desk.do(cmd.Tick())
    assert len(desk.state.service_times.samples["a"]) == 0
