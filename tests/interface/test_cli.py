"""The command line and the TOML config: defaults, environment, bad configs, limits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.interface.helpers import OfficeFactory, assert_error
from tests.support.server import (
    HOST,
    SMALL_OFFICE_TOML,
    ServerFactory,
    free_port,
    office_toml,
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
