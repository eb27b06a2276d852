"""Live updates: /api/v1/state, /ws/display (snapshot, events, resume), /ws/tickets/{token}."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.interface.helpers import (
    API,
    OCCUPANCY_FIELDS,
    DisplayFeed,
    Json,
    Office,
    OfficeFactory,
    Watch,
    assert_contiguous,
    assert_office_time,
    assert_ticket_shape,
    close_code,
    display_feed,
    open_ws,
    recv_json,
    recv_n,
)
from tests.support.server import office_toml

EVENT_TYPES = {
    "ticket.issued", "ticket.admitted", "ticket.called", "ticket.recalled", "ticket.serving",
    "ticket.done", "ticket.no_show", "ticket.cancelled", "ticket.transferred",
    "occupancy.changed", "counter.opened", "counter.closed", "config.changed", "day.started",
}  # fmt: skip
COUNTER_FIELDS = {"id", "name", "open", "current", "services", "reason"}


def assert_event_envelope(event: Json) -> None:
    """Every event has a known type, an int seq and an office-time `at`."""
    assert event["type"] in EVENT_TYPES, event
    assert isinstance(event["seq"], int)
    assert_office_time(event["at"])
    if event["type"].startswith("ticket."):
        assert "token" not in event["ticket"], event
        assert_ticket_shape(event["ticket"])
        assert isinstance(event["waiting"], dict) and set(event["waiting"]) == {"a", "b"}, event


def assert_snapshot_shape(snap: Json) -> None:
    """A snapshot has every documented field."""
    for key in ("seq", "day", "office", "services", "counters", "waiting", "occupancy"):
        assert key in snap, f"snapshot lacks {key}"
    for key in ("recent_calls", "recent_admitted"):
        assert isinstance(snap[key], list), f"snapshot lacks list {key}"
    assert isinstance(snap["seq"], int)
    office = snap["office"]
    assert office["name"] == "Kantor Uji"
    assert office["timezone"] == "Asia/Makassar" and office["language"] == "id"
    assert "running_text" in office
    assert [s["id"] for s in snap["services"]] == ["a", "b"]
    for service in snap["services"]:
        assert {"id", "name", "prefix", "waiting"} <= set(service)
    assert [c["id"] for c in snap["counters"]] == ["1", "2", "3", "4", "5", "6"]
    for counter in snap["counters"]:
        assert set(counter) >= COUNTER_FIELDS, counter
    assert set(snap["waiting"]) == {"a", "b"}
    assert set(snap["occupancy"]) >= OCCUPANCY_FIELDS


async def test_display_first_frame_is_snapshot(office: Office) -> None:
    """/ws/display starts with {"type": "snapshot", "seq", ...the state...}."""
    async with open_ws(office.server, "/ws/display") as ws:
        snap = await recv_json(ws)
    assert snap["type"] == "snapshot"
    assert_snapshot_shape(snap)
    assert snap["waiting"] == {"a": 0, "b": 0}
    assert all(c["current"] is None and c["open"] for c in snap["counters"])


async def test_state_matches_display_snapshot(office: Office) -> None:
    """GET /api/v1/state has the same fields and values as the display's snapshot."""
    ticket = office.issue_ok("a")
    office.call_next_ok("2")
    office.issue_ok("b", party_size=2)
    state = office.state()
    assert_snapshot_shape(state)
    async with open_ws(office.server, "/ws/display") as ws:
        snap = await recv_json(ws)
    assert snap.pop("type") == "snapshot"
    state.pop("type", None)
    assert snap == state
    assert state["waiting"] == {"a": 0, "b": 1}
    assert state["occupancy"]["inside"] == 3
    current = {c["id"]: c["current"] for c in state["counters"]}
    assert current["2"]["id"] == ticket["id"] and current["1"] is None
    assert ticket["token"] not in json.dumps(state)


async def test_recent_calls_and_admitted_in_state(office_factory: OfficeFactory) -> None:
    """recent_calls lists calls with number, counter, at, service; recent_admitted lists admissions."""
    office = office_factory(office_toml(capacity=1))
    office.issue_ok("a")
    office.issue_ok("b")  # outside
    office.call_next_ok("1")
    office.step_ok("1", "finish")  # admits B001
    state = office.state()
    calls = state["recent_calls"]
    assert any(c["number"] == "A001" and c["counter"] == "1" and c["service"] == "a" for c in calls), calls
    for call in calls:
        assert_office_time(call["at"])
    admitted = state["recent_admitted"]
    assert any(a["number"] == "B001" for a in admitted), admitted
    for entry in admitted:
        assert_office_time(entry["at"])


async def test_issue_emits_ticket_issued_then_occupancy_changed(office: Office) -> None:
    """An admitted issue is ticket.issued (seq N+1) then occupancy.changed (seq N+2)."""
    async with display_feed(office.server) as feed:
        n = feed.frames[0]["seq"]
        issued = office.issue_ok("a", party_size=2)
        events = await Watch(feed, office).new_events()
    assert [e["type"] for e in events] == ["ticket.issued", "occupancy.changed"]
    assert [e["seq"] for e in events] == [n + 1, n + 2]
    for event in events:
        assert_event_envelope(event)
    assert events[0]["ticket"]["id"] == issued["id"]
    assert events[0]["ticket"]["status"] == "waiting"
    assert events[0]["waiting"] == {"a": 1, "b": 0}
    assert events[1]["occupancy"] == {
        **events[1]["occupancy"], "inside": 2, "capacity": 10, "outside": 0, "outside_people": 0
    }  # fmt: skip


async def test_counter_steps_emit_their_events_in_order(office: Office) -> None:
    """Each counter step emits its documented events, ticket events before one occupancy.changed."""
    async with display_feed(office.server) as feed:
        watch = Watch(feed, office)
        office.issue_ok("a")
        office.issue_ok("a")
        office.issue_ok("a")
        await watch.new_events()

        office.call_next_ok("1")
        [called] = await watch.new_events()  # waiting -> called: inside unchanged
        assert called["type"] == "ticket.called" and called["counter"] == "1"
        assert called["ticket"]["number"] == "A001" and called["waiting"] == {"a": 2, "b": 0}

        office.step_ok("1", "recall")
        [recalled] = await watch.new_events()
        assert recalled["type"] == "ticket.recalled" and recalled["counter"] == "1"

        office.step_ok("1", "serve")
        [serving] = await watch.new_events()
        assert serving["type"] == "ticket.serving" and serving["ticket"]["status"] == "serving"

        office.step_ok("1", "finish")
        done, occ = await watch.new_events()
        assert done["type"] == "ticket.done" and done["counter"] == "1"
        assert occ["type"] == "occupancy.changed" and occ["occupancy"]["inside"] == 2

        office.call_next_ok("1")
        assert await watch.types() == ["ticket.called"]
        office.call_next_ok("1")  # finishes A002, calls A003
        done, called, occ = await watch.new_events()
        assert (done["type"], done["ticket"]["number"]) == ("ticket.done", "A002")
        assert (called["type"], called["ticket"]["number"]) == ("ticket.called", "A003")
        assert occ["type"] == "occupancy.changed"

        office.step_ok("1", "no-show")
        no_show, occ = await watch.new_events()
        assert no_show["type"] == "ticket.no_show" and no_show["counter"] == "1"
        assert occ["occupancy"]["inside"] == 0

        office.issue_ok("a")
        await watch.new_events()
        office.call_next_ok("2")
        await watch.new_events()
        office.counter("2", "transfer", json_body={"service": "b"})
        [moved] = await watch.new_events()
        assert moved["type"] == "ticket.transferred"
        assert moved["from_service"] == "a" and moved["from_counter"] == "2"
        assert moved["ticket"]["service"] == "b" and moved["ticket"]["status"] == "waiting"
        assert moved["waiting"] == {"a": 0, "b": 1}

        office.counter("3", "close", json_body={"reason": "break"})
        [closed] = await watch.new_events()
        assert closed["type"] == "counter.closed"
        assert set(closed["counter"]) >= COUNTER_FIELDS
        assert closed["counter"]["id"] == "3" and closed["counter"]["open"] is False
        assert closed["counter"]["reason"] == "break"
        office.step_ok("3", "open")
        [opened] = await watch.new_events()
        assert opened["type"] == "counter.opened" and opened["counter"]["open"] is True

        for event in feed.events:
            assert_event_envelope(event)
        assert_contiguous(feed.events, feed.frames[0]["seq"] + 1)


async def test_cancel_and_admission_events(office_factory: OfficeFactory) -> None:
    """Cancelling an inside ticket: ticket.cancelled (visitor), ticket.admitted, occupancy.changed."""
    office = office_factory(office_toml(capacity=1))
    async with display_feed(office.server) as feed:
        watch = Watch(feed, office)
        first = office.issue_ok("a")
        assert await watch.types() == ["ticket.issued", "occupancy.changed"]
        second = office.issue_ok("b")
        issued, occ = await watch.new_events()
        assert issued["ticket"]["status"] == "outside"
        assert occ["occupancy"]["outside"] == 1 and occ["occupancy"]["outside_people"] == 1
        office.cancel(first["token"])
        cancelled, admitted, occ = await watch.new_events()
        assert cancelled["type"] == "ticket.cancelled" and cancelled["reason"] == "visitor"
        assert cancelled["ticket"]["id"] == first["id"]
        assert admitted["type"] == "ticket.admitted" and admitted["ticket"]["id"] == second["id"]
        assert admitted["ticket"]["status"] == "waiting"
        assert occ["type"] == "occupancy.changed"
        assert occ["occupancy"] == {**occ["occupancy"], "inside": 1, "outside": 0}


async def test_door_and_capacity_changes_emit_occupancy_changed(office: Office) -> None:
    """Door enter/exit and PUT /capacity each emit occupancy.changed with the new figures."""
    async with display_feed(office.server) as feed:
        watch = Watch(feed, office)
        office.door_count("enter", 2)
        [event] = await watch.new_events()
        assert event["type"] == "occupancy.changed" and event["occupancy"]["inside"] == 2
        office.door_count("exit", 1)
        [event] = await watch.new_events()
        assert event["occupancy"]["inside"] == 1
        office.set_capacity(12)
        [event] = await watch.new_events()
        assert event["type"] == "occupancy.changed" and event["occupancy"]["capacity"] == 12


async def test_refused_command_emits_no_event(office: Office) -> None:
    """A 4xx answer changes nothing, so seq stays the same."""
    before = office.seq()
    office.issue("a", party_size=99)
    office.call_next("1")  # 204: nothing waits, nothing current
    office.counter("1", "recall")
    office.door_count("exit", 1)
    assert office.seq() == before


async def test_events_never_carry_tokens(office: Office) -> None:
    """No event or snapshot frame contains a ticket token."""
    async with display_feed(office.server) as feed:
        watch = Watch(feed, office)
        tokens = [office.issue_ok(s)["token"] for s in "abab"]
        office.call_next_ok("1")
        office.step_ok("1", "serve")
        office.call_next_ok("4")
        office.cancel(tokens[3])
        await watch.new_events()
        text = "\n".join(feed.raw)
    async with open_ws(office.server, "/ws/display") as ws:
        text += json.dumps(await recv_json(ws))
    for token in tokens:
        assert token not in text


async def test_two_displays_receive_identical_streams(office: Office) -> None:
    """Every display gets the same events in the same order."""
    async with display_feed(office.server) as one, display_feed(office.server) as two:
        for service in "abba":
            office.issue_ok(service)
        office.call_next_ok("1")
        seq = office.seq()
        await one.wait_seq(seq)
        await two.wait_seq(seq)
        assert one.events == two.events
        assert_contiguous(one.events, one.frames[0]["seq"] + 1)


async def test_simultaneous_calls_all_reach_the_display(office_factory: OfficeFactory) -> None:
    """Calls made at the same moment by six counters all reach the display, in seq order, none lost."""
    office = office_factory(office_toml(capacity=100))
    for i in range(36):
        office.issue_ok("a" if i % 2 else "b")
    headers = office.officer
    async with display_feed(office.server) as feed:
        async with httpx.AsyncClient(base_url=office.server.base_url + API, timeout=30) as client:
            resps = await asyncio.gather(
                *[
                    client.post(f"/counters/{c}/call-next", headers=headers)
                    for _ in range(6)
                    for c in range(1, 7)
                ]
            )
        seq = office.seq()
        await feed.wait_seq(seq)
    answered = [r.json()["number"] for r in resps if r.status_code == 200]
    called = [e["ticket"]["number"] for e in feed.events if e["type"] == "ticket.called"]
    assert sorted(called) == sorted(answered)
    assert len(set(called)) == len(called) == 36
    assert_contiguous(feed.events, feed.frames[0]["seq"] + 1)


async def test_display_accepts_no_commands(office: Office) -> None:
    """Messages sent on a display socket change nothing."""
    office.issue_ok("a")
    before = office.state()
    async with open_ws(office.server, "/ws/display") as ws:
        await recv_json(ws)
        command = {"type": "call-next", "counter": "1", "path": "/api/v1/counters/1/call-next"}
        with contextlib.suppress(ConnectionClosed):  # closing the socket instead is fine too
            await ws.send(json.dumps(command))
            await ws.send("not json at all")
            await ws.send(b"\x00binary")
    after = office.state()
    assert after["seq"] == before["seq"]
    assert after["counters"] == before["counters"]
    assert httpx.get(office.server.base_url + "/healthz").status_code == 200


async def test_resume_since_returns_exactly_the_missed_events(office: Office) -> None:
    """/ws/display?since=N sends exactly the events after N, in order, then live events."""
    async with display_feed(office.server) as reference:
        async with open_ws(office.server, "/ws/display") as ws:
            n = (await recv_json(ws))["seq"]
        tokens = [office.issue_ok(s)["token"] for s in "aabab"]
        office.call_next_ok("1")
        office.call_next_ok("4")
        office.cancel(tokens[2])
        office.door_count("enter", 1)
        office.step_ok("6", "close")
        current = office.seq()
        await reference.wait_seq(current)
        missed = [e for e in reference.events if e["seq"] > n]
        assert len(missed) == current - n >= 10
        async with open_ws(office.server, f"/ws/display?since={n}") as ws:
            replayed = await recv_n(ws, current - n)
            assert replayed == missed
            office.issue_ok("b")
            live = await recv_json(ws)
            assert live["seq"] == current + 1 and live["type"] == "ticket.issued"
            await reference.wait_seq(current + 1)
            assert live in reference.events


async def test_resume_since_current_seq_sends_only_live_events(office: Office) -> None:
    """?since=<current seq> sends no snapshot and no replay: the next frame is the next event."""
    office.issue_ok("a")
    current = office.seq()
    async with open_ws(office.server, f"/ws/display?since={current}") as ws:
        office.issue_ok("b")
        frame = await recv_json(ws)
    assert frame["type"] == "ticket.issued" and frame["seq"] == current + 1


async def test_resume_since_future_seq_sends_fresh_snapshot(office: Office) -> None:
    """?since=N newer than the current seq starts with a fresh snapshot."""
    office.issue_ok("a")
    current = office.seq()
    async with open_ws(office.server, f"/ws/display?since={current + 1000}") as ws:
        snap = await recv_json(ws)
        assert snap["type"] == "snapshot" and snap["seq"] == current
        office.issue_ok("a")
        frame = await recv_json(ws)
    assert frame["seq"] == current + 1


async def test_events_polling_endpoint_matches_socket(office: Office) -> None:
    """GET /api/v1/events?since=N answers {"seq", "events"} with the same events as the socket."""
    async with display_feed(office.server) as feed:
        n = feed.frames[0]["seq"]
        office.issue_ok("a")
        office.call_next_ok("1")
        office.door_count("enter", 2)
        current = office.seq()
        await feed.wait_seq(current)
        resp = office.http.get("/events", params={"since": n})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["seq"] == current
    assert body["events"] == feed.events
    resp = office.http.get("/events", params={"since": current})
    assert resp.json()["events"] == []


async def test_events_polling_with_future_since_sends_snapshot(office: Office) -> None:
    """GET /api/v1/events?since=<newer than current> answers a snapshot and no events."""
    office.issue_ok("a")
    current = office.seq()
    body = office.http.get("/events", params={"since": current + 500}).json()
    assert body["seq"] == current and body["events"] == []
    assert body["snapshot"]["seq"] == current
    assert body["snapshot"]["waiting"] == {"a": 1, "b": 0}


def test_config_change_on_restart_emits_config_changed(office: Office) -> None:
    """A changed config file applied with `config import` is served after the restart, with config.changed.

    Without the import the database keeps its configuration (api-office.md) and `serve` says so.
    """
    server = office.server
    office.issue_ok("a")
    before = office.seq()
    server.stop()
    server.config_path.write_text(
        server.config_path.read_text(encoding="utf-8")
        + '\n[[services]]\nid = "c"\nname = "Layanan C"\nprefix = "C"\n',
        encoding="utf-8",
    )
    server.start()
    assert [s["id"] for s in office.services()] == ["a", "b"]
    assert "no longer matches the database (services)" in server.log_text()
    server.stop()
    done = server.cli("config", "import", "--config", str(server.config_path), "--db", str(server.db_path))
    assert done.returncode == 0, done.stderr
    server.start()
    body = office.http.get("/events", params={"since": before}).json()
    changed = [e for e in body["events"] if e["type"] == "config.changed"]
    assert len(changed) == 1, body
    assert [s["id"] for s in changed[0]["services"]] == ["a", "b", "c"]
    assert [c["id"] for c in changed[0]["counters"]] == ["1", "2", "3", "4", "5", "6"]
    assert changed[0]["seq"] > before
    assert office.issue_ok("c")["number"] == "C001"


# -- /ws/tickets/{token} -----------------------------------------------------


async def test_ticket_socket_snapshot_then_view_changes(office: Office) -> None:
    """The ticket socket starts with a snapshot, then a frame each time status/position/counter change."""
    first = office.issue_ok("a")
    mine = office.issue_ok("a")
    async with open_ws(office.server, f"/ws/tickets/{mine['token']}") as ws:
        snap = await recv_json(ws)
        assert snap["type"] == "snapshot" and snap["seq"] == office.seq()
        assert snap["ticket"]["id"] == mine["id"] and snap["ticket"]["position"] == 2
        assert "token" not in snap["ticket"]

        office.issue_ok("a")  # behind me: my view does not change
        office.issue_ok("b")  # another service: no change
        office.cancel(first["token"])
        moved = await recv_json(ws)
        assert moved["type"] == "ticket.position", moved
        assert moved["ticket"]["position"] == 1 and moved["ticket"]["status"] == "waiting"
        assert moved["seq"] == office.seq() - 1 or moved["seq"] == office.seq()

        office.call_next_ok("3")
        called = await recv_json(ws)
        assert called["type"] == "ticket.called" and called["seq"] == office.seq()
        assert called["ticket"]["status"] == "called" and called["ticket"]["counter"] == "3"
        assert called["ticket"]["position"] is None

        office.step_ok("3", "serve")
        assert (await recv_json(ws))["type"] == "ticket.serving"
        office.step_ok("3", "finish")
        done = await recv_json(ws)
        assert done["type"] == "ticket.done" and done["ticket"]["status"] == "done"
        for frame in (moved, called, done):
            assert mine["token"] not in json.dumps(frame)


async def test_ticket_socket_reports_admission(office_factory: OfficeFactory) -> None:
    """An outside ticket's socket gets ticket.admitted when it may come in."""
    office = office_factory(office_toml(capacity=1))
    blocker = office.issue_ok("a")
    mine = office.issue_ok("b")
    async with open_ws(office.server, f"/ws/tickets/{mine['token']}") as ws:
        snap = await recv_json(ws)
        assert snap["ticket"]["status"] == "outside"
        office.cancel(blocker["token"])
        frame = await recv_json(ws)
    assert frame["type"] == "ticket.admitted" and frame["ticket"]["status"] == "waiting"


async def test_ticket_socket_reconnect_gets_fresh_snapshot(office: Office) -> None:
    """Reconnecting to a ticket socket starts again with the whole current view."""
    mine = office.issue_ok("b")
    async with open_ws(office.server, f"/ws/tickets/{mine['token']}") as ws:
        assert (await recv_json(ws))["ticket"]["status"] == "waiting"
    office.call_next_ok("4")
    async with open_ws(office.server, f"/ws/tickets/{mine['token']}") as ws:
        snap = await recv_json(ws)
    assert snap["type"] == "snapshot"
    assert snap["ticket"]["status"] == "called" and snap["ticket"]["counter"] == "4"


async def test_ticket_socket_cancel_frame(office: Office) -> None:
    """Cancelling by token shows up on that ticket's socket as ticket.cancelled."""
    mine = office.issue_ok("a")
    async with open_ws(office.server, f"/ws/tickets/{mine['token']}") as ws:
        await recv_json(ws)
        office.cancel(mine["token"])
        frame = await recv_json(ws)
    assert frame["type"] == "ticket.cancelled" and frame["ticket"]["status"] == "cancelled"


@pytest.mark.parametrize("token", ["unknown-token-0000000000000000", "x"])
async def test_ticket_socket_unknown_token_closes_4404(office: Office, token: str) -> None:
    """A ticket socket for an unknown token is closed with code 4404."""
    async with open_ws(office.server, f"/ws/tickets/{token}") as ws:
        assert await close_code(ws) == 4404


async def test_many_display_clients_see_the_same_call(office: Office) -> None:
    """Twenty displays connected at once all receive the call event."""
    office.issue_ok("a")
    feeds: list[DisplayFeed] = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(20):
            feeds.append(await stack.enter_async_context(display_feed(office.server)))
        office.call_next_ok("1")
        seq = office.seq()
        await asyncio.gather(*[f.wait_seq(seq) for f in feeds])
    kinds = Counter(f.events[-1]["type"] for f in feeds)
    assert kinds == Counter({"ticket.called": 20})
