"""Crowd capacity: occupancy, admission in order, party size, the door, capacity changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interface.helpers import OCCUPANCY_FIELDS, Office, assert_error, bearer
from tests.support.server import ROLE_ACCOUNTS, ServerFactory, ServerProcess, office_toml


@pytest.fixture
def office3(server_factory: ServerFactory) -> Iterator[Office]:
    """A fresh office with capacity 3."""
    client = Office(server_factory(office_toml(capacity=3)))
    yield client
    client.close()


@pytest.fixture(scope="module")
def shared3(tmp_path_factory: pytest.TempPathFactory, accounts_db: Path) -> Iterator[Office]:
    """One capacity-3 office shared by this module's tests whose requests are all refused."""
    proc = ServerProcess(tmp_path_factory.mktemp("capacity3"), office_toml(capacity=3))
    proc.seed_database(accounts_db, [name for name, _ in ROLE_ACCOUNTS.values()])
    proc.start()
    client = Office(proc)
    yield client
    client.close()
    proc.stop_soon()


def occupancy_of(office: Office) -> tuple[int, int, int]:
    """(inside, outside tickets, outside people)."""
    occ = office.occupancy()
    return occ["inside"], occ["outside"], occ["outside_people"]


def test_occupancy_starts_empty(office: Office) -> None:
    """GET /occupancy of a new office is inside 0, capacity from config, nobody outside."""
    occ = office.occupancy()
    assert set(occ) >= OCCUPANCY_FIELDS
    assert occ == {**occ, "inside": 0, "capacity": 10, "outside": 0, "outside_people": 0}


def test_tickets_are_admitted_while_they_fit(office3: Office) -> None:
    """A ticket is waiting at once while it fits, outside when the office is full."""
    statuses = [office3.issue_ok("a")["status"] for _ in range(3)]
    assert statuses == ["waiting"] * 3
    assert occupancy_of(office3) == (3, 0, 0)
    late = office3.issue_ok("b", party_size=2)
    assert late["status"] == "outside"
    assert late["admitted_at"] is None
    assert occupancy_of(office3) == (3, 1, 2)


def test_party_size_counts_inside(office3: Office) -> None:
    """inside sums party_size of waiting/called/serving tickets."""
    office3.issue_ok("a", party_size=2)
    assert occupancy_of(office3) == (2, 0, 0)
    assert office3.issue_ok("a", party_size=2)["status"] == "outside"
    assert office3.issue_ok("a", party_size=1)["status"] == "outside"  # no overtaking at issue
    assert occupancy_of(office3) == (2, 2, 3)


def test_called_and_serving_count_inside_done_leaves(office3: Office) -> None:
    """Called and serving tickets stay inside; done frees their places."""
    office3.issue_ok("a", party_size=2)
    office3.call_next_ok("1")
    assert occupancy_of(office3)[0] == 2
    office3.step_ok("1", "serve")
    assert occupancy_of(office3)[0] == 2
    office3.step_ok("1", "finish")
    assert occupancy_of(office3)[0] == 0


def test_admission_fifo_without_overtaking(office3: Office) -> None:
    """Outside tickets are admitted oldest first as they fit; a smaller one never overtakes."""
    inside = [office3.issue_ok("a") for _ in range(3)]
    big = office3.issue_ok("a", party_size=2)
    small = office3.issue_ok("b", party_size=1)
    assert (big["status"], small["status"]) == ("outside", "outside")
    assert office3.cancel(inside[0]["token"]).status_code == 200  # one place free
    assert office3.status(big["token"]) == "outside"
    assert office3.status(small["token"]) == "outside"  # would fit, but must not overtake
    assert office3.cancel(inside[1]["token"]).status_code == 200  # two places free
    admitted = office3.ticket(big["token"])
    assert admitted["status"] == "waiting" and admitted["admitted_at"] is not None
    assert office3.status(small["token"]) == "outside"
    assert occupancy_of(office3) == (3, 1, 1)
    assert office3.cancel(inside[2]["token"]).status_code == 200
    assert office3.status(small["token"]) == "waiting"
    assert occupancy_of(office3) == (3, 0, 0)


def test_finishing_admits_several_in_issue_order(office3: Office) -> None:
    """When a party of 3 leaves, the next outside tickets that fit are admitted in order."""
    office3.issue_ok("a", party_size=3)
    queue = [office3.issue_ok(s) for s in ["b", "a", "b", "a"]]
    office3.call_next_ok("1")
    office3.step_ok("1", "finish")
    assert [office3.status(t["token"]) for t in queue] == ["waiting"] * 3 + ["outside"]


def test_no_show_frees_places(office3: Office) -> None:
    """A no-show leaves the office and admits the next outside ticket."""
    office3.issue_ok("a", party_size=3)
    waiting_outside = office3.issue_ok("a")
    office3.call_next_ok("1")
    office3.step_ok("1", "no-show")
    assert office3.status(waiting_outside["token"]) == "waiting"


def test_cancelling_blocking_outside_ticket_admits_next(office3: Office) -> None:
    """Cancelling an outside ticket that did not fit lets the next ones in."""
    office3.issue_ok("a", party_size=2)
    blocker = office3.issue_ok("a", party_size=3)
    after = office3.issue_ok("b", party_size=1)
    assert office3.status(after["token"]) == "outside"
    assert office3.cancel(blocker["token"]).status_code == 200
    assert office3.status(after["token"]) == "waiting"
    assert occupancy_of(office3) == (3, 0, 0)


def test_only_waiting_tickets_are_called(office3: Office) -> None:
    """call-next never calls an outside ticket."""
    office3.issue_ok("a", party_size=3)
    office3.issue_ok("b")  # outside
    office3.call_next_ok("1")
    assert office3.call_next("4").status_code == 204  # B001 is outside, A001 is called
    assert office3.occupancy()["outside"] == 1


@pytest.mark.parametrize("size", [0, -1, 4, 1000])
def test_party_size_out_of_range_is_422(shared3: Office, size: int) -> None:
    """party_size must be within 1..capacity, else 422 invalid_party_size."""
    assert_error(shared3.issue("a", party_size=size), 422, "invalid_party_size")


@pytest.mark.parametrize("size", ["2", 2.5, True, None, [1]])
def test_party_size_wrong_type_is_422(shared3: Office, size: object) -> None:
    """A party_size that is not an integer answers 422."""
    resp = shared3.http.post("/tickets", json={"service": "a", "party_size": size})
    assert_error(resp, 422, {"invalid_party_size", "invalid_request"})


def test_door_enter_and_exit_change_inside(office3: Office) -> None:
    """The door counts people without a ticket in and out."""
    resp = office3.door_count("enter", 2)
    assert resp.status_code == 200, resp.text
    assert occupancy_of(office3) == (2, 0, 0)
    assert office3.door_count("exit", 1).status_code == 200
    assert occupancy_of(office3) == (1, 0, 0)


def test_door_entries_take_places_from_tickets(office3: Office) -> None:
    """People counted in by the door fill the office, so new tickets wait outside."""
    assert office3.door_count("enter", 3).status_code == 200
    assert office3.issue_ok("a")["status"] == "outside"


def test_door_exit_admits_outside_tickets(office3: Office) -> None:
    """Counting people out admits the waiting-outside tickets that now fit."""
    assert office3.door_count("enter", 3).status_code == 200
    ticket = office3.issue_ok("a", party_size=2)
    assert office3.door_count("exit", 1).status_code == 200
    assert office3.status(ticket["token"]) == "outside"
    assert office3.door_count("exit", 1).status_code == 200
    assert office3.status(ticket["token"]) == "waiting"
    assert occupancy_of(office3) == (3, 0, 0)


def test_exit_more_than_counted_in_is_409_occupancy_below_zero(office3: Office) -> None:
    """Counting out more people than the door counted in answers 409 occupancy_below_zero."""
    office3.issue_ok("a", party_size=2)  # ticket holders are not door entries
    assert_error(office3.door_count("exit", 1), 409, "occupancy_below_zero")
    assert office3.door_count("enter", 1).status_code == 200
    assert_error(office3.door_count("exit", 2), 409, "occupancy_below_zero")
    assert occupancy_of(office3) == (3, 0, 0)


def test_enter_over_capacity_is_409_capacity_full(office3: Office) -> None:
    """A door enter that would put inside over capacity answers 409 capacity_full."""
    office3.issue_ok("a", party_size=2)
    assert_error(office3.door_count("enter", 2), 409, "capacity_full")
    assert occupancy_of(office3) == (2, 0, 0)


@pytest.mark.parametrize("count", [0, -2, "1", 1.5, None, True])
@pytest.mark.parametrize("direction", ["enter", "exit"])
def test_door_count_must_be_positive_integer(shared3: Office, direction: str, count: object) -> None:
    """enter/exit with a count that is not an integer >= 1 answer 422."""
    assert_error(shared3.door_count(direction, count), 422, {"invalid_count", "invalid_request"})


def test_admin_may_count_at_the_door(shared3: Office) -> None:
    """Role admin may use enter/exit too."""
    assert shared3.door_count("enter", 1, headers=shared3.admin).status_code == 200
    assert shared3.door_count("exit", 1, headers=shared3.admin).status_code == 200


@pytest.mark.parametrize("role", ["officer", None])
def test_door_count_needs_door_or_admin(shared3: Office, role: str | None) -> None:
    """enter without a token is 401; with an officer token 403."""
    headers = bearer(shared3.token(role)) if role else {}
    resp = shared3.door_count("enter", 1, headers=headers)
    if role:
        assert_error(resp, 403, "forbidden")
    else:
        assert_error(resp, 401, "unauthorized")


def test_raising_capacity_admits_outside_tickets(office3: Office) -> None:
    """PUT /capacity (admin) changes capacity and admits outside tickets that now fit."""
    office3.issue_ok("a", party_size=3)
    two = office3.issue_ok("a", party_size=2)
    one = office3.issue_ok("b", party_size=1)
    resp = office3.set_capacity(5)
    assert resp.status_code == 200, resp.text
    assert office3.occupancy()["capacity"] == 5
    assert office3.status(two["token"]) == "waiting"
    assert office3.status(one["token"]) == "outside"
    assert office3.set_capacity(6).status_code == 200
    assert office3.status(one["token"]) == "waiting"
    assert occupancy_of(office3) == (6, 0, 0)


def test_party_size_limit_follows_new_capacity(office3: Office) -> None:
    """After PUT /capacity, party_size up to the new capacity is accepted."""
    assert_error(office3.issue("a", party_size=5), 422, "invalid_party_size")
    assert office3.set_capacity(8).status_code == 200
    assert office3.issue("a", party_size=5).status_code == 201


def test_lowering_capacity_sends_new_tickets_outside(office3: Office) -> None:
    """After lowering capacity, new tickets that do not fit wait outside."""
    office3.issue_ok("a")
    assert office3.set_capacity(1).status_code == 200
    assert office3.issue_ok("a")["status"] == "outside"


@pytest.mark.parametrize("value", [0, -5, "10", 2.5, None])
def test_invalid_capacity_is_422(shared3: Office, value: object) -> None:
    """PUT /capacity with a capacity that is not an integer >= 1 answers 422."""
    assert_error(shared3.set_capacity(value), 422, {"invalid_capacity", "invalid_request"})
    assert shared3.occupancy()["capacity"] == 3


@pytest.mark.parametrize("role", ["officer", "door"])
def test_capacity_change_needs_admin(shared3: Office, role: str) -> None:
    """PUT /capacity answers 403 for officer and door tokens, 401 without a token."""
    assert_error(shared3.set_capacity(9, headers=bearer(shared3.token(role))), 403, "forbidden")
    assert_error(shared3.set_capacity(9, headers={}), 401, "unauthorized")
    assert shared3.occupancy()["capacity"] == 3


def test_transfer_keeps_ticket_inside(office3: Office) -> None:
    """A transferred ticket stays inside (waiting), so occupancy does not change."""
    office3.issue_ok("a", party_size=2)
    office3.call_next_ok("1")
    office3.counter("1", "transfer", json_body={"service": "b"})
    assert occupancy_of(office3) == (2, 0, 0)
