"""Reports and the survey through HTTP on a real server: shapes, CSV, and every refusal."""

from __future__ import annotations

import csv
import io

from tests.interface.helpers import Office, assert_error, office_today

ALL_FOUR = {f"u{i}": 4 for i in range(1, 10)}


def finished_ticket(office: Office) -> str:
    """A ticket issued, called at counter 1 and finished: its token."""
    token = str(office.issue_ok("a")["token"])
    office.call_next_ok("1")
    assert office.counter("1", "finish").status_code == 200
    return token


def test_a_finished_visitor_answers_once_and_a_second_answer_is_refused(office: Office) -> None:
    """201 with the answer; the same ticket again: 409 survey_already_answered (even a rating alone)."""
    token = finished_ticket(office)
    resp = office.http.post(
        f"/tickets/{token}/survey", json={"rating": 4, "elements": ALL_FOUR, "comment": "Cepat, ramah"}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["rating"] == 4 and body["elements"] == ALL_FOUR and body["comment"] == "Cepat, ramah"
    assert isinstance(body["ticket"], str) and body["ticket"].startswith("A")
    again = office.http.post(f"/tickets/{token}/survey", json={"rating": 1})
    assert_error(again, 409, "survey_already_answered")


def test_the_survey_waits_for_the_end_of_the_visit_and_checks_its_answers(office: Office) -> None:
    """A waiting ticket: 409 ticket_not_finished; bad answers: 422 invalid_survey; no ticket: 404."""
    waiting = str(office.issue_ok("a")["token"])
    assert_error(
        office.http.post(f"/tickets/{waiting}/survey", json={"rating": 3}), 409, "ticket_not_finished"
    )
    done = finished_ticket(office)
    for body in ({"rating": 5}, {"elements": {"u1": 3}}, {}):
        assert_error(office.http.post(f"/tickets/{done}/survey", json=body), 422, "invalid_survey")
    assert_error(office.http.post("/tickets/nope/survey", json={"rating": 3}), 404, "unknown_ticket")


def test_the_index_counts_full_surveys_and_one_tap_ratings(office: Office) -> None:
    """One full survey of all 4s: IKM 100 (A); the rating counts both answers' ratings."""
    full = finished_ticket(office)
    tap = finished_ticket(office)
    assert office.http.post(f"/tickets/{full}/survey", json={"elements": ALL_FOUR}).status_code == 201
    assert office.http.post(f"/tickets/{tap}/survey", json={"rating": 2}).status_code == 201
    day = max(office_today())
    resp = office.http.get("/reports/ikm", params={"from": day, "to": day}, headers=office.admin)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["respondents"], body["ikm"], body["category"], body["quality"]) == (
        1,
        100.0,
        "A",
        "Sangat baik",
    )
    assert [e["id"] for e in body["elements"]] == [f"u{i}" for i in range(1, 10)]
    assert body["rating"] == {"respondents": 1, "mean": 2.0, "counts": {"1": 0, "2": 1, "3": 0, "4": 0}}
    as_csv = office.http.get(
        "/reports/ikm", params={"from": day, "to": day, "format": "csv"}, headers=office.admin
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["id"] for r in rows][:2] == ["u1", "u2"] and rows[0]["nrr"] == "4.0"


def test_reports_answer_json_and_csv_and_refuse_a_bad_period(office: Office) -> None:
    """The office row of today; CSV by Accept with a header row; 422 invalid_period for bad dates."""
    finished_ticket(office)
    day = max(office_today())
    params = {"from": day, "to": day}
    resp = office.http.get("/reports", params=params, headers=office.admin)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["by"], body["group"]) == ("office", "day")
    [row] = body["rows"]
    assert (row["issued"], row["called"], row["served"]) == (1, 1, 1)
    text = office.http.get("/reports", params=params, headers={**office.admin, "Accept": "text/csv"})
    assert text.headers["content-type"] == "text/csv; charset=utf-8"
    parsed = list(csv.reader(io.StringIO(text.text)))
    assert parsed[0][:4] == ["period", "key", "issued", "cancelled"] and "wait_minutes_mean" in parsed[0]
    assert len(parsed) == 2
    for bad in ({"from": "2026-02-30", "to": day}, {"from": "2026-12-02", "to": "2026-12-01"}):
        assert_error(office.http.get("/reports", params=bad, headers=office.admin), 422, "invalid_period")
    occupancy = office.http.get("/reports/occupancy", params=params, headers=office.admin).json()
    assert sum(occupancy["rows"][0]["arrivals_by_hour"].values()) == 1


def test_the_elements_are_public_and_switch_language(office: Office) -> None:
    """GET /survey/elements with no login: nine, in Indonesian by default, English with ?lang=en."""
    default = office.http.get("/survey/elements").json()
    english = office.http.get("/survey/elements", params={"lang": "en"}).json()
    assert [e["id"] for e in default] == [f"u{i}" for i in range(1, 10)]
    assert default[0]["name"] == "Persyaratan" and english[0]["name"] == "Requirements"
