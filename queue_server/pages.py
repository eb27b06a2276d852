"""The HTML screens: kiosk, counter, lobby and entrance displays, door, phone ticket, login.

Pages are rendered once from Jinja2 templates (`queue_server/web/templates/`) with the
office's configuration and the language's messages; after that each page's
script keeps itself live from the JSON API and the WebSocket streams. Nothing
here changes office state except logging in and out and printing a ticket:
every queue command goes through the JSON API like any other client.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from queue_server import __version__, api, auth, i18n, printing, sessions
from queue_server.config import OfficeConfig
from queue_server.errors import ApiError
from queue_server.service import OfficeService
from queue_server.tickets import FINAL, Ticket

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent / "web"
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
PAUSE_REASONS = ("break", "prayer", "meeting")
PRINTS_PER_TICKET = 3
LOGIN_FORM_MAX = 4096
NO_STORE = {"Cache-Control": "no-store"}


def routes(config: OfficeConfig) -> list[BaseRoute]:
    """Every page route, the print endpoint and /static, for create_app's routes list."""
    pages = Pages(config)
    return [
        Route("/", pages.index),
        Route("/kiosk", pages.kiosk),
        Route("/display", pages.display),
        Route("/entrance", pages.entrance),
        Route("/door", pages.door),
        Route("/counter/{counter}", pages.counter),
        Route("/t/{token}", pages.ticket),
        Route("/t/{token}/qr.svg", pages.ticket_qr),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login_submit, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/api/v1/tickets/{token}/print", pages.print_ticket, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]


@dataclass
class Pages:
    config: OfficeConfig
    catalogs: i18n.Catalogs = field(init=False)
    env: Environment = field(init=False)
    printer: printing.TicketPrinter = field(init=False)
    prints: OrderedDict[int, int] = field(init=False, default_factory=OrderedDict)
    _static_versions: dict[str, tuple[float, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.catalogs = i18n.Catalogs(default=self.config.language)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["static"] = self.static_url
        self.printer = printing.TicketPrinter(self.config.printer)

    # ----- rendering -----------------------------------------------------------------

    def static_url(self, path: str) -> str:
        """A /static URL with a content hash, so a TV never keeps last version's script."""
        file = STATIC_DIR / path
        try:
            mtime = file.stat().st_mtime
        except OSError:
            return f"/static/{path}"
        cached = self._static_versions.get(path)
        if cached is None or cached[0] != mtime:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()[:10]
            cached = (mtime, digest)
            self._static_versions[path] = cached
        return f"/static/{path}?v={cached[1]}"

    def render(
        self,
        request: Request,
        template: str,
        page: str,
        data: dict[str, Any] | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = i18n.choose_language(request, self.config.language)
        t = self.catalogs.translator(lang)
        service: OfficeService = request.app.state.service
        page_data = {
            "page": page,
            "lang": lang,
            "office": {
                "name": self.config.name,
                "language": self.config.language,
                "timezone": self.config.timezone,
                # The live capacity: an admin may have changed it since the config was read.
                "capacity": service.office.occupancy.capacity,
            },
            "services": service.services_view(),
            "counters": service.counters_config_view(),
            **(data or {}),
        }
        # Any page can be opened in a browser that holds a staff session (the door
        # keeper's tablet showing the kiosk): its API calls then carry the cookie and
        # need the CSRF value, so every page gets it when there is a session.
        context.setdefault("csrf", self._csrf(request))
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            page=page,
            office=self.config,
            switch={code: i18n.switch_url(request, code) for code in i18n.LANGUAGES},
            messages=t.messages,
            page_data=page_data,
            services=service.services_view(),
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=NO_STORE)
        i18n.remember_language(request, response)
        return response

    def error_page(
        self, request: Request, status: int, message_key: str, login_next: str = "", **params: Any
    ) -> HTMLResponse:
        return self.render(
            request,
            "error.html",
            "error",
            status=status,
            message_key=message_key,
            params=params,
            login_next=login_next,
        )

    # ----- public screens ------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return self.render(request, "index.html", "index", counters=self.config.counters, version=__version__)

    async def kiosk(self, request: Request) -> Response:
        # A paired kiosk stays a kiosk at any size; an unpaired phone keeps its ticket (kiosk.js).
        paired = api.paired_kiosk(request) is not None
        data = {"printer": self.printer.enabled, "paired": paired}
        return self.render(request, "kiosk.html", "kiosk", data)

    async def display(self, request: Request) -> Response:
        return self.render(request, "display.html", "display")

    async def entrance(self, request: Request) -> Response:
        return self.render(request, "entrance.html", "entrance")

    # ----- staff screens -------------------------------------------------------------

    def _staff(self, request: Request, *roles: str) -> auth.Principal | Response:
        """The logged-in account if it has the role; else a redirect to login or a 403 page."""
        who = sessions.principal(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if who is None:
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if not who.may(*roles):
            return self.error_page(request, 403, "error.forbidden_page", login_next=target, role=who.role)
        return who

    def _csrf(self, request: Request) -> str:
        token = sessions.session_token(request)
        return sessions.csrf_token(token) if token else ""

    async def counter(self, request: Request) -> Response:
        # "No such counter" first, to anyone: logging in would not make /counter/99 exist.
        counter_id = request.path_params["counter"]
        counter = next((c for c in self.config.counters if c.id == counter_id), None)
        if counter is None:
            return self.error_page(request, 404, "error.unknown_counter", counter=counter_id)
        who = self._staff(request, "officer")
        if isinstance(who, Response):
            return who
        return self.render(
            request,
            "counter.html",
            "counter",
            {"counter": counter_id, "pause_reasons": list(PAUSE_REASONS), "user": who.username},
            user=who,
            counter=counter,
            pause_reasons=PAUSE_REASONS,
        )

    async def door(self, request: Request) -> Response:
        who = self._staff(request, "door")
        if isinstance(who, Response):
            return who
        return self.render(
            request,
            "door.html",
            "door",
            {"printer": self.printer.enabled, "user": who.username},
            user=who,
        )

    # ----- the visitor's ticket --------------------------------------------------------

    def _ticket(self, request: Request) -> tuple[Ticket, dict[str, Any]] | None:
        token: str = request.path_params["token"]
        if len(token) >= 200:
            return None
        service: OfficeService = request.app.state.service
        return service.ticket_by_token_hash(auth.token_hash(token))

    def _ticket_url(self, request: Request) -> str:
        # A kiosk may browse the server as 127.0.0.1; phones need the office LAN address.
        base = self.config.public_url.rstrip("/") + "/" if self.config.public_url else str(request.base_url)
        return f"{base}t/{request.path_params['token']}"

    async def ticket(self, request: Request) -> Response:
        found = self._ticket(request)
        if found is None:
            return self.error_page(request, 404, "phone.unknown")
        _, view = found
        return self.render(
            request,
            "ticket.html",
            "ticket",
            {"ticket": view, "token": request.path_params["token"]},
            ticket=view,
            token=request.path_params["token"],
        )

    async def ticket_qr(self, request: Request) -> Response:
        if self._ticket(request) is None:
            return Response("unknown ticket", status_code=404, media_type="text/plain")
        qr = segno.make(self._ticket_url(request), error="m")
        buffer = io.BytesIO()
        # A standalone file (with xmlns, unlike svg_inline); omitsize lets it
        # scale to whatever box the page's CSS gives the <img>.
        qr.save(buffer, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=2, svgclass=None)
        svg = buffer.getvalue()
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=86400"})

    async def print_ticket(self, request: Request) -> Response:
        found = self._ticket(request)
        if found is None:
            raise ApiError(404, "unknown_ticket", "no ticket has this token")
        ticket, view = found
        if ticket.status in FINAL:
            raise ApiError(409, "ticket_not_printable", f"ticket {ticket.number} is {ticket.status}")
        if not self.printer.enabled:
            # The kiosk then opens the browser's print dialog on the ticket card.
            return JSONResponse({"printed": False, "fallback": "browser"})
        if self.prints.get(ticket.id, 0) >= PRINTS_PER_TICKET:
            raise ApiError(429, "print_limit", "this ticket was printed enough times; ask at the desk")
        t = self.catalogs.translator(i18n.choose_language(request, self.config.language))
        paper = printing.paper_ticket(self.config, view, t, self._ticket_url(request))
        try:
            await self.printer.print(paper)
        except printing.PrinterError as exc:
            raise ApiError(503, "printer_unavailable", f"the ticket printer did not answer: {exc}") from exc
        self.prints[ticket.id] = self.prints.get(ticket.id, 0) + 1
        self.prints.move_to_end(ticket.id)
        while len(self.prints) > 10_000:  # bounded: old tickets are long gone
            self.prints.popitem(last=False)
        return JSONResponse({"printed": True, "fallback": None})

    # ----- logging in and out --------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        return self._login_page(request, safe_next(request.query_params.get("next", "")), None)

    def _login_page(
        self, request: Request, next_url: str, error: str | None, status: int = 200, **params: Any
    ) -> HTMLResponse:
        return self.render(
            request,
            "login.html",
            "login",
            status=status,
            next_url=next_url,
            error=error,
            error_params=params,
            username=params.get("username", ""),
        )

    async def login_submit(self, request: Request) -> Response:
        if not same_origin(request):
            return self.error_page(request, 403, "error.cross_site")
        form = await read_form(request)
        username = form.get("username", "")[: auth.USERNAME_MAX]
        password = form.get("password", "")[: auth.PASSWORD_MAX]
        next_url = safe_next(form.get("next", ""))
        try:
            session = await sessions.log_in(request, username, password)
        except ApiError as exc:
            if exc.status == 429:
                seconds = (exc.headers or {}).get("Retry-After", "60")
                response = self._login_page(
                    request, next_url, retry_message_key(seconds), 429, seconds=seconds, username=username
                )
                response.headers["Retry-After"] = seconds
                return response
            return self._login_page(request, next_url, "counter.login_failed", 401, username=username)
        target = next_url or ("/door" if session.role == "door" else "/")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            sessions.SESSION_COOKIE,
            session.token,
            max_age=session.expires_in,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        if not same_origin(request):
            return self.error_page(request, 403, "error.cross_site")
        token = sessions.session_token(request)
        form = await read_form(request)
        if token and form.get("csrf") == sessions.csrf_token(token):
            request.app.state.service.storage.delete_session(auth.token_hash(token))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(sessions.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response


def retry_message_key(seconds: str) -> str:
    """The login page's "try again in N seconds": "1 second" has its own text (no "1 seconds")."""
    return "counter.too_many_attempts_one" if seconds == "1" else "counter.too_many_attempts"


def same_origin(request: Request) -> bool:
    """False when the browser says this POST comes from another site (login CSRF).

    Browsers set `Sec-Fetch-Site` and `Origin` themselves; scripts cannot. Under
    `Referrer-Policy: no-referrer` Chrome sends `Origin: null` even for a form on
    our own page, so `null` is accepted only when Sec-Fetch-Site vouches for it.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser form post, or a browser too old to say; nothing to compare
    if origin == "null":
        return fetch_site is not None
    # Compare host:port only: behind a TLS proxy the scheme we see may differ.
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


def safe_next(value: str) -> str:
    """Only a path on this server, never another site (`//evil`, `/\\evil`, `http:`)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return ""
    if any(ord(ch) < 32 for ch in value) or len(value) > 500:
        return ""
    return value


async def read_form(request: Request) -> dict[str, str]:
    """A small urlencoded form (no python-multipart needed for two fields)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > LOGIN_FORM_MAX:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {key: values[0] for key, values in parsed.items() if values}
