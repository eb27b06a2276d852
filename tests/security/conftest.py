"""Fixtures of the security tests: one server per module, seeded with the role accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ROLE_ACCOUNTS, ServerProcess, office_toml


def start_seeded(workdir: Path, accounts_db: Path, config_text: str | None = None) -> ServerProcess:
    """A started server whose database already holds petugas/kepala/pintu (hashing is slow)."""
    proc = ServerProcess(workdir, config_text or office_toml())
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    return proc


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[ServerProcess]:
    """One small-office server shared by the tests of a module (no ticket limit)."""
    proc = start_seeded(tmp_path_factory.mktemp("security-server"), accounts_db)
    yield proc
    proc.stop()
