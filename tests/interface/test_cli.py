"""The command line and the TOML config: defaults, environment, bad configs, limits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import queue_server
from queue_server.config import load_config
from queue_server.store import lock as db_lock
from queue_server.store.accounts import user as stored_user
from queue_server.store.db import Database
from queue_server.web import assets
from tests.interface.helpers import OfficeFactory, assert_error
from tests.support.server import (
    HOST,
    REPO_ROOT,
    SMALL_OFFICE_TOML,
    ServerFactory,
    ServerProcess,
    free_port,
    office_toml,
    run_cli,
    server_env,
    wait_for_health,
)


class Spawned:
    """A `queue_server serve` run with arbitrary arguments, environment and folder."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.log = cwd / "spawned.log"
        self._out = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "queue_server", "serve", *args],
            cwd=cwd,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        """What it printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_exit(self, timeout: float = 20.0) -> int:
        """Wait for it to exit by itself; return the code."""
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[type[Spawned]]:
    """Make `Spawned` servers; every one is stopped at teardown."""
    made: list[Spawned] = []

    class Tracked(Spawned):
        def __init__(self, args: list[str], cwd: Path = tmp_path, env: dict[str, str] | None = None) -> None:
            super().__init__(args, cwd, env)
            made.append(self)

    yield Tracked
    for proc in made:
        proc.stop()


BAD_CONFIGS = {
    "unknown office key": (
        SMALL_OFFICE_TOML.replace('language = "id"', 'language = "id"\ncolour = "red"'),
        "colour",
    ),
    "unknown section": (SMALL_OFFICE_TOML + "\n[bogus]\nx = 1\n", "bogus"),
    "capacity zero": (office_toml(capacity=0), "capacity"),
    "capacity text": (SMALL_OFFICE_TOML.replace("capacity = 10", 'capacity = "ten"'), "capacity"),
    "bad timezone": (SMALL_OFFICE_TOML.replace("Asia/Makassar", "Mars/Olympus_Mons"), "timezone"),
    "bad language": (SMALL_OFFICE_TOML.replace('language = "id"', 'language = "fr"'), "language"),
    "lowercase prefix": (SMALL_OFFICE_TOML.replace('prefix = "A"', 'prefix = "a"'), "prefix"),
    "long prefix": (SMALL_OFFICE_TOML.replace('prefix = "A"', 'prefix = "ABC"'), "prefix"),
    "duplicate prefix": (SMALL_OFFICE_TOML.replace('prefix = "B"', 'prefix = "A"'), "prefix"),
    "bad service id": (SMALL_OFFICE_TOML.replace('id = "a"', 'id = "Layanan A"'), "id"),
    "duplicate service id": (SMALL_OFFICE_TOML.replace('id = "b"', 'id = "a"'), "id"),
    "counter of unknown service": (
        SMALL_OFFICE_TOML.replace('services = ["a", "b"]', 'services = ["zz"]'),
        "services",
    ),
    "timezone that is a region": (SMALL_OFFICE_TOML.replace("Asia/Makassar", "Asia"), "timezone"),
    "counter services not names": (
        SMALL_OFFICE_TOML.replace('services = ["a", "b"]', 'services = [["a"]]'),
        "services",
    ),
    "service id with a newline": (SMALL_OFFICE_TOML.replace('id = "a"', 'id = "a\\n"'), "id"),
    "prefix with a newline": (SMALL_OFFICE_TOML.replace('prefix = "A"', 'prefix = "A\\n"'), "prefix"),
    "negative limit": (
        office_toml(limits={"tickets_per_minute_per_address": -1}),
        "tickets_per_minute_per_address",
    ),
    "unknown limit": (office_toml(limits={"tickets_per_hour": 3}), "tickets_per_hour"),
}


@pytest.mark.parametrize(("text", "key"), BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_exits_nonzero_with_one_line_naming_the_key(
    spawn: type[Spawned], tmp_path: Path, text: str, key: str
) -> None:
    """`serve` with a bad config exits non-zero with a one-line reason naming the key, no traceback."""
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    proc = spawn(["--config", str(config), "--db", str(tmp_path / "q.db"), "--port", str(free_port())])
    assert proc.wait_exit() != 0
    output = proc.output()
    assert "Traceback" not in output, output
    assert any(key in line for line in output.splitlines()), output


@pytest.mark.parametrize("text", ["[office\nname = 1", ""], ids=["syntax error", "empty file"])
def test_unreadable_config_exits_nonzero(spawn: type[Spawned], tmp_path: Path, text: str) -> None:
    """A config that is not valid TOML (or lacks everything) stops `serve` without a traceback."""
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    proc = spawn(["--config", str(config), "--db", str(tmp_path / "q.db"), "--port", str(free_port())])
    assert proc.wait_exit() != 0
    assert "Traceback" not in proc.output(), proc.output()


def test_environment_variables_stand_for_the_options(spawn: type[Spawned], tmp_path: Path) -> None:
    """QUEUE_CONFIG, QUEUE_DB, QUEUE_HOST and QUEUE_PORT are used when the options are absent."""
    (tmp_path / "office.toml").write_text(SMALL_OFFICE_TOML, encoding="utf-8")
    port = free_port()
    env = {
        "QUEUE_CONFIG": str(tmp_path / "office.toml"),
        "QUEUE_DB": str(tmp_path / "env-db" / "x.db"),
        "QUEUE_HOST": HOST,
        "QUEUE_PORT": str(port),
    }
    (tmp_path / "env-db").mkdir()
    proc = spawn([], env=env)
    wait_for_health(f"http://{HOST}:{port}", proc.process)
    services = httpx.get(f"http://{HOST}:{port}/api/v1/services").json()
    assert [s["id"] for s in services] == ["a", "b"]
    assert (tmp_path / "env-db" / "x.db").exists()


def test_defaults_use_config_folder_and_create_data_db(spawn: type[Spawned], tmp_path: Path) -> None:
    """Without options, `serve` reads ./config/office.toml and creates ./data/queue.db with its folder."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "office.toml").write_text(SMALL_OFFICE_TOML, encoding="utf-8")
    port = free_port()
    proc = spawn(["--port", str(port)])
    wait_for_health(f"http://{HOST}:{port}", proc.process)
    services = httpx.get(f"http://{HOST}:{port}/api/v1/services").json()
    assert [s["id"] for s in services] == ["a", "b"]
    assert (tmp_path / "data" / "queue.db").exists()


def test_without_config_the_example_office_runs(spawn: type[Spawned], tmp_path: Path) -> None:
    """Without ./config/office.toml, `serve` runs the example office shipped with the package."""
    port = free_port()
    proc = spawn(["--port", str(port)])
    wait_for_health(f"http://{HOST}:{port}", proc.process)
    services = httpx.get(f"http://{HOST}:{port}/api/v1/services").json()
    assert services and all({"id", "name", "prefix", "waiting"} <= set(s) for s in services)
    assert (
        httpx.post(f"http://{HOST}:{port}/api/v1/tickets", json={"service": services[0]["id"]}).status_code
        == 201
    )


def test_serve_prints_the_page_urls(server_factory: ServerFactory) -> None:
    """`serve` prints the URLs of its pages on this host and port."""
    server = server_factory()
    assert f"{server.base_url}/" in server.log_text()


def test_per_address_ticket_limit(office_factory: OfficeFactory) -> None:
    """With tickets_per_minute_per_address = 2, a third anonymous issue within a minute answers 429."""
    office = office_factory(office_toml(limits={"tickets_per_minute_per_address": 2}))
    office.issue_ok("a")
    office.issue_ok("b")
    assert_error(office.issue("a"), 429)
    assert office.waiting() == {"a": 1, "b": 1}


def test_queue_server_script_is_the_same_command(tmp_path: Path) -> None:
    """The `queue-server` console script runs the same CLI (here: `user add`)."""
    script = shutil.which("queue-server", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the package is not installed in this environment (no queue-server script)")
    done = subprocess.run(
        [script, "user", "add", "ani", "--role", "door", "--password-stdin", "--db", str(tmp_path / "q.db")],
        input="ani-password-1\n",
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "q.db").exists()


def test_user_add_without_password_on_stdin_fails(tmp_path: Path) -> None:
    """`user add --password-stdin` with nothing on standard input exits non-zero."""
    done = subprocess.run(
        [sys.executable, "-m", "queue_server", "user", "add", "x", "--role", "admin", "--password-stdin",
         "--db", str(tmp_path / "q.db")],
        input="",
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr


# -- queue-server --version, init, one server per database, the asset check ------------

INIT_ADMIN = ("kepala", "sandi-kepala-init-1")


def init_office(folder: Path, *extra: str, password: str = INIT_ADMIN[1]) -> subprocess.CompletedProcess[str]:
    """`queue_server init FOLDER` with every answer given as an option (as a script would)."""
    return run_cli(
        "init", str(folder), "--name", "Kantor Kecamatan Uji", "--timezone", "WITA", "--capacity", "25",
        "--admin", INIT_ADMIN[0], "--password-stdin", *extra,
        cwd=folder.parent, input_text=password + "\n",
    )  # fmt: skip


def test_version_option_prints_the_package_version(tmp_path: Path) -> None:
    """`queue-server --version` prints the installed package's version and exits 0."""
    done = run_cli("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"queue-server (Antre) {queue_server.__version__}"


def test_init_writes_an_office_that_serves_and_whose_admin_logs_in(
    spawn: type[Spawned], tmp_path: Path
) -> None:
    """init with options writes config and database; serve in that folder runs it; the admin logs in."""
    folder = tmp_path / "kantor"
    done = init_office(folder)
    assert done.returncode == 0, done.stderr
    assert "serve --host 0.0.0.0" in done.stdout and f"cd {folder}" in done.stdout
    config = load_config(folder / "config" / "office.toml")
    assert (config.name, config.timezone, config.capacity) == ("Kantor Kecamatan Uji", "Asia/Makassar", 25)
    assert {"ktp", "kk", "akta", "legal", "izin"} <= {s.id for s in config.services}
    assert all(s.requirements and s.standard_minutes and s.fee for s in config.services)
    port = free_port()
    proc = spawn(["--host", HOST, "--port", str(port)], cwd=folder)  # no --config, no --db: the defaults
    base = f"http://{HOST}:{port}"
    wait_for_health(base, proc.process)
    services = httpx.get(f"{base}/api/v1/services").json()
    assert [s["id"] for s in services] == [s.id for s in config.services]
    login = httpx.post(f"{base}/api/v1/login", json={"username": INIT_ADMIN[0], "password": INIT_ADMIN[1]})
    assert login.status_code == 200, login.text
    capacity = httpx.put(
        f"{base}/api/v1/capacity",
        json={"capacity": 40},
        headers={"Authorization": f"Bearer {login.json()['token']}"},
    )
    assert capacity.status_code == 200, capacity.text  # the account really is an admin


def test_init_refuses_to_overwrite_without_force_and_replaces_with_it(tmp_path: Path) -> None:
    """A second init exits non-zero with one line and changes nothing; with --force it starts afresh."""
    folder = tmp_path / "kantor"
    assert init_office(folder).returncode == 0
    config = folder / "config" / "office.toml"
    db = folder / "data" / "queue.db"
    before = (config.read_bytes(), db.read_bytes())
    again = init_office(folder, "--lang", "en", password="another-password-1")
    assert again.returncode != 0
    assert len(again.stderr.strip().splitlines()) == 1 and "--force" in again.stderr, again.stderr
    assert "already exists" in again.stderr  # --lang en: the reason in English
    assert (config.read_bytes(), db.read_bytes()) == before
    forced = run_cli(
        "init", str(folder), "--force", "--name", "Kantor Baru", "--timezone", "WIT", "--capacity", "9",
        "--admin", "baru", "--password-stdin", cwd=tmp_path, input_text="sandi-baru-1\n",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert load_config(config).name == "Kantor Baru" and load_config(config).timezone == "Asia/Jayapura"
    database = Database(db)
    try:
        conn = database.writer
        assert stored_user(conn, "baru") is not None and stored_user(conn, INIT_ADMIN[0]) is None
    finally:
        database.close()


def test_init_asks_for_what_the_options_leave_out(tmp_path: Path) -> None:
    """Without options init asks in Indonesian and takes the answers (WIB default, capacity) from input."""
    folder = tmp_path / "kantor"
    done = run_cli(
        "init", str(folder), cwd=tmp_path, input_text="Kantor Desa Uji\n\n12\nadmin\nsandi-admin-1\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Nama kantor" in done.stdout and "Zona waktu" in done.stdout
    config = load_config(folder / "config" / "office.toml")
    assert (config.name, config.timezone, config.capacity) == ("Kantor Desa Uji", "Asia/Jakarta", 12)


@pytest.mark.parametrize(
    ("option", "value", "word"),
    [("--timezone", "Mars", "WITA"), ("--capacity", "0", "1-"), ("--name", "  ", "empty")],
)
def test_init_rejects_a_bad_option_with_one_line(tmp_path: Path, option: str, value: str, word: str) -> None:
    """A bad time zone, capacity or name stops init with one line and writes nothing."""
    folder = tmp_path / "kantor"
    args = {"--name": "Kantor", "--timezone": "WIB", "--capacity": "5", option: value}
    done = run_cli(
        "init", str(folder), "--lang", "en", *(x for pair in args.items() for x in pair),
        "--admin", "admin", "--password-stdin", cwd=tmp_path, input_text="sandi-admin-1\n",
    )  # fmt: skip
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and word in done.stderr, done.stderr
    assert not (folder / "config").exists() and not (folder / "data" / "queue.db").exists()


def test_second_server_on_the_same_database_is_refused_until_the_first_dies(
    server: ServerProcess, spawn: type[Spawned]
) -> None:
    """A second serve on the same db exits non-zero naming the first's pid; after SIGKILL one starts."""
    assert server.process is not None
    first_pid = server.process.pid
    second = spawn(
        ["--config", str(server.config_path), "--db", str(server.db_path), "--port", str(free_port())]
    )
    assert second.wait_exit() != 0
    lines = second.output().strip().splitlines()
    assert len(lines) == 1 and f"pid {first_pid}" in lines[0], second.output()
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200  # the first keeps serving
    assert httpx.post(f"{server.base_url}/api/v1/tickets", json={"service": "a"}).status_code == 201

    server.kill()
    port = free_port()
    third = spawn(["--config", str(server.config_path), "--db", str(server.db_path), "--port", str(port)])
    wait_for_health(f"http://{HOST}:{port}", third.process)
    assert httpx.get(f"http://{HOST}:{port}/api/v1/services").status_code == 200


async def test_app_lifespan_refuses_a_database_another_process_serves(server: ServerProcess) -> None:
    """create_app's lifespan takes the lock too, so a second worker (uvicorn --workers) cannot start."""
    from queue_server.web.app import create_app

    app = create_app(load_config(server.config_path), server.db_path)
    with pytest.raises(db_lock.DatabaseInUse, match=f"pid {server.process.pid if server.process else 0}"):
        async with app.router.lifespan_context(app):
            pass


def test_lock_is_shared_within_a_process_and_freed_on_release(tmp_path: Path) -> None:
    """Within one process the lock is counted (CLI + lifespan); after the last release another may take it."""
    db = tmp_path / "data" / "queue.db"
    outer = db_lock.acquire(db)
    inner = db_lock.acquire(db)
    assert inner is outer and db_lock.holder_pid(db) == os.getpid()
    inner.release()
    probe = (
        "from pathlib import Path; from queue_server.store import lock as db_lock; "
        "db_lock.acquire(Path({!r}))"
    )
    held = subprocess.run([sys.executable, "-c", probe.format(str(db))], capture_output=True, text=True,
                          env=server_env(), timeout=30, check=False)  # fmt: skip
    assert held.returncode != 0 and f"pid {os.getpid()}" in held.stderr
    outer.release()
    free = subprocess.run([sys.executable, "-c", probe.format(str(db))], capture_output=True, text=True,
                          env=server_env(), timeout=30, check=False)  # fmt: skip
    assert free.returncode == 0, free.stderr
    assert db_lock.holder_pid(db) is None


def test_serve_refuses_to_start_when_a_screen_file_is_missing(tmp_path: Path) -> None:
    """A package copy missing a template include stops serve with one line naming it, exit non-zero."""
    copy = tmp_path / "queue_server"
    shutil.copytree(REPO_ROOT / "queue_server", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "web" / "templates" / "_lang.html").unlink()
    # `python -m` puts the current folder first on sys.path: the copy is what runs.
    done = subprocess.run(
        [sys.executable, "-m", "queue_server", "serve", "--port", str(free_port())],
        cwd=tmp_path, env=server_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "templates/_lang.html" in lines[0] and str(copy) in lines[0], done.stderr
    assert not (tmp_path / "data").exists()


def test_missing_assets_names_each_kind_of_missing_file(tmp_path: Path) -> None:
    """missing_assets lists a lost template include, catalog, linked static file, clip, and bad JSON."""
    web = tmp_path / "web"
    shutil.copytree(REPO_ROOT / "queue_server" / "web", web)
    assert assets.missing_assets(web) == []
    manifest = json.loads((web / "static" / "audio" / "en" / "manifest.json").read_text(encoding="utf-8"))
    clip = manifest["clips"]["chime"]["file"]
    linked = sorted(set(re.findall(r"static\('([^']+)'\)", (web / "templates" / "base.html").read_text())))[0]
    for path in ("templates/_ticket.html", "messages/en.json", f"static/{linked}", f"static/audio/en/{clip}"):
        (web / path).unlink()
    (web / "static" / "audio" / "id" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert sorted(assets.missing_assets(web)) == sorted(
        [
            "templates/_ticket.html",
            "messages/en.json",
            f"static/{linked}",
            f"static/audio/en/{clip}",
            "static/audio/id/manifest.json (not valid JSON)",
        ]
    )
