"""Rendering a page: the Jinja environment, content-hashed static URLs, the page context,
the staff guard and the ticket lookup every page shares.

Pages are rendered once from the templates (`queue_server/web/templates/`) with
the office's configuration and the language's messages; after that each page's
script keeps itself live from the JSON API and the WebSocket streams.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from queue_server.domain.events import TicketView
from queue_server.domain.settings import OfficeConfig
from queue_server.domain.tickets import Ticket
from queue_server.engine.accounts import Principal, csrf_token, token_hash
from queue_server.web import auth, i18n
from queue_server.web.state import antre, base_path

WEB_DIR = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
NO_STORE = {"Cache-Control": "no-store"}


class Renderer:
    def __init__(self, config: OfficeConfig) -> None:
        self.config = config
        self.catalogs = i18n.Catalogs(default=config.language)
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["static"] = self.static_url
        self._static_versions: dict[str, tuple[float, str]] = {}

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

    def translator(self, request: Request) -> i18n.Translator:
        return self.catalogs.translator(i18n.choose_language(request, self.config.language))

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
        service = antre(request).service
        base = base_path(request)
        page_data = {
            "page": page,
            "lang": lang,
            "base": base,
            "office": {
                "name": self.config.name,
                "language": self.config.language,
                "timezone": self.config.timezone,
                # The live capacity: an admin may have changed it since the config was read.
                "capacity": service.occupancy()["capacity"],
            },
            "services": service.services_view(),
            "counters": service.counters_config_view(),
            **(data or {}),
        }
        # Any page can be opened in a browser that holds a staff session (the door
        # keeper's tablet showing the kiosk): its API calls then carry the cookie and
        # need the CSRF value, so every page gets it when there is a session.
        token = auth.session_token(request)
        context.setdefault("csrf", csrf_token(token) if token else "")
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            page=page,
            # The engine's configuration: the database's, with every admin change so far.
            office=service.config,
            switch={code: i18n.switch_url(request, code) for code in i18n.LANGUAGES},
            messages=t.messages,
            page_data=page_data,
            services=service.services_view(),
            base=base,
            static=lambda path: base + self.static_url(path),
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=NO_STORE)
        i18n.remember_language(request, response)
        return response

    def render_regency(
        self, request: Request, template: str, page: str, data: dict[str, Any], **context: Any
    ) -> HTMLResponse:
        """A page of the regency itself (no office of its own): the shared layout, no office data."""
        lang = i18n.choose_language(request, self.config.language)
        t = self.catalogs.translator(lang)
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            page=page,
            office={"name": t("offices.title")},
            switch={code: i18n.switch_url(request, code) for code in i18n.LANGUAGES},
            messages=t.messages,
            page_data={"page": page, "lang": lang, "base": "", **data},
            base="",
            static=self.static_url,
            csrf="",
            **context,
        )
        response = HTMLResponse(html, headers=NO_STORE)
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

    def staff(self, request: Request, *roles: str) -> Principal | Response:
        """The logged-in account if it has the role; else a redirect to login or a 403 page."""
        who = auth.principal(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if who is None:
            return RedirectResponse(
                f"{base_path(request)}/login?next={quote(target, safe='')}", status_code=303
            )
        if not who.may(*roles):
            return self.error_page(request, 403, "error.forbidden_page", login_next=target, role=who.role)
        return who

    async def ticket(self, request: Request) -> tuple[Ticket, TicketView] | None:
        token: str = request.path_params["token"]
        if len(token) >= 200:
            return None
        return await antre(request).service.ticket_by_token_hash(token_hash(token))

    def ticket_url(self, request: Request) -> str:
        # A kiosk may browse the server as 127.0.0.1; phones need the office LAN address.
        base = self.config.public_url.rstrip("/") + "/" if self.config.public_url else str(request.base_url)
        return f"{base}t/{request.path_params['token']}"
