"""Which worker applies an office's commands: the one holding the lock on its database file.

Every worker with the database on its machine tries the lock now and then; the one that gets it
opens the database and becomes the office's writer (its stream publisher writes the picture
first), the others keep a replica fed by the stream. When the writer dies the OS frees its lock
and the next worker to try takes over, from the same database, within `TAKEOVER_SECONDS`.
An edge worker (no database) only ever keeps replicas.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from queue_server.bus.hub import Hub
from queue_server.bus.redis import Broker
from queue_server.domain.settings import OfficeConfig
from queue_server.engine.replica import OfficeReplica
from queue_server.engine.replication import StreamPublisher
from queue_server.engine.service import OfficeService
from queue_server.engine.tasks import cancel_and_wait
from queue_server.store import Store
from queue_server.store import lock as db_lock

log = logging.getLogger(__name__)

TRY_LOCK_SECONDS = 0.5  # well inside the 5 s a take-over may take


class OfficeRole:
    """One office in one worker: its writer here, or a replica of the writer elsewhere."""

    def __init__(
        self,
        office_id: str,
        config: OfficeConfig,
        db_path: Path | None,
        broker: Broker,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.office_id = office_id
        self.config = config
        self.db_path = db_path
        self.broker = broker
        self.clock = clock
        self.hub = Hub()
        self.replica = OfficeReplica(config, self.hub, broker, office_id, clock)
        self.service: OfficeService = self.replica
        # Told when this worker becomes the office's writer (its inbox, the app's state).
        self.on_writer: list[Callable[[OfficeService], None]] = []
        self._lock: db_lock.DatabaseLock | None = None
        self._store: Store | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def is_writer(self) -> bool:
        return self.service is not self.replica

    async def start(self) -> None:
        if not await self._try_to_write():
            await self.replica.start()
            if self.db_path is not None:
                self._watch = asyncio.create_task(self._watch_lock(), name=f"takeover-{self.office_id}")

    def stop_watching(self) -> None:
        """No take-over from now on (the worker is stopping)."""
        if self._watch is not None:
            self._watch.cancel()

    async def stop(self) -> None:
        if self._watch is not None:
            await cancel_and_wait(self._watch)
        await self.service.stop()
        if self.service is not self.replica:
            await self.replica.stop_following()
        if self._store is not None:
            self._store.close()
        if self._lock is not None:
            self._lock.release()

    async def _watch_lock(self) -> None:
        while not await self._try_to_write():
            await asyncio.sleep(TRY_LOCK_SECONDS)

    async def _try_to_write(self) -> bool:
        if self.db_path is None:
            return False
        try:
            self._lock = db_lock.acquire(self.db_path)
        except db_lock.DatabaseInUse:
            return False
        try:
            await self._become_writer()
        except Exception:
            log.exception("could not take over office %s; another worker will try", self.office_id)
            if self._store is not None:
                self._store.close()
                self._store = None
            self._lock.release()
            self._lock = None
            return False
        return True

    async def _become_writer(self) -> None:
        assert self.db_path is not None
        await self.replica.stop_following()  # from now on the channel is fed by this worker's writer
        self._store = Store(self.db_path)
        writer = OfficeService(self.config, self._store, self.hub, self.clock, self.office_id)
        writer.publisher = StreamPublisher(self.broker, self.office_id, writer.channel, writer.picture)
        await writer.start()
        self.service = writer
        log.info("this worker now applies the commands of office %s", self.office_id)
        for listener in self.on_writer:
            listener(writer)
