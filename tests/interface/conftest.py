"""Fixtures for the interface tests: API clients on fresh or module-shared servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interface.helpers import ROOMY, Office, OfficeFactory
from tests.support.server import ROLE_ACCOUNTS, ServerFactory, ServerProcess, office_toml


@pytest.fixture
def office(server: ServerProcess) -> Iterator[Office]:
    """An API client on a fresh, empty small office."""
    client = Office(server)
    yield client
    client.close()


@pytest.fixture
def office_factory(server_factory: ServerFactory) -> Iterator[OfficeFactory]:
    """Make API clients on fresh servers with a given config text; all closed at teardown."""
    made: list[Office] = []

    def make(config_text: str) -> Office:
        client = Office(server_factory(config_text))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[ServerProcess]:
    """One server per module for tests that need no clean slate: the small office, capacity 1000.

    The large capacity keeps every ticket `waiting` however many earlier tests issued.
    """
    proc = ServerProcess(tmp_path_factory.mktemp("shared-server"), office_toml(capacity=ROOMY))
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    yield proc
    proc.stop_soon()


@pytest.fixture(scope="module")
def shared_office(shared_server: ServerProcess) -> Iterator[Office]:
    """An API client on the module's shared server."""
    client = Office(shared_server)
    yield client
    client.close()
