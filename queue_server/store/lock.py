"""One server per database: an exclusive lock on `<db>.lock`, beside the database.

Two servers on one SQLite file both start, then fight over the event sequence
(`UNIQUE constraint failed: events.seq`), disagree about who is at which counter
and broadcast only their own calls. So whoever opens the database to serve it
holds an exclusive lock on a lock file next to it, with its pid written inside
so the one refused can say whom it ran into.

The lock is an OS lock (`fcntl.flock` on POSIX, `msvcrt.locking` on Windows),
never the mere presence of the file: the OS drops it when the holder dies, so
after `kill -9` or a power cut the next server starts without anyone deleting
a stale file. The file itself is left in place on release for the same reason
(deleting it would let two processes lock two different files of one name).

Within one process the lock is shared and counted: the CLI takes it before it
builds the app (to print a clean one-line reason) and the app's lifespan takes
it again (so `uvicorn --workers 2` on the app cannot run two writers either).
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

try:  # POSIX
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None  # type: ignore[assignment]

LOCK_SUFFIX = ".lock"
# msvcrt.locking locks a byte range and makes it unreadable to others; locking a
# byte far past the pid keeps the pid readable by the server that is refused.
_WINDOWS_LOCK_OFFSET = 1 << 30


class DatabaseInUse(RuntimeError):
    """Another process serves this database; the message names its pid."""

    def __init__(self, db_path: Path, pid: int | None) -> None:
        self.db_path = db_path
        self.pid = pid
        holder = f"pid {pid}" if pid is not None else "another process"
        super().__init__(
            f"database {db_path} is already served by {holder}; stop that server first or use another --db"
        )


def lock_path(db_path: Path) -> Path:
    """Where the lock of a database lives: `<db>.lock` in the same folder."""
    return db_path.with_name(db_path.name + LOCK_SUFFIX)


@dataclass
class DatabaseLock:
    """A held lock on one database; `release()` once per `acquire()`."""

    db_path: Path
    key: Path
    fd: int
    holders: int = 1
    _released: bool = field(default=False, repr=False)

    def release(self) -> None:
        with _registry_lock:
            self.holders -= 1
            if self.holders > 0 or self._released:
                return
            self._released = True
            _held.pop(self.key, None)
            _unlock(self.fd)
            os.close(self.fd)

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_registry_lock = threading.Lock()
_held: dict[Path, DatabaseLock] = {}


def acquire(db_path: Path) -> DatabaseLock:
    """Lock `db_path` for this process, or raise DatabaseInUse naming the holder's pid.

    Creates the database's folder if needed (as the database itself would).
    """
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(db_path)
    key = path.resolve()
    with _registry_lock:
        held = _held.get(key)
        if held is not None:
            held.holders += 1
            return held
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                raise DatabaseInUse(db_path, _read_pid(fd))
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        except BaseException:
            os.close(fd)
            raise
        lock = DatabaseLock(db_path=db_path, key=key, fd=fd)
        _held[key] = lock
        return lock


def holder_pid(db_path: Path) -> int | None:
    """The pid of the process serving `db_path` now, or None when nobody holds its lock."""
    path = lock_path(Path(db_path))
    if not path.exists():
        return None
    with _registry_lock:
        if path.resolve() in _held:
            return os.getpid()
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return _read_pid(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    if msvcrt is not None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    return True  # neither facility (an exotic platform): run unguarded rather than not at all


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        elif msvcrt is not None:
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 32).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    # Empty while the holder is between locking and writing its pid.
    return int(text) if text.isdigit() else None
