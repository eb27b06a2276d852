"""Deployments around the workers (api-scale.md): many offices on workers stay isolated, an
edge worker (no database) serves the same office through the broker, and `--workers` above 1
without a broker is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.scale.conftest import ROOMY_OFFICE, ClusterFactory
from tests.support.cluster import API, Watcher, eventually, open_socket_on, watching
from tests.support.server import free_port, server_env

pytestmark = pytest.mark.scale

OFFICES = {
    "kandangan": ROOMY_OFFICE,
    "daha": ROOMY_OFFICE.replace('name = "Kantor Uji"', 'name = "Kantor Daha"'),
}


def test_offices_stay_isolated_on_workers(cluster_factory: ClusterFactory) -> None:
    """Two offices (--config-dir) on two workers: a staff token of one answers 401 at the other,
    a ticket token of one is unknown there (404, phone socket closed 4404), the events of one
    never reach the other's display sockets on any worker, and their figures stay apart."""
    cluster = cluster_factory(workers=2, offices=OFFICES)
    pids = list(cluster.pinned())
    home, away = "/o/kandangan", "/o/daha"
    officer = cluster.officer("kandangan")
    with (
        watching(cluster, f"{home}/ws/display", list(pids)) as homes,
        watching(cluster, f"{away}/ws/display", list(pids)) as aways,
    ):
        tickets = [
            cluster.on(pids[i % 2]).post(f"{home}{API}/tickets", json={"service": "a"}) for i in range(3)
        ]
        assert [t.status_code for t in tickets] == [201] * 3
        theirs = cluster.on(pids[1]).post(f"{away}{API}/tickets", json={"service": "b"})
        assert theirs.status_code == 201 and theirs.json()["number"] == "B001"
        for pid in pids:
            client = cluster.on(pid)
            assert client.get(f"{home}{API}/me", headers=officer).status_code == 200
            assert client.get(f"{away}{API}/me", headers=officer).status_code == 401
            refused = client.post(f"{away}{API}/counters/1/call-next", headers=officer)
            assert refused.status_code == 401, refused.text
            token = tickets[0].json()["token"]
            unknown = client.get(f"{away}{API}/tickets/{token}")
            assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_ticket"
            assert client.get(f"{home}{API}/tickets/{token}").status_code == 200
        _, phone = open_socket_on(cluster.ws_url, f"{away}/ws/tickets/{tickets[0].json()['token']}", pids[0])
        with pytest.raises(ConnectionClosed):
            phone.recv(timeout=5)
        assert phone.close_code == 4404
        called = cluster.on(pids[0]).post(f"{home}{API}/counters/1/call-next", headers=officer)
        assert called.status_code == 200 and called.json()["number"] == "A001"
        for watcher in homes:
            watcher.wait_for_seq(7)  # 3 x (issued + occupancy) + called
        for watcher in aways:
            watcher.wait_for_seq(2)
        for watcher in homes:
            assert [e["seq"] for e in watcher.events()] == list(range(1, 8)) and watcher.gaps() == []
        for watcher in aways:
            events = watcher.events()
            assert [e["seq"] for e in events] == [1, 2], events
            assert events[0]["type"] == "ticket.issued" and events[0]["ticket"]["number"] == "B001"
    for pid in pids:
        client = cluster.on(pid)
        listed = eventually(
            lambda c=client: (
                (o := {x["id"]: x for x in c.get(f"{API}/offices").json()})["kandangan"]["waiting"] == 2 and o
            ),
            2,
            f"worker {pid} lists the offices' figures",
        )
        assert listed["daha"]["waiting"] == 1 and listed["daha"]["name"] == "Kantor Daha"
        assert client.get(f"{home}{API}/state").json()["waiting"] == {"a": 2, "b": 0}
        assert client.get(f"{away}{API}/state").json()["waiting"] == {"a": 0, "b": 1}
        assert client.get(f"{away}{API}/occupancy").json()["inside"] == 1


def test_an_edge_worker_serves_the_office_through_the_broker(cluster_factory: ClusterFactory) -> None:
    """`serve --edge --broker ...` on another port with the same config (no database): it serves
    the state and sockets, and forwards commands; a ticket issued through the edge appears on the
    main deployment, one issued on the main deployment reaches the edge's sockets and readers."""
    main = cluster_factory(workers=2)
    edge = cluster_factory(workers=1, edge=True, config_from=main)
    with edge.client() as client:
        health = client.get("/healthz").json()
    assert health["writer_for"] == [] and health["broker"] == "ok"
    assert main.writer_pid() != health["pid"]
    watcher = Watcher(edge, "/ws/display")
    try:
        with edge.client() as client:
            at_edge = client.post(f"{API}/tickets", json={"service": "a"})
        assert at_edge.status_code == 201, at_edge.text
        with main.client() as client:
            mine = client.get(f"{API}/tickets/{at_edge.json()['token']}")
            assert mine.status_code == 200 and mine.json()["number"] == "A001"
            at_main = client.post(f"{API}/tickets", json={"service": "a"})
            assert at_main.status_code == 201 and at_main.json()["number"] == "A002"
        watcher.wait_for_seq(4)
        with edge.client() as client:
            seen = eventually(
                lambda: (
                    (a := client.get(f"{API}/tickets/{at_main.json()['token']}")).status_code == 200 and a
                ),
                2,
                "the main deployment's ticket at the edge",
            )
            assert seen.json()["number"] == "A002"
            called = client.post(f"{API}/counters/1/call-next", headers=edge.officer())
            assert called.status_code == 200 and called.json()["number"] == "A001"
        watcher.wait_for_seq(5)
        assert [e["type"] for e in watcher.events()] == [
            "ticket.issued", "occupancy.changed", "ticket.issued", "occupancy.changed", "ticket.called",
        ]  # fmt: skip
        assert watcher.gaps() == []
        for client in main.pinned().values():
            state = eventually(
                lambda c=client: (s := c.get(f"{API}/state").json())["seq"] == 5 and s, 2, "the call on main"
            )
            with edge.client() as at_edge_client:
                assert at_edge_client.get(f"{API}/state").json() == state
    finally:
        watcher.close()


@pytest.mark.parametrize("how", [["--workers", "2"], ["--edge"]])
def test_workers_without_a_broker_stop_with_one_line(tmp_path: Path, how: list[str]) -> None:
    """`serve --workers 2` (or `--edge`) with no broker (no --broker, no QUEUE_BROKER, no
    [broker] url) stops at once with a one-line reason and exit code 2, listening on nothing."""
    config = tmp_path / "office.toml"
    config.write_text(ROOMY_OFFICE, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in server_env().items() if k not in ("QUEUE_BROKER", "QUEUE_WORKERS")}
    done = subprocess.run(
        [sys.executable, "-m", "queue_server", "serve", "--config", str(config),
         "--db", str(tmp_path / "q.db"), "--port", str(port), *how],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "broker" in lines[0], done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "q.db").exists(), "nothing may start"
