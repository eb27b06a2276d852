"""Message catalogs and the choice of language for the HTML pages.

The catalogs are `queue_server/web/messages/<lang>.json`: one JSON object per language,
nested objects allowed (`{"kiosk": {"title": "..."}}` is the key `kiosk.title`).
Placeholders are `{name}` and are filled the same way in Python and in the
page scripts, which get the whole flat catalog of their language.

A page's language is, in order: `?lang=` in the URL (then remembered in a
cookie, so a kiosk or TV switched once stays switched), the cookie, the
office's configured language.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger(__name__)

LANGUAGES = ("id", "en")
LANG_COOKIE = "antre_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
CATALOG_DIR = Path(__file__).resolve().parent / "messages"
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested catalog objects to dotted keys; non-string leaves become strings."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, list):
            # A list is kept as lines so a catalog may hold e.g. multi-line help text.
            flat[name] = "\n".join(str(item) for item in value)
        else:
            flat[name] = str(value)
    return flat


def fill(text: str, params: Mapping[str, Any]) -> str:
    """Replace `{name}` by params[name]; unknown placeholders stay as they are."""
    if not params:
        return text
    return _PLACEHOLDER.sub(lambda m: str(params[m[1]]) if m[1] in params else m[0], text)


@dataclass(frozen=True)
class Translator:
    """`t(key, **params)` for one language; falls back to the other language, then the key."""

    lang: str
    messages: Mapping[str, str]
    fallback: Mapping[str, str]

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            text = self.fallback.get(key)
            _warn_missing(self.lang, key)
            if text is None:
                # Showing the key makes the gap visible (and testable) instead of a blank.
                return key
        return fill(text, params)

    def has(self, key: str) -> bool:
        return key in self.messages


_warned: set[tuple[str, str]] = set()


def _warn_missing(lang: str, key: str) -> None:
    if (lang, key) not in _warned:
        _warned.add((lang, key))
        log.warning("message %r missing from the %s catalog", key, lang)


class Catalogs:
    """The flat catalogs of every language, re-read when a file changes (cheap stat per use)."""

    def __init__(self, directory: Path = CATALOG_DIR, default: str = "id") -> None:
        self.directory = directory
        self.default = default if default in LANGUAGES else "id"
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[float, dict[str, str]]] = {}

    def messages(self, lang: str) -> dict[str, str]:
        path = self.directory / f"{lang}.json"
        try:
            mtime = path.stat().st_mtime
        except OSError:
            log.error("message catalog %s is missing", path)
            return {}
        with self._lock:
            cached = self._loaded.get(lang)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                # Keep serving the last good catalog while someone is mid-edit.
                log.error("cannot read message catalog %s: %s", path, exc)
                return cached[1] if cached else {}
            flat = flatten(data) if isinstance(data, dict) else {}
            self._loaded[lang] = (mtime, flat)
            return flat

    def translator(self, lang: str) -> Translator:
        lang = lang if lang in LANGUAGES else self.default
        other = "en" if lang == "id" else "id"
        return Translator(lang, self.messages(lang), self.messages(other))


def requested_language(request: Request) -> str | None:
    """The language asked for in the URL (`?lang=`), if it is one we have."""
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGES else None


def choose_language(request: Request, office_default: str) -> str:
    """URL first, then the cookie, then the office's language."""
    asked = requested_language(request)
    if asked:
        return asked
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return office_default if office_default in LANGUAGES else "id"


def remember_language(request: Request, response: Response) -> None:
    """Store `?lang=` in a cookie so later pages (and reconnects) keep it."""
    asked = requested_language(request)
    if asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=LANG_COOKIE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )


def switch_url(request: Request, lang: str) -> str:
    """This page's URL with `lang` replaced, other query parameters kept."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", lang))
    return f"{request.url.path}?{urlencode(params)}"
