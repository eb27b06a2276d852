"""A replica's cost per committed batch (engine/replica.py): absorb one call-next batch, then serve
one ticket view, for an office of 1,000 and 5,000 tickets of the day; the old way (the whole live
state rebuilt from every row) against the new (the batch's tickets applied in place).

No Redis and no sockets: a real writer (OfficeService on a temporary SQLite file) runs the office,
each batch it commits is turned into the stream entry its publisher would send, and two replicas
of the office, one per way, absorb the same entries. Old and new alternate which goes first each
round, so both see the same machine state; the figure is the median of the rounds (and p90).
At the end both replicas' ticket views are checked equal to the writer's.

Run:  .venv/bin/python tests/bench/bench_replica_apply.py [--sizes 1000 5000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.bus.hub import Hub
from queue_server.bus.redis import Broker, OfficePicture, StreamEntry
from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.engine.replica import OfficeReplica
from queue_server.engine.service import OfficeService
from queue_server.store import Store
from queue_server.store.day import Batch

TOML = """
[office]
name = "Kantor Bench"
timezone = "Asia/Makassar"
capacity = 100000

[[services]]
id = "a"
name = "Layanan A"
prefix = "A"
standard_minutes = 10

[[services]]
id = "b"
name = "Layanan B"
prefix = "B"
"""
COUNTERS = 6


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 6, 0, tzinfo=ZoneInfo("Asia/Makassar"))

    def __call__(self) -> datetime:
        return self.now


def config_text() -> str:
    counters = "".join(
        f'\n[[counters]]\nid = "{i}"\nname = "Loket {i}"\nservices = ["a", "b"]\n'
        for i in range(1, COUNTERS + 1)
    )
    return TOML + counters


class Capture:
    """The stream entries a writer's publisher would send for each committed batch."""

    def __init__(self, writer: OfficeService) -> None:
        self.writer = writer
        self.entries: list[StreamEntry] = []
        writer._replicate = self._committed  # type: ignore[method-assign]

    def _committed(self, batch: Batch) -> None:
        meta = self.writer._meta()
        rows: dict[str, Any] = {
            "tickets": [list(row) for row in batch.tickets],
            "office": batch.office,
            "counters": meta["counters"],
            "settings": batch.settings,
            "epoch": "bench",
        }
        events = batch.events
        for index, (seq, _type, _at, text) in enumerate(events):
            self.entries.append(StreamEntry(seq, text, rows if index == len(events) - 1 else None))

    def take(self) -> list[StreamEntry]:
        entries, self.entries = self.entries, []
        return entries


def replica_of(writer: OfficeService, clock: Clock, in_place: bool) -> OfficeReplica:
    """A replica that has read the writer's picture (as `_load_picture` does, without Redis)."""
    replica = OfficeReplica(parse_config(config_text()), Hub(), Broker("redis://127.0.0.1:1"), "bench", clock)
    replica.in_place = in_place
    picture = writer.picture()
    replica.mirror.load(
        OfficePicture({**picture.meta, "epoch": "bench"}, [row for _, row in picture.tickets])
    )
    replica._rebuild()
    replica.board = replica._board_of(replica.office)
    replica.channel.reset(picture.seq, [])
    replica.loaded = True
    return replica


async def office_of(folder: Path, size: int, clock: Clock) -> tuple[OfficeService, Capture]:
    """A writer with `size` tickets issued today, two in five of them already served."""
    writer = OfficeService(
        parse_config(config_text()), Store(folder / f"bench-{size}.db"), Hub(), clock, "bench"
    )
    await writer.start()
    capture = Capture(writer)
    for start in range(0, size, 500):
        await asyncio.gather(
            *(
                writer.execute(cmd.IssueTicket("ab"[i % 2], 1, f"hash-{size}-{i}"))
                for i in range(start, min(size, start + 500))
            )
        )
        clock.now += timedelta(seconds=20)
    for i in range(size * 2 // 5):
        clock.now += timedelta(seconds=10)  # a visit per counter a minute: 5,000 tickets fit in a day
        await writer.execute(cmd.CallNext(str(1 + i % COUNTERS)))
    capture.take()
    return writer, capture


def absorb_and_view(replica: OfficeReplica, entries: list[StreamEntry], ticket_id: int) -> float:
    started = time.perf_counter()
    replica._absorb(entries)
    view = replica.view_of(ticket_id)
    elapsed = time.perf_counter() - started
    assert view is not None and view["position"] is not None
    return elapsed


async def measure(size: int, rounds: int) -> dict[str, list[float]]:
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        writer, capture = await office_of(Path(folder), size, clock)
        old, new = replica_of(writer, clock, in_place=False), replica_of(writer, clock, in_place=True)
        last = max(writer.office.state.tickets)  # a phone at the back of the queue: its view moves each call
        times: dict[str, list[float]] = {"rebuild": [], "in place": []}
        for round_ in range(rounds):
            clock.now += timedelta(seconds=30)
            await writer.execute(cmd.CallNext(str(1 + round_ % COUNTERS)))
            entries = capture.take()
            pair = [("rebuild", old), ("in place", new)]
            for name, replica in pair if round_ % 2 else pair[::-1]:
                times[name].append(absorb_and_view(replica, entries, last))
        for name, replica in (("rebuild", old), ("in place", new)):
            assert replica.live_views() == writer.live_views(), f"the {name} replica differs from the writer"
        assert new.rebuilds == 1 and new.applied_in_place == rounds, (new.rebuilds, new.applied_in_place)
        await writer.stop()
        writer.store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(f"absorb one call-next batch + serve one ticket view; median (p90) of {args.rounds} rounds")
    for size in args.sizes:
        times = asyncio.run(measure(size, args.rounds))
        figures = {}
        for name, samples in times.items():
            ms = sorted(t * 1000 for t in samples)
            figures[name], p90 = statistics.median(ms), ms[int(len(ms) * 0.9)]
            print(f"  {size:>6} tickets  {name:<9} {figures[name]:8.3f} ms  (p90 {p90:.3f} ms)")
        print(f"  {size:>6} tickets  speed-up  {figures['rebuild'] / figures['in place']:8.1f}x")


if __name__ == "__main__":
    main()
