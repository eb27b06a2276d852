"""The field simulation at CI length: a bad office day against the real server keeps every promise.

About 75 s: 60 s of compressed office traffic through fault proxies, with the
server stopped by SIGTERM and SIGKILL at random moments, then settling, a
closing-time restart and the checks. The three-worker day (45 s of traffic, about
60 s) kills single workers and restarts Redis as well. See tests/field/README.md for the longer run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.field.simulate import Options, run

SEED = 7
DURATION = 60.0  # seconds of office traffic


@pytest.mark.slow
def test_a_bad_day_at_the_office_keeps_every_promise(tmp_path: Path) -> None:
    """Tickets, numbers, calls, capacity, FIFO admission and every screen hold through faults and crashes."""
    report = run(
        Options(seed=SEED, duration=DURATION, workdir=tmp_path / "field-day"), say=lambda _line: None
    )
    print(report.text())  # shown by pytest when the test fails: the whole report, with the folder kept
    assert report.ok, "invariants failed:\n" + "\n".join(report.failures())


@pytest.mark.slow
@pytest.mark.scale
def test_a_bad_day_on_three_workers_and_redis_keeps_every_promise(tmp_path: Path) -> None:
    """The same day on `serve --workers 3` with a real redis-server: single workers are killed,
    Redis is restarted, and every promise above still holds on every worker's screens and phones."""
    report = run(
        Options(seed=SEED, duration=45.0, workdir=tmp_path / "field-day-3", workers=3),
        say=lambda _line: None,
    )
    print(report.text())
    assert report.ok, "invariants failed:\n" + "\n".join(report.failures())
