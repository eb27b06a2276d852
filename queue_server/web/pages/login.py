"""Logging in and out from a page: the form, the session cookie, and the checks against login CSRF."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from queue_server.engine.accounts import PASSWORD_MAX, USERNAME_MAX, InvalidCredentials, Throttled, csrf_token
from queue_server.web import auth
from queue_server.web.pages.render import Renderer
from queue_server.web.state import antre, base_path, cookie_path

LOGIN_FORM_MAX = 4096


class Login:
    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer

    async def form(self, request: Request) -> Response:
        return self._page(request, safe_next(request.query_params.get("next", "")), None)

    def _page(
        self, request: Request, next_url: str, error: str | None, status: int = 200, **params: Any
    ) -> HTMLResponse:
        return self.pages.render(
            request,
            "login.html",
            "login",
            status=status,
            next_url=next_url,
            error=error,
            error_params=params,
            username=params.get("username", ""),
        )

    async def submit(self, request: Request) -> Response:
        if not same_origin(request):
            return self.pages.error_page(request, 403, "error.cross_site")
        form = await read_form(request)
        username = form.get("username", "")[:USERNAME_MAX]
        password = form.get("password", "")[:PASSWORD_MAX]
        next_url = safe_next(form.get("next", ""))
        try:
            session = await antre(request).accounts.log_in(username, password, auth.client_address(request))
        except Throttled as exc:
            seconds = str(exc.wait)
            key = retry_message_key(seconds)
            response = self._page(request, next_url, key, 429, seconds=seconds, username=username)
            response.headers["Retry-After"] = seconds
            return response
        except InvalidCredentials:
            return self._page(request, next_url, "counter.login_failed", 401, username=username)
        base = base_path(request)
        target = next_url or (f"{base}/door" if session.role == "door" else f"{base}/")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            session.token,
            max_age=session.expires_in,
            path=cookie_path(request),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def logout(self, request: Request) -> Response:
        if not same_origin(request):
            return self.pages.error_page(request, 403, "error.cross_site")
        token = auth.session_token(request)
        user = request.scope.get("user")
        form = await read_form(request)
        if token and isinstance(user, auth.Staff) and form.get("csrf") == csrf_token(token):
            await antre(request).accounts.log_out(user.principal)
        response = RedirectResponse(f"{base_path(request)}/login", status_code=303)
        response.delete_cookie(
            auth.SESSION_COOKIE, path=cookie_path(request), httponly=True, samesite="strict"
        )
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
