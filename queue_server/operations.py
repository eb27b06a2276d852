"""`queue-server backup`, `config export`, `config import` and the start-up check of the TOML file
against the configuration the database holds."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from queue_server.config import ConfigError, OfficeConfig, parse_config
from queue_server.store import settings
from queue_server.store.db import Database, transaction
from queue_server.store.migrations import migrate

APPLY_HINT = "queue-server config import --config {config} --db {db}"


def toml_check(config: OfficeConfig, config_path: Path, db_path: Path) -> str | None:
    """One line when the TOML file no longer matches the database (which `serve` keeps), else None."""
    if not db_path.exists():
        return None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        stored = settings.load(conn)
    except sqlite3.OperationalError:  # no settings table yet: the first start seeds it
        return None
    finally:
        conn.close()
    if stored is None:
        return None
    parts = settings.differs(config, stored)
    if not parts:
        return None
    hint = APPLY_HINT.format(config=config_path, db=db_path)
    return (
        f"queue-server: {config_path} no longer matches the database ({', '.join(parts)}); "
        f"serving the database's configuration (to apply the file instead, stop the server and run: {hint})"
    )


def backup(db_path: Path, target: Path) -> int:
    """Copy the database with SQLite's online backup: safe while the server writes."""
    if not db_path.exists():
        print(f"queue-server: no database at {db_path}", file=sys.stderr)
        return 2
    if target.exists():
        print(f"queue-server: {target} already exists; choose a new file", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(db_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        # One step copies every page under one read snapshot: the copy is one consistent moment
        # (every commit before it, none half-done), while the server keeps committing in WAL mode.
        source.backup(copy, pages=-1)
    finally:
        copy.close()
        source.close()
    print(f"database copied to {target}")
    return 0


def export(db_path: Path) -> int:
    if not db_path.exists():
        print(f"queue-server: no database at {db_path}", file=sys.stderr)
        return 2
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        stored = settings.load(conn)
    except sqlite3.OperationalError:
        stored = None
    finally:
        conn.close()
    if stored is None:
        print(f"queue-server: {db_path} holds no configuration yet (start the server once)", file=sys.stderr)
        return 2
    sys.stdout.write(settings.to_toml(settings.from_data(stored)))
    return 0


def import_config(config_path: Path, db_path: Path) -> int:
    """Replace the database's configuration with the TOML file's (the server must be stopped)."""
    from queue_server.store import lock as db_lock

    try:
        config = parse_config(config_path.read_text(encoding="utf-8"), source=str(config_path))
    except (OSError, ConfigError) as error:
        print(f"queue-server: bad config: {error}", file=sys.stderr)
        return 2
    try:
        lock = db_lock.acquire(db_path)
    except db_lock.DatabaseInUse as error:
        print(f"queue-server: {error}", file=sys.stderr)
        return 1
    db = Database(db_path)
    try:
        migrate(db.writer)
        data = settings.as_data(config)

        def write(conn: sqlite3.Connection) -> None:
            settings.save(conn, data, "import")
            # The file's capacity too: the live capacity is kept in the office row.
            conn.execute(
                "UPDATE office_state SET capacity = ?, config_capacity = ?",
                (config.capacity, config.capacity),
            )

        transaction(db.writer, write)
    finally:
        db.close()
        lock.release()
    print(f"configuration of {config_path} imported into {db_path}; start the server to serve it")
    return 0


def notify_secret(db_path: Path) -> int:
    """Print the key the gateway verifies `X-Antre-Signature` with: the TOML's `[notify] secret`
    as the database holds it, else the one generated and kept in the database (made now if new)."""
    from queue_server.store import bookings

    if not db_path.exists():
        print(f"queue-server: no database at {db_path}", file=sys.stderr)
        return 2
    db = Database(db_path)
    try:
        migrate(db.writer)
        stored = settings.load(db.writer) or {}
        given = str(stored.get("notify", {}).get("secret", ""))
        # The same row the server reads at start (INSERT OR IGNORE: a running server's key stands).
        print(given or transaction(db.writer, lambda conn: bookings.secret(conn, "notify_hmac")))
    finally:
        db.close()
    return 0
