"""The report and survey pages render for the admin with the day's figures, and the tablet works."""

from __future__ import annotations

import httpx

from tests.interface.helpers import Office, office_today
from tests.security.helpers import cookie_session, csrf_from_page

ALL_THREE = {f"u{i}": 3 for i in range(1, 10)}


def page(office: Office, path: str, role: str = "admin", **params: str) -> httpx.Response:
    cookie = cookie_session(office.server, role)
    with httpx.Client(base_url=office.server.base_url, timeout=20) as client:
        return client.get(path, params=params, headers={"Cookie": f"antre_session={cookie}"})


def finished(office: Office) -> str:
    token = str(office.issue_ok("a")["token"])
    office.call_next_ok("1")
    assert office.counter("1", "finish").status_code == 200
    return token


def test_the_report_page_shows_the_tables_heat_map_and_links(office: Office) -> None:
    """/admin/reports: figures per service, counter, officer; an SVG heat map; CSV and ticket links."""
    finished(office)
    day = max(office_today())
    resp = page(office, "/admin/reports", preset="day", date=day)
    assert resp.status_code == 200, resp.text[:500]
    html = resp.text
    for part in ('id="report-service"', 'id="report-counter"', 'id="report-officer"', "heat-map", "<svg"):
        assert part in html, part
    assert "/api/v1/reports?" in html and "format=csv" in html
    assert "/admin/reports/tickets?" in html
    partial = page(office, "/admin/reports/tickets", **{"from": day, "to": day, "counter": "1"})
    assert partial.status_code == 200 and "A001" in partial.text


def test_the_survey_page_and_printed_report_show_the_index(office: Office) -> None:
    """One full survey of all 3s: IKM 75.00, C; the printed report has its five chapters."""
    token = finished(office)
    assert (
        office.http.post(
            f"/tickets/{token}/survey", json={"elements": ALL_THREE, "comment": "Antre <b>rapi</b>"}
        ).status_code
        == 201
    )
    day = max(office_today())
    html = page(office, "/admin/survey", preset="day", date=day).text
    assert "75.0" in html and "Kurang baik" in html
    assert "Antre &lt;b&gt;rapi&lt;/b&gt;" in html, "comments are escaped"
    printed = page(office, "/admin/survey/print", preset="day", date=day).text
    for chapter in ("BAB I", "BAB II", "BAB III", "BAB IV", "BAB V"):
        assert chapter in printed


def test_the_counter_tablet_rates_the_visitor_just_finished_once(office: Office) -> None:
    """The tablet page opens for an officer; its rating goes to the latest done ticket, only once."""
    resp = page(office, "/survey/1", role="officer")
    assert resp.status_code == 200 and "survey-faces" in resp.text
    assert csrf_from_page(resp.text), "an officer's session posts with its CSRF token"
    finished(office)
    assert office.http.get("/survey/counters/1", headers=office.officer).json()["answered"] is False
    first = office.http.post("/survey/counters/1", json={"rating": 4}, headers=office.officer)
    assert first.status_code == 201, first.text
    again = office.http.post("/survey/counters/1", json={"rating": 1}, headers=office.officer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "survey_already_answered"
    assert office.http.post("/survey/counters/1", json={"rating": 4}).status_code == 401
