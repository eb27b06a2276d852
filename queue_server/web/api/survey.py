"""The satisfaction survey: the nine elements (public), a visitor's answer (its ticket token), the IKM."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from queue_server.domain import survey
from queue_server.engine import surveys
from queue_server.reports import export, queries
from queue_server.web import i18n
from queue_server.web.api.common import json_response, service
from queue_server.web.api.kiosks import paired_kiosk
from queue_server.web.api.reports import csv_response, period, wants_csv
from queue_server.web.api.tickets import ticket_for_token
from queue_server.web.auth import require
from queue_server.web.bodies import read_object
from queue_server.web.errors import ApiError
from queue_server.web.state import antre


def language(request: Request) -> str:
    wanted = request.query_params.get("lang")
    if wanted in ("id", "en"):
        return wanted
    return i18n.choose_language(request, antre(request).config.language)


def elements(lang: str) -> list[dict[str, str]]:
    return [
        {
            "id": e.id,
            "name": e.name.get(lang, e.name["id"]),
            "question": e.question.get(lang, e.question["id"]),
        }
        for e in survey.ELEMENTS
    ]


async def get_elements(request: Request) -> Response:
    return json_response(elements(language(request)))


async def answer_survey(request: Request) -> Response:
    ticket, _view = await ticket_for_token(request)
    data = await read_object(request, {"rating", "elements", "comment"}, empty_ok=True)
    given = survey.validate(data)
    return json_response(await surveys.answer(service(request), ticket, given), 201)


async def counter_rating(request: Request) -> Response:
    """The tablet at a counter (extension): a one-tap rating for the visitor just finished there.

    Only a paired kiosk or an officer/admin session may use it, and each ticket answers once,
    so a stranger can neither reach it nor rate more than the one visitor.
    """
    kiosk = await paired_kiosk(request)
    if kiosk is None:
        require(request, "officer")
    office = service(request)
    counter: str = request.path_params["counter"]
    if counter not in {c.id for c in office.config.counters}:
        raise ApiError(404, "unknown_counter", f"no counter {counter!r}")
    data = await read_object(request, {"rating"})
    given = survey.validate(data)
    ticket = surveys.latest_done(office, counter)
    if ticket is None:
        raise ApiError(409, "ticket_not_finished", "no visitor has finished at this counter today")
    return json_response(await surveys.answer(office, ticket, given), 201)


async def counter_latest(request: Request) -> Response:
    """The ticket the tablet would rate now (extension): {"ticket", "answered"} or ticket null."""
    if await paired_kiosk(request) is None:
        require(request, "officer")
    office = service(request)
    ticket = surveys.latest_done(office, request.path_params["counter"])
    if ticket is None:
        return json_response({"ticket": None, "answered": False})
    return json_response({"ticket": ticket.number, "answered": await surveys.answered(office, ticket)})


async def get_ikm(request: Request) -> Response:
    require(request, "admin")
    span = period(request)
    params = request.query_params
    lang = language(request)
    db = service(request).store.db
    body = await db.read(
        lambda conn: queries.ikm(conn, span, params.get("service"), params.get("counter"), lang)
    )
    if wants_csv(request):
        return csv_response(
            export.to_csv(body["elements"], ["id", "name", "nrr"]), f"ikm-{span.first}-{span.last}"
        )
    return json_response(body)


async def survey_state(request: Request) -> Response:
    """Whether this ticket can still answer (extension; the phone asks before it offers the survey)."""
    ticket, _view = await ticket_for_token(request)
    office = service(request)
    answered = await surveys.answered(office, ticket)
    return json_response({"done": str(ticket.status) == "done", "answered": answered})
