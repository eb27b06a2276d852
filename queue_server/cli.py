"""The `queue-server` command. The only place that configures logging."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from queue_server import __version__
from queue_server.config import EXAMPLE_CONFIG, ConfigError, OfficeConfig, load_config
from queue_server.engine import accounts as auth

if TYPE_CHECKING:
    import uvicorn

DEFAULT_DB = Path("data/queue.db")
DEFAULT_DATA_DIR = Path("data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Windows has SIGINT and SIGTERM too (signal.signal accepts them) and sends SIGBREAK on
# Ctrl+Break or when its console closes; add_signal_handler, which it lacks, is not used.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGBREAK,) if hasattr(signal, "SIGBREAK") else ()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="queue-server", description="Antre queue server")
    parser.add_argument("--version", action="version", version=f"queue-server (Antre) {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--config", type=Path, default=_env_path("QUEUE_CONFIG"))
    serve.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))
    serve.add_argument(
        "--config-dir", type=Path, default=_env_path("QUEUE_CONFIG_DIR"), help="a folder of <office>.toml"
    )
    serve.add_argument(
        "--data-dir", type=Path, default=_env_path("QUEUE_DATA_DIR"), help="where <office>.db live (./data)"
    )
    serve.add_argument("--host", default=os.environ.get("QUEUE_HOST", DEFAULT_HOST))
    serve.add_argument("--port", type=int, default=_env_port())
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--ssl-certfile", type=Path, help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", type=Path, help="the certificate's private key (PEM)")
    serve.add_argument(
        "--broker", default=os.environ.get("QUEUE_BROKER"), help="redis://HOST:PORT/N, shared by the workers"
    )
    serve.add_argument(
        "--workers", type=int, default=_env_int("QUEUE_WORKERS", 1), help="worker processes on one port"
    )
    serve.add_argument("--edge", action="store_true", help="a worker with no database (needs --broker)")

    user = commands.add_parser("user", help="manage accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="create or update an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=auth.ROLES)
    add.add_argument("--password-stdin", action="store_true", required=True)
    add.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))
    add.add_argument("--office", help="the office of a --config-dir deployment")
    add.add_argument("--data-dir", type=Path, default=_env_path("QUEUE_DATA_DIR"))

    kiosk = commands.add_parser("kiosk", help="manage paired kiosks")
    kiosk_commands = kiosk.add_subparsers(dest="kiosk_command", required=True)
    pair = kiosk_commands.add_parser("pair", help="pair a kiosk: prints its one-time pairing link")
    pair.add_argument("name")
    pair.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))
    pair.add_argument("--office", help="the office of a --config-dir deployment")
    pair.add_argument("--data-dir", type=Path, default=_env_path("QUEUE_DATA_DIR"))
    pair.add_argument("--url", default="http://127.0.0.1:8000", help="the server's address as kiosks see it")

    init = commands.add_parser(
        "init", help="set up a new office in FOLDER: config/office.toml, data/queue.db, the first admin"
    )
    init.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="FOLDER")
    init.add_argument("--lang", choices=["id", "en"], default="id", help="language of the questions")
    init.add_argument("--name", help="the office's name")
    init.add_argument("--timezone", help="WIB, WITA, WIT (or a zone name such as Asia/Makassar)")
    init.add_argument("--capacity", type=int, help="people allowed inside at once")
    init.add_argument("--admin", metavar="NAME", help="the first admin's account name")
    init.add_argument("--password-stdin", action="store_true", help="read the admin's password from stdin")
    init.add_argument("--force", action="store_true", help="replace an existing config and database")

    backup = commands.add_parser("backup", help="copy the database while the server runs (online backup)")
    backup.add_argument("path", type=Path, metavar="PATH")
    backup.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))

    config_cmd = commands.add_parser("config", help="the configuration the database holds")
    config_commands = config_cmd.add_subparsers(dest="config_command", required=True)
    export = config_commands.add_parser("export", help="print the live configuration as TOML")
    export.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))
    import_ = config_commands.add_parser(
        "import", help="replace the database's configuration with a TOML file"
    )
    import_.add_argument("--config", type=Path, default=_env_path("QUEUE_CONFIG"))
    import_.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))

    notify_cmd = commands.add_parser("notify", help="messages to visitors' phones ([notify])")
    notify_commands = notify_cmd.add_subparsers(dest="notify_command", required=True)
    notify_secret = notify_commands.add_parser("secret", help="print the key that signs the messages")
    notify_secret.add_argument("--db", type=Path, default=_env_path("QUEUE_DB"))

    args = parser.parse_args(argv)
    if args.command in ("backup", "config", "notify"):
        return _operations(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "kiosk":
        return _kiosk_pair(args)
    if args.command == "init":
        return _init(args)
    return _user_add(args)


def _init(args: argparse.Namespace) -> int:
    from queue_server.office_init import run_init

    return run_init(
        args.folder,
        lang=args.lang,
        name=args.name,
        timezone=args.timezone,
        capacity=args.capacity,
        admin=args.admin,
        password_stdin=args.password_stdin,
        force=args.force,
    )


def _operations(args: argparse.Namespace) -> int:
    from queue_server import operations

    db_path: Path = args.db or DEFAULT_DB
    if args.command == "backup":
        return operations.backup(db_path, args.path)
    if args.command == "notify":
        return operations.notify_secret(db_path)
    if args.config_command == "export":
        return operations.export(db_path)
    return operations.import_config(resolve_config_path(args.config), db_path)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        print(f"queue-server: {name} must be a number, got {value!r}", file=sys.stderr)
        raise SystemExit(2) from None


def _env_port() -> int:
    value = os.environ.get("QUEUE_PORT")
    if not value:
        return DEFAULT_PORT
    try:
        return int(value)
    except ValueError:
        print(f"queue-server: QUEUE_PORT must be a number, got {value!r}", file=sys.stderr)
        raise SystemExit(2) from None


def resolve_config_path(given: Path | None) -> Path:
    if given is not None:
        return given
    local = Path("config/office.toml")
    return local if local.exists() else EXAMPLE_CONFIG


class RedactSecrets(logging.Filter):
    """Ticket and kiosk tokens sit in URLs (/t/..., /ws/tickets/...); they never reach a log."""

    PATTERNS = (
        (re.compile(r"(/(?:ws/tickets|t|api/v1/tickets)/)[A-Za-z0-9_\-]{16,}"), r"\1<token>"),
        (re.compile(r"(token=)[A-Za-z0-9_\-]{16,}"), r"\1<token>"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for pattern, replacement in self.PATTERNS:
            redacted = pattern.sub(replacement, redacted)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
    # httpx logs every request's URL at INFO; a gateway URL may carry its API key ([notify]).
    # engine/notify.py logs each message's outcome by id instead.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _account_db(args: argparse.Namespace) -> Path:
    """The database an account or kiosk command writes: --db, or --office's in --data-dir."""
    if args.office:
        from queue_server.offices_dir import office_db

        return office_db(args.data_dir or DEFAULT_DATA_DIR, args.office)
    path: Path = args.db or DEFAULT_DB
    return path


def _serve(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    if args.config_dir is not None:
        return _serve_regency(args)
    config_path = resolve_config_path(args.config)
    try:
        config = load_config(config_path)
    except ConfigError as error:
        print(f"queue-server: bad config: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a case the checks missed still gets one line, not a traceback
        print(f"queue-server: bad config {config_path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"queue-server: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return 2
    db_path: Path = args.db or DEFAULT_DB
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        print("queue-server: --ssl-certfile and --ssl-keyfile go together", file=sys.stderr)
        return 2
    broker = _broker_of(args, [config])
    if broker is not None or args.workers != 1 or args.edge:
        return _serve_workers(args, broker, {"default": config}, {"default": db_path}, single=True)

    from queue_server.store import lock as db_lock
    from queue_server.web import assets

    problems = assets.missing_assets()
    if problems:
        print(f"queue-server: {assets.describe(problems)}", file=sys.stderr)
        return 2
    try:
        # Held for the life of the process; the app's lifespan takes it again (counted).
        db_lock.acquire(db_path)
    except db_lock.DatabaseInUse as error:
        print(f"queue-server: {error}", file=sys.stderr)
        return 1

    from queue_server.operations import toml_check
    from queue_server.web.app import create_app

    mismatch = toml_check(config, config_path, db_path)
    if mismatch:
        print(mismatch, flush=True)

    app = create_app(config, db_path)
    _print_urls(config, config_path, db_path, args.host, args.port, _scheme(args))
    return _run(app, args)


def _scheme(args: argparse.Namespace) -> str:
    return "https" if args.ssl_certfile else "http"


def _serve_regency(args: argparse.Namespace) -> int:
    """Every office of --config-dir under /o/<id>, each with its own database in --data-dir."""
    from queue_server.offices_dir import OfficesError, load_offices, office_db
    from queue_server.store import lock as db_lock
    from queue_server.web import assets

    try:
        offices = load_offices(args.config_dir)
    except OfficesError as error:
        print(f"queue-server: bad config: {error}", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536 or (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        print(
            "queue-server: --port must be 1-65535; --ssl-certfile and --ssl-keyfile go together",
            file=sys.stderr,
        )
        return 2
    problems = assets.missing_assets()
    if problems:
        print(f"queue-server: {assets.describe(problems)}", file=sys.stderr)
        return 2
    data_dir: Path = args.data_dir or DEFAULT_DATA_DIR
    broker = _broker_of(args, list(offices.values()))
    if broker is not None or args.workers != 1 or args.edge:
        databases = {office_id: office_db(data_dir, office_id) for office_id in offices}
        return _serve_workers(args, broker, offices, databases, single=False)
    try:
        for office_id in offices:  # held for the life of the process, as for one office
            db_lock.acquire(office_db(data_dir, office_id))
    except db_lock.DatabaseInUse as error:
        print(f"queue-server: {error}", file=sys.stderr)
        return 1

    from queue_server.web.regency import create_regency_app

    app = create_regency_app(offices, data_dir)
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"{_scheme(args)}://{shown}:{args.port}"
    lines = [
        f"Antre {__version__} - {len(offices)} offices from {args.config_dir}",
        f"  regency: {base}/offices",
    ]
    lines += [f"  {config.name}: {base}/o/{office_id}/" for office_id, config in offices.items()]
    print("\n".join(lines), flush=True)
    return _run(app, args)


def _broker_of(args: argparse.Namespace, configs: list[OfficeConfig]) -> str | None:
    """--broker (or QUEUE_BROKER), else the config's [broker] url."""
    if args.broker:
        return str(args.broker)
    return next((c.broker_url for c in configs if c.broker_url), None)


def _serve_workers(
    args: argparse.Namespace,
    broker: str | None,
    offices: dict[str, OfficeConfig],
    databases: dict[str, Path],
    single: bool,
) -> int:
    """Several workers on one port, sharing the offices through the broker (api-scale.md)."""
    if broker is None:
        what = "--edge" if args.edge else f"--workers {args.workers}"
        print(f"queue-server: {what} needs a broker: --broker redis://HOST:PORT/N", file=sys.stderr)
        return 2
    if not broker.startswith(("redis://", "rediss://", "unix://")):
        print(f"queue-server: --broker must be a redis:// URL, got {broker!r}", file=sys.stderr)
        return 2
    if not 1 <= args.workers <= 64:
        print("queue-server: --workers must be between 1 and 64", file=sys.stderr)
        return 2
    from queue_server.supervisor import WorkerSpec, supervise

    spec = WorkerSpec(
        offices=offices,
        databases=None if args.edge else databases,
        broker_url=broker,
        single=single,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"{_scheme(args)}://{shown}:{args.port}"
    kind = "edge workers" if args.edge else "workers"
    lines = [f"Antre {__version__} - {args.workers} {kind} on {base}, broker {_redacted(broker)}"]
    if single:
        lines.append(f"  screens: {base}/")
    else:
        lines.append(f"  regency: {base}/offices")
        lines += [f"  {config.name}: {base}/o/{office_id}/" for office_id, config in offices.items()]
    print("\n".join(lines), flush=True)
    return supervise(spec, args.workers)


def _redacted(url: str) -> str:
    """A broker URL may carry a password; the printed line does not."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def _run(app: Any, args: argparse.Namespace) -> int:
    server_config = uvicorn_config(
        app,
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
    )
    # The default thresholds make the collector walk the whole heap (every ticket of the
    # day) many times a minute: pauses of ~100 ms that every screen and kiosk would feel.
    # Almost nothing here forms reference cycles, so collect rarely; refcounting frees the rest.
    gc.set_threshold(20_000, 50, 1000)
    server = server_class()(server_config)
    server.run()
    return 0 if server.started else 1


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    access_log: bool = False,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
) -> uvicorn.Config:
    """How the server runs the app: our protocol classes, no compression, a quick shutdown."""
    import uvicorn

    from queue_server.web.fastpath import HttpProtocol, WebSocketProtocol

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # uvloop where it is installed (uvicorn[standard] has no uvloop on Windows),
        # else the standard asyncio loop: the server needs nothing of uvloop's own.
        loop="auto",
        http=HttpProtocol,
        ws=WebSocketProtocol,
        ws_per_message_deflate=False,
        lifespan="on",
        access_log=access_log,
        log_config=None,
        timeout_graceful_shutdown=10,
        backlog=4096,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
    )


def server_class() -> type:
    import uvicorn

    class QuietExitServer(uvicorn.Server):
        """Stops gracefully on SIGTERM/SIGINT and then exits 0.

        uvicorn re-raises the caught signal after its graceful shutdown, which turns a
        clean stop into exit status -15 or a KeyboardInterrupt traceback.
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return QuietExitServer


def _print_urls(
    config: OfficeConfig, config_path: Path, db_path: Path, host: str, port: int, scheme: str
) -> None:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"{scheme}://{shown}:{port}"
    lines = [
        f"Antre {__version__} - {config.name}",
        f"  config:   {config_path}",
        f"  database: {db_path}",
        f"  kiosk:            {base}/kiosk",
        f"  lobby display:    {base}/display",
        f"  entrance display: {base}/entrance",
        f"  door:             {base}/door",
    ]
    lines += [f"  counter {c.name}: {base}/counter/{c.id}" for c in config.counters]
    lines += [f"  phone ticket:     {base}/t/<token>", f"  API:              {base}/api/v1/state"]
    print("\n".join(lines), flush=True)


def _user_add(args: argparse.Namespace) -> int:
    from queue_server.store.accounts import upsert_user
    from queue_server.store.db import Database
    from queue_server.store.migrations import migrate

    name: str = args.name
    if not name or len(name) > auth.USERNAME_MAX or not name.isprintable() or name.strip() != name:
        print("queue-server: user name must be 1-64 printable characters", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("queue-server: no password on standard input", file=sys.stderr)
        return 2
    if len(password) > auth.PASSWORD_MAX:
        print("queue-server: password too long", file=sys.stderr)
        return 2
    try:
        db = Database(_account_db(args))
    except ValueError as error:
        print(f"queue-server: {error}", file=sys.stderr)
        return 2
    try:
        migrate(db.writer)
        upsert_user(db.writer, name, args.role, auth.hash_password(password), datetime.now().isoformat())
    finally:
        db.close()
    print(f"user {name} saved with role {args.role}")
    return 0


def _kiosk_pair(args: argparse.Namespace) -> int:
    from queue_server.store.accounts import pair_kiosk
    from queue_server.store.db import Database
    from queue_server.store.migrations import migrate

    name: str = args.name
    if not name or len(name) > 64 or not name.isprintable():
        print("queue-server: kiosk name must be 1-64 printable characters", file=sys.stderr)
        return 2
    token = auth.new_token()
    try:
        db = Database(_account_db(args))
    except ValueError as error:
        print(f"queue-server: {error}", file=sys.stderr)
        return 2
    try:
        migrate(db.writer)
        pair_kiosk(db.writer, name, auth.token_hash(token), datetime.now().isoformat(), "cli")
    finally:
        db.close()
    print(f"kiosk {name} paired; open this link once on the kiosk's browser:")
    print(f"{args.url.rstrip('/')}/kiosk/pair?token={token}")
    return 0
