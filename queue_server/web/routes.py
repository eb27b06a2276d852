"""THE routes table: every JSON endpoint, socket, page and the static files, in one place."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from queue_server.domain.settings import OfficeConfig
from queue_server.web import live
from queue_server.web.api import (
    accounts,
    capacity,
    counters,
    kiosks,
    remote,
    remote_offer,
    stream,
    supervise,
    tickets,
    users,
)
from queue_server.web.api import admin as admin_api
from queue_server.web.api import reports as reports_api
from queue_server.web.api import survey as survey_api
from queue_server.web.pages.admin import AdminPages
from queue_server.web.pages.login import Login
from queue_server.web.pages.printing import PrintEndpoint
from queue_server.web.pages.remote import RemotePage
from queue_server.web.pages.render import STATIC_DIR, Renderer
from queue_server.web.pages.reports import ReportPages
from queue_server.web.pages.screens import Screens
from queue_server.web.pages.survey import SurveyPages

COUNTER = "/api/v1/counters/{counter}"


def api_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", stream.healthz),
        Route("/api/v1/services", tickets.list_services),
        Route("/api/v1/remote/services", remote_offer.remote_services),
        Route("/api/v1/tickets", tickets.issue_ticket, methods=["POST"]),
        Route("/api/v1/tickets/{token}", tickets.get_ticket, methods=["GET"]),
        Route("/api/v1/tickets/{token}", tickets.cancel_ticket, methods=["DELETE"]),
        Route("/api/v1/tickets/{token}/check-in", remote.check_in_by_token, methods=["POST"]),
        Route("/api/v1/check-in", remote.check_in_by_number, methods=["POST"]),
        Route("/api/v1/tickets/{token}/rejoin", remote.rejoin_by_token, methods=["POST"]),
        Route("/api/v1/rejoin", remote.rejoin_by_number, methods=["POST"]),
        Route("/api/v1/occupancy", capacity.get_occupancy),
        Route("/api/v1/occupancy/enter", capacity.door_enter, methods=["POST"]),
        Route("/api/v1/occupancy/exit", capacity.door_exit, methods=["POST"]),
        Route("/api/v1/capacity", capacity.set_capacity, methods=["PUT"]),
        Route("/api/v1/login", accounts.login, methods=["POST"]),
        Route("/api/v1/logout", accounts.logout, methods=["POST"]),
        Route("/api/v1/me", accounts.me),
        Route("/api/v1/counters", counters.list_counters),
        Route(f"{COUNTER}/call-next", counters.call_next, methods=["POST"]),
        Route(f"{COUNTER}/call", counters.call_number, methods=["POST"]),
        Route(f"{COUNTER}/recall", counters.recall, methods=["POST"]),
        Route(f"{COUNTER}/serve", counters.serve, methods=["POST"]),
        Route(f"{COUNTER}/finish", counters.finish, methods=["POST"]),
        Route(f"{COUNTER}/no-show", counters.no_show, methods=["POST"]),
        Route(f"{COUNTER}/transfer", counters.transfer, methods=["POST"]),
        Route(f"{COUNTER}/undo", counters.undo, methods=["POST"]),
        Route(f"{COUNTER}/open", counters.open_counter, methods=["POST"]),
        Route(f"{COUNTER}/close", counters.close_counter, methods=["POST"]),
        Route("/api/v1/kiosks", kiosks.pair_kiosk, methods=["POST"]),
        Route("/api/v1/kiosks", kiosks.list_kiosks, methods=["GET"]),
        Route("/api/v1/kiosks/{name}", kiosks.unpair_kiosk, methods=["DELETE"]),
        Route("/kiosk/pair", kiosks.kiosk_pair_page),
        *admin_routes(),
        *report_routes(),
        Route("/api/v1/state", stream.get_state),
        Route("/api/v1/events", stream.get_events),
    ]


def admin_routes() -> list[BaseRoute]:
    """Live administration, accounts, audit and the supervisor's ticket actions (api-office.md)."""
    return [
        Route("/api/v1/services", admin_api.create_service, methods=["POST"]),
        Route("/api/v1/services/{service}", admin_api.update_service, methods=["PATCH"]),
        Route("/api/v1/counters", admin_api.create_counter, methods=["POST"]),
        Route("/api/v1/counters/{counter}", admin_api.update_counter, methods=["PATCH"]),
        Route("/api/v1/hours", admin_api.get_hours, methods=["GET"]),
        Route("/api/v1/hours", admin_api.put_hours, methods=["PUT"]),
        Route("/api/v1/running-text", admin_api.get_running_text, methods=["GET"]),
        Route("/api/v1/running-text", admin_api.put_running_text, methods=["PUT"]),
        Route("/api/v1/users", users.list_users, methods=["GET"]),
        Route("/api/v1/users", users.create_user, methods=["POST"]),
        Route("/api/v1/users/{username}", users.update_user, methods=["PATCH"]),
        Route("/api/v1/audit", users.audit, methods=["GET"]),
        Route("/api/v1/tickets", supervise.list_tickets, methods=["GET"]),
        Route("/api/v1/tickets/id/{id}/cancel", supervise.cancel, methods=["POST"]),
        Route("/api/v1/tickets/id/{id}/reactivate", supervise.reactivate, methods=["POST"]),
        Route("/api/v1/tickets/id/{id}/transfer", supervise.transfer, methods=["POST"]),
    ]


def report_routes() -> list[BaseRoute]:
    """Reports, the survey and its index (api-office.md "Satisfaction survey" and "Reports")."""
    return [
        Route("/api/v1/reports", reports_api.get_report, methods=["GET"]),
        Route("/api/v1/reports/occupancy", reports_api.get_occupancy, methods=["GET"]),
        Route("/api/v1/reports/tickets", reports_api.get_tickets_behind, methods=["GET"]),
        Route("/api/v1/reports/ikm", survey_api.get_ikm, methods=["GET"]),
        Route("/api/v1/survey/elements", survey_api.get_elements, methods=["GET"]),
        Route("/api/v1/survey/counters/{counter}", survey_api.counter_latest, methods=["GET"]),
        Route("/api/v1/survey/counters/{counter}", survey_api.counter_rating, methods=["POST"]),
        Route("/api/v1/tickets/{token}/survey", survey_api.answer_survey, methods=["POST"]),
        Route("/api/v1/tickets/{token}/survey", survey_api.survey_state, methods=["GET"]),
    ]


def socket_routes() -> list[BaseRoute]:
    return [
        WebSocketRoute("/ws/display", live.DISPLAY),  # served by live.LiveSockets before the router
        WebSocketRoute("/ws/tickets/{token}", live.TICKETS),
    ]


def page_routes(config: OfficeConfig) -> list[BaseRoute]:
    """Every page, the print endpoint and /static."""
    renderer = Renderer(config)
    printer = PrintEndpoint(renderer)
    screens = Screens(renderer, printer.printer.enabled)
    login = Login(renderer)
    report_pages = ReportPages(renderer)
    survey_pages = SurveyPages(renderer)
    admin_pages = AdminPages(renderer)
    remote_page = RemotePage(renderer)
    return [
        Route("/", screens.index),
        Route("/kiosk", screens.kiosk),
        Route("/display", screens.display),
        Route("/entrance", screens.entrance),
        Route("/door", screens.door),
        Route("/counter/{counter}", screens.counter),
        Route("/remote", remote_page.page),
        Route("/t/{token}", screens.ticket),
        Route("/t/{token}/qr.svg", screens.ticket_qr),
        Route("/admin/reports", report_pages.reports),
        Route("/admin/reports/tickets", report_pages.tickets),
        Route("/admin/survey", survey_pages.admin),
        Route("/admin/survey/print", survey_pages.printable),
        Route("/survey/{counter}", survey_pages.counter),
        Route("/admin", admin_pages.admin),
        Route("/admin/live", admin_pages.live),
        Route("/login", login.form, methods=["GET"]),
        Route("/login", login.submit, methods=["POST"]),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/api/v1/tickets/{token}/print", printer.handle, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]


def routes(config: OfficeConfig, pages: bool = True) -> list[BaseRoute]:
    return [*api_routes(), *socket_routes(), *(page_routes(config) if pages else [])]
