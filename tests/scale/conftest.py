"""Fixtures of the scale-out tests: a real redis-server per test, deployments of worker processes.

Every test here is marked `scale` (`pytest -m scale`, or `-m "not scale"` to leave them out).
Without Debian's redis-server, those that need it are skipped with the reason (CI installs it:
scripts/ensure_redis.sh, called by `make test`).
"""

from __future__ import annotations

import faulthandler
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import REDIS_SERVER, Cluster, RedisServer
from tests.support.server import ROLE_ACCOUNTS, office_toml, run_cli

#: Services a, b; counters 1-6; room for every ticket the tests issue (none waits outside).
ROOMY_OFFICE = office_toml(capacity=5000)

ClusterFactory = Callable[..., Cluster]


@pytest.fixture(autouse=True)
def _stacks_if_stuck() -> Iterator[None]:
    """A test stuck for 3 minutes prints every thread's stack (it is not stopped: read the log)."""
    faulthandler.dump_traceback_later(180, exit=False)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def officer_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding only the officer `petugas` (hashing a password takes a second)."""
    db = tmp_path_factory.mktemp("officer") / "queue.db"
    name, password = ROLE_ACCOUNTS["officer"]
    done = run_cli(
        "user", "add", name, "--role", "officer", "--password-stdin", "--db", str(db),
        cwd=db.parent, input_text=password + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return db


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port, no persistence."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip(f"{REDIS_SERVER} not found: apt-get install redis-server (scripts/ensure_redis.sh)")
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster_factory(tmp_path: Path, officer_db: Path, redis_server: RedisServer) -> Iterator[ClusterFactory]:
    """Make and start deployments on the test's Redis: `cluster_factory(workers=3, ...)`.

    Keywords go to `Cluster` (config_text, offices, edge, config_from); each office's database
    starts with the officer of `officer_db`. All are stopped at teardown.
    """
    made: list[Cluster] = []

    def make(**kwargs: Any) -> Cluster:
        if "offices" not in kwargs and "config_from" not in kwargs:
            kwargs.setdefault("config_text", ROOMY_OFFICE)
        kwargs.setdefault("accounts_db", officer_db)
        kwargs.setdefault("broker_url", redis_server.url)
        cluster = Cluster(tmp_path / f"cluster-{len(made)}", **kwargs)
        made.append(cluster)
        cluster.start()
        return cluster

    yield make
    for cluster in reversed(made):
        cluster.stop()


@pytest.fixture
def cluster(cluster_factory: ClusterFactory) -> Cluster:
    """Three workers serving one roomy office (`--config`) on the test's Redis."""
    return cluster_factory(workers=3)


@pytest.fixture
def pair(cluster_factory: ClusterFactory) -> Cluster:
    """Two workers serving one roomy office (`--config`) on the test's Redis: one writer, one replica."""
    return cluster_factory(workers=2)
