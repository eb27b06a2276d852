"""Opening an office's database to serve it: the exclusive lock (one writer per database,
also under `uvicorn --workers N`), then the store; closed in the reverse order."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from queue_server.store import Store
from queue_server.store import lock as db_lock

__all__ = ["DatabaseInUse", "Store", "served_store"]

DatabaseInUse = db_lock.DatabaseInUse


@contextlib.contextmanager
def served_store(path: Path) -> Iterator[Store]:
    """The store of a database this process serves; refuses (DatabaseInUse) one another server holds."""
    lock = db_lock.acquire(path)
    try:
        store = Store(path)
        try:
            yield store
        finally:
            store.close()
    finally:
        lock.release()
