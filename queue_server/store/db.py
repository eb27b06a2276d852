"""Connections: WAL and synchronous=FULL; one writer thread; a pool of readers off the event loop.

Every write (batch commits, accounts, kiosks) runs on the single writer thread
and its own connection, so writes never interleave and an fsync never blocks
the event loop. Reads run on reader threads with their own connections; WAL
lets them read while the writer commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

READERS = 2


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.writer = connect(path)
        self.write_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self.read_executor = ThreadPoolExecutor(max_workers=READERS, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (the reader threads', or the caller's at start-up)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.read_executor, lambda: fn(self.reader()))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(writer connection)` on the writer thread, after every write queued before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.write_executor, lambda: fn(self.writer))

    def close(self) -> None:
        self.write_executor.shutdown(wait=True)
        self.read_executor.shutdown(wait=True)
        self.writer.close()
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


def transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn` inside BEGIN IMMEDIATE ... COMMIT (rolled back on any error)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return result
