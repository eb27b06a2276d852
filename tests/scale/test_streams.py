"""Every socket on every worker gets its office's events in seq order, with no gap and no repeat,
and `?since=N` resumes on any worker (api-scale.md)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.support.cluster import API, Cluster, Watcher, eventually, watching

pytestmark = pytest.mark.scale

Json = dict[str, Any]


def _current_seq(cluster: Cluster, pid: int) -> int:
    return int(cluster.on(pid).get(f"{API}/state").json()["seq"])


def test_display_and_phone_sockets_on_every_worker_get_every_event_in_order(cluster: Cluster) -> None:
    """A /ws/display socket on each worker sees all ~50 events of issues and calls sent through
    all workers, in seq order with no gap and no repeat, the very same list on every worker;
    a phone socket (/ws/tickets/{token}) on each worker gets its own ticket's call."""
    pids = list(cluster.pinned())
    officer = cluster.officer()
    # Three visitors first, one phone socket each, each on another worker.
    visitors = [cluster.on(pid).post(f"{API}/tickets", json={"service": "a"}).json() for pid in pids]
    start = _current_seq(cluster, cluster.writer_pid())
    phones = [
        Watcher(cluster, f"/ws/tickets/{t['token']}", pid) for t, pid in zip(visitors, pids, strict=True)
    ]
    try:
        with watching(cluster, "/ws/display", list(pids)) as displays:
            assert sorted(d.pid for d in displays) == sorted(pids)
            for watcher in [*displays, *phones]:
                watcher.wait_for_seq(start)  # the first frame, a snapshot, is in
            turns = itertools.cycle(pids)
            for step in range(48):
                client = cluster.on(next(turns))
                if step % 3 == 2:
                    answer = client.post(f"{API}/counters/{step % 4 + 1}/call-next", headers=officer)
                    assert answer.status_code == 200, answer.text
                else:
                    answer = client.post(f"{API}/tickets", json={"service": "ab"[step % 2]})
                    assert answer.status_code == 201, answer.text
            final = _current_seq(cluster, cluster.writer_pid())
            assert final >= start + 48
            for watcher in displays:
                watcher.wait_for_seq(final)
            first = displays[0].events()
            assert [e["seq"] for e in first] == list(range(start + 1, final + 1))
            for watcher in displays:
                assert watcher.gaps() == [], f"worker {watcher.pid}"
                assert watcher.events() == first, f"worker {watcher.pid} saw another list"
                assert watcher.pids == [watcher.pid], "the socket was closed and had to reconnect"
            for visitor, phone in zip(visitors, phones, strict=True):
                calls = eventually(
                    lambda p=phone: [f for f in p.frames if f["type"] == "ticket.called"], 3, "the call"
                )
                assert len(calls) == 1 and calls[0]["ticket"]["id"] == visitor["id"], phone.frames
                assert calls[0]["ticket"]["status"] == "called"
                assert phone.gaps() == []
                assert (
                    phone.frames[0]["type"] == "snapshot" and phone.frames[0]["ticket"]["id"] == visitor["id"]
                )
    finally:
        for phone in phones:
            phone.close()


def test_since_gives_the_same_events_on_every_worker_and_a_socket_resumes_on_another(
    cluster: Cluster,
) -> None:
    """GET /api/v1/events?since=N answers the same events on each worker; a display socket
    closed on one worker and opened again with ?since=N on another gets exactly the events it
    missed (no snapshot, no gap, no repeat), then the live ones."""
    pids = list(cluster.pinned())
    officer = cluster.officer()
    for step in range(12):
        cluster.on(pids[step % 3]).post(f"{API}/tickets", json={"service": "ab"[step % 2]})
    cluster.on(pids[1]).post(f"{API}/counters/1/call-next", headers=officer)
    final = _current_seq(cluster, cluster.writer_pid())
    assert final == 12 * 2 + 1  # an issue is ticket.issued + occupancy.changed

    def events_since(pid: int, since: int) -> Json:
        return dict(cluster.on(pid).get(f"{API}/events", params={"since": since}).json())

    for since in (0, 5, final - 1, final):
        answers = {
            pid: eventually(
                lambda p=pid, s=since: (a := events_since(p, s))["seq"] == final and a, 2, "caught up"
            )
            for pid in pids
        }
        events = answers[pids[0]]["events"]
        assert [e["seq"] for e in events] == list(range(since + 1, final + 1)), answers[pids[0]]
        assert "snapshot" not in answers[pids[0]]
        for pid, answer in answers.items():
            assert answer["events"] == events, f"worker {pid} answers ?since={since} otherwise"

    # A screen on worker 0 sees everything, goes away; 5 issues later it comes back on worker 1.
    first = Watcher(cluster, "/ws/display", pids[0])
    first.wait_for_seq(final)
    first.close()
    seen = first.last_seq
    assert seen == final
    for _ in range(5):
        cluster.on(pids[2]).post(f"{API}/tickets", json={"service": "a"})
    moved = Watcher(cluster, "/ws/display", pids[1], since=seen)
    try:
        moved.wait_for_seq(final + 10)
        cluster.on(pids[0]).post(f"{API}/counters/2/call-next", headers=officer)
        moved.wait_for_seq(final + 11)
        assert [f["type"] for f in moved.frames][:2] == ["ticket.issued", "occupancy.changed"], (
            "resumed with a snapshot"
        )
        assert [f["seq"] for f in moved.frames] == list(range(final + 1, final + 12))
        assert moved.frames[-1]["type"] == "ticket.called"
        missed = events_since(pids[2], seen)["events"]
        assert moved.frames[:10] == missed[:10], "the socket and the polling answer disagree"
    finally:
        moved.close()
