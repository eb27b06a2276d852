"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so `tests.support` imports without installing anything
    sys.path.insert(0, str(ROOT))

from tests.support.server import (  # noqa: E402
    ROLE_ACCOUNTS,
    SMALL_OFFICE_TOML,
    ServerFactory,
    ServerProcess,
    make_accounts_db,
    reap_stopping,
)

# `make test` (so CI) runs the examples a fixed seed gives, so that a red run can be run again
# as it was; a plain `pytest` explores new examples each time (and keeps what failed in .hypothesis).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session", autouse=True)
def _reap_servers() -> Iterator[None]:
    """At the end of the session, wait for the servers that fixtures stopped without waiting."""
    yield
    reap_stopping()


@pytest.fixture(scope="session")
def accounts_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file holding the petugas/kepala/pintu accounts, made once per session."""
    return make_accounts_db(tmp_path_factory.mktemp("accounts") / "queue.db")


@pytest.fixture
def server(tmp_path: Path, accounts_db: Path) -> Iterator[ServerProcess]:
    """A started server for the small test office (accounts of `accounts_db` included).

    At teardown it is sent SIGTERM; the exit is awaited at the end of the session.
    """
    proc = ServerProcess(tmp_path / "server")
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    yield proc
    proc.stop_soon()


@pytest.fixture
def server_factory(tmp_path: Path, accounts_db: Path) -> Iterator[ServerFactory]:
    """Make servers: `server_factory(config_text, start=True, port=None, extra_env=None)`.

    Each one's database starts with the role accounts of `accounts_db`.
    """
    made: list[ServerProcess] = []

    def make(
        config_text: str = SMALL_OFFICE_TOML,
        *,
        start: bool = True,
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> ServerProcess:
        workdir = tmp_path / f"server-{len(made)}"
        proc = ServerProcess(workdir, config_text, port=port, extra_env=extra_env)
        proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
        made.append(proc)
        if start:
            proc.start()
        return proc

    yield make
    for proc in made:
        proc.stop_soon()
