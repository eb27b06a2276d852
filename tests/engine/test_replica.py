"""The replica of a worker that does not write an office (engine/replica.py), on a real Redis:
whatever the writer did, the board and ticket views the replica rebuilt from the stream equal the
writer's at the same seq."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.bus.hub import Hub
from queue_server.bus.redis import Broker
from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.domain.errors import DomainError
from queue_server.domain.settings import QueuePolicy, RemotePolicy
from queue_server.engine.replica import OfficeReplica
from queue_server.engine.replication import StreamPublisher
from queue_server.engine.service import OfficeService
from queue_server.store import Store
from tests.engine.test_durability import Clock
from tests.support.command_streams import COMMANDS
from tests.support.redis_server import RedisServer
from tests.support.server import SMALL_OFFICE_TOML
from tests.support.state_picture import state_picture

pytestmark = pytest.mark.scale
_BASE = parse_config(SMALL_OFFICE_TOML.replace("capacity = 30", "capacity = 4"))
# api-remote switched on, so replicas are shown bookings, remote tickets, priority, rejoins and a route.
CONFIG = replace(
    _BASE,
    services=(replace(_BASE.services[0], remote_quota=4, next="b"), *_BASE.services[1:]),
    queue=QueuePolicy(rejoin_within_calls=3, rejoin_after=1, priority_categories=("lansia",)),
    remote=RemotePolicy(enabled=True, book_days_ahead=1),
)
_names = itertools.count()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


class Pair:
    """A writer with its stream publisher and a replica following it, on one fresh office id."""

    def __init__(self, folder: Path, url: str, clock: Clock) -> None:
        self.office = f"t{uuid.uuid4().hex[:8]}"
        self.folder, self.url, self.clock = folder, url, clock
        self.writer = self._writer()
        self.replica = OfficeReplica(CONFIG, Hub(), Broker(url), self.office, clock)

    def _writer(self) -> OfficeService:
        writer = OfficeService(
            CONFIG, Store(self.folder / f"{self.office}.db"), Hub(), self.clock, self.office
        )
        writer.publisher = StreamPublisher(Broker(self.url), self.office, writer.channel, writer.picture)
        return writer

    async def start(self, replica: bool = True) -> None:
        await self.writer.start()
        if replica:
            await self.replica.start()

    async def restart_writer(self) -> None:
        await self.writer.stop()
        self.writer.store.close()
        self.writer = self._writer()
        await self.writer.start()

    async def caught_up(self) -> None:
        # Up to 10 s: a take-over's picture, on a loaded 2-core machine, can take a few seconds.
        for _ in range(2000):
            if self.replica.loaded and self.replica.mirror.seq == self.writer.seq:
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"replica at {self.replica.mirror.seq}, writer at {self.writer.seq}")

    def assert_equal(self) -> None:
        assert self.replica.seq == self.writer.seq
        assert self.replica.snapshot() == self.writer.snapshot()
        assert self.replica.live_views() == self.writer.live_views()
        assert self.replica.channel.last_seq == self.writer.channel.last_seq
        # Whatever was applied in place equals the whole rebuild from the same rows, to the last index.
        rebuilt = self.replica._office_from(self.replica.mirror.stored()).state
        rebuilt.seq = self.replica.mirror.seq
        assert state_picture(self.replica.office.state) == state_picture(rebuilt)

    async def stop(self) -> None:
        await self.replica.stop()
        await self.writer.stop()
        self.writer.store.close()
        with contextlib.suppress(Exception):
            await self.replica.broker.close()


async def run(writer: OfficeService, command: Any, index: int) -> None:
    if isinstance(command, cmd.IssueTicket):
        command = cmd.IssueTicket(
            command.service, command.party_size, f"hash-{index}", command.origin, priority=command.priority
        )
    elif isinstance(command, tuple):  # a remote ticket for today or a booking for tomorrow
        day = writer.now().date() + timedelta(days=command[1])
        command = cmd.IssueRemote("a", 1, f"hash-{index}", day.isoformat())
    with contextlib.suppress(DomainError):
        await writer.execute(command)


STEPS = st.lists(st.tuples(st.lists(COMMANDS, min_size=1, max_size=6), st.booleans()), min_size=1, max_size=8)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS, midnight_after=st.integers(0, 8))
def test_the_replica_equals_the_writer_at_every_seq(
    tmp_path: Path, redis_url: str, steps: list[tuple[list[cmd.Command], bool]], midnight_after: int
) -> None:
    """Groups of commands (some sent at once, so they share a batch), a day's end among them:
    after each group the replica's snapshot, ticket views and channel equal the writer's."""

    async def scenario() -> None:
        clock = Clock()
        pair = Pair(tmp_path, redis_url, clock)
        await pair.start()
        try:
            count = 0
            for step, (group, together) in enumerate(steps):
                if step == midnight_after:
                    clock.now += timedelta(days=1)
                    await pair.writer.tick()
                if together:
                    await asyncio.gather(*(run(pair.writer, c, count + i) for i, c in enumerate(group)))
                else:
                    for i, command in enumerate(group):
                        await run(pair.writer, command, count + i)
                count += len(group)
                clock.now += timedelta(seconds=30)
                await pair.caught_up()
                pair.assert_equal()
        finally:
            await pair.stop()

    asyncio.run(scenario())


def test_a_replica_started_late_reads_the_picture_and_then_follows(tmp_path: Path, redis_url: str) -> None:
    """A worker that starts after a morning of work gets the same board, then keeps up."""

    async def scenario() -> None:
        clock = Clock()
        pair = Pair(tmp_path, redis_url, clock)
        await pair.start(replica=False)
        try:
            for i in range(12):
                await run(pair.writer, cmd.IssueTicket("a" if i % 3 else "b", 1, ""), i)
            await pair.writer.execute(cmd.CallNext("1"))
            await pair.writer.execute(cmd.CallNext("2"))
            await asyncio.sleep(0.1)
            await pair.replica.start()
            await pair.caught_up()
            pair.assert_equal()
            assert pair.replica.snapshot()["recent_calls"], "the recent calls come from the stream's history"
            await pair.writer.execute(cmd.Finish("1"))
            await pair.caught_up()
            pair.assert_equal()
        finally:
            await pair.stop()

    asyncio.run(scenario())


def test_a_new_writer_on_the_same_database_keeps_the_replica_in_step(tmp_path: Path, redis_url: str) -> None:
    """A take-over (a new writer from the same file) writes the picture again; the replica's
    screens get every event once, in order, across it."""

    async def scenario() -> None:
        clock = Clock()
        pair = Pair(tmp_path, redis_url, clock)
        await pair.start()
        seen: list[int] = []
        try:
            with pair.replica.channel.subscribe(0) as subscription:

                async def watch() -> None:
                    while True:
                        seen.extend(e.seq for e in await subscription.next_batch())

                watcher = asyncio.create_task(watch())
                for i in range(5):
                    await run(pair.writer, cmd.IssueTicket("a", 1, ""), i)
                await pair.restart_writer()
                for i in range(5, 9):
                    await run(pair.writer, cmd.IssueTicket("a", 1, ""), i)
                await pair.writer.execute(cmd.CallNext("1"))
                await pair.caught_up()
                await asyncio.sleep(0.05)
                watcher.cancel()
            pair.assert_equal()
            assert seen == list(range(1, pair.writer.seq + 1))
        finally:
            await pair.stop()

    asyncio.run(scenario())


def test_ordinary_batches_are_applied_in_place_not_rebuilt(tmp_path: Path, redis_url: str) -> None:
    """Issues, calls, serves, finishes, no-shows and the door, each read by a phone: the replica
    applies each batch's tickets to its live state (domain/reload.py) and never rebuilds it whole,
    and the result still equals the writer and a rebuild."""

    async def scenario() -> None:
        clock = Clock()
        pair = Pair(tmp_path, redis_url, clock)
        await pair.start()
        try:
            await run(pair.writer, cmd.IssueTicket("a", 1, ""), 0)
            await pair.caught_up()
            pair.assert_equal()  # the first picture (and the seeded settings) rebuild once
            rebuilds, applied = pair.replica.rebuilds, pair.replica.applied_in_place
            commands: list[Any] = []
            for i in range(6):
                commands += [
                    cmd.IssueTicket("ab"[i % 2], 1 + i % 2, ""),
                    cmd.IssueTicket("a", 1, "", priority="lansia"),
                ]
            commands += [cmd.CallNext("1"), cmd.CallNext("2"), cmd.Serve("1"), cmd.DoorEnter(1)]
            commands += [cmd.Finish("1"), cmd.CallNext("1"), cmd.NoShow("2"), cmd.CallNext("2")]
            commands += [cmd.Recall("1"), cmd.CallNext("1"), cmd.DoorExit(1), cmd.CallNext("3")]
            # Counter 4 calls service b first: visits that end done, so their times are samples.
            commands += [cmd.CallNext("4"), cmd.Finish("4"), cmd.CallNext("4"), cmd.Serve("4")]
            commands += [cmd.Finish("2"), cmd.Finish("4"), cmd.CallNext("4"), cmd.Finish("4")]
            batches = 0
            for index, command in enumerate(commands, start=1):
                clock.now += timedelta(minutes=2)  # long enough for each finished visit to be timed
                seq = pair.writer.seq
                await run(pair.writer, command, index)
                batches += pair.writer.seq > seq  # a refused command commits nothing
                await pair.caught_up()
                pair.assert_equal()
            assert pair.replica.rebuilds == rebuilds, "an ordinary batch rebuilt the whole state"
            assert pair.replica.applied_in_place - applied == batches >= len(commands) - 2
            assert any(pair.replica.office.state.service_times.samples.values()), "timed visits were seen"
        finally:
            await pair.stop()

    asyncio.run(scenario())
