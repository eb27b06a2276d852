"""The field simulation at CI length: a bad office day against the real server keeps every promise.

About 75 s: 60 s of compressed office traffic through fault proxies, with the
server stopped by SIGTERM and SIGKILL at random moments, then settling, a
closing-time restart and the checks. See tests/field/README.md for the longer run.
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
