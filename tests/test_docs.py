"""The docs cannot drift from the code: every event type, route and error code of the rules is in the
repository's own docs (docs/protocol.md, and the README for pages), so the check holds in any clone."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from queue_server.config import EXAMPLE_CONFIG, load_config
from queue_server.domain import events as ev
from queue_server.domain.errors import CODES
from queue_server.web.routes import routes

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
PARAM = re.compile(r"\{[^}]*\}")


def _normal(text: str) -> str:
    return PARAM.sub("{}", text)


def _documented_paths() -> set[str]:
    """Every /path in the docs, path parameters made alike; `/a/b` and `/c` also yields /a/c."""
    texts = [PROTOCOL, README]
    paths: set[str] = set()
    for text in texts:
        for line in text.splitlines():
            found = [_normal(p) for p in re.findall(r"`(?:[A-Z]+ )?(/[^` ?]*)", line)]
            full = [p for p in found if p.count("/") > 1]
            for path in found:
                paths.add(path)
                if path.count("/") == 1:  # a shorthand on the same line: "`/enter` and `/exit`"
                    paths |= {p.rsplit("/", 1)[0] + path for p in full}
    return paths


def _route_paths(items: list[BaseRoute]) -> set[str]:
    return {_normal(r.path) for r in items if isinstance(r, Route | WebSocketRoute | Mount)}


def test_every_event_type_is_documented() -> None:
    """docs/protocol.md's events table names every event the domain emits."""
    missing = [t for t in ev.ALL_TYPES if f"`{t}`" not in PROTOCOL]
    assert not missing, f"event types missing from docs/protocol.md: {missing}"


def test_every_route_is_documented() -> None:
    """Each route of the app is in protocol.md or the README (pages)."""
    documented = _documented_paths()
    relative = {p.removeprefix("/api/v1") for p in documented}
    missing = sorted(
        p
        for p in _route_paths(routes(load_config(EXAMPLE_CONFIG)))
        if p not in documented and p.removeprefix("/api/v1") not in relative
    )
    assert not missing, f"routes nobody documented: {missing}"


def test_every_error_code_of_the_rules_is_documented() -> None:
    """Each code the rules refuse with is in protocol.md."""
    missing = [code for code in CODES if f"`{code}`" not in PROTOCOL]
    assert not missing, f"error codes missing from the docs: {missing}"


def test_every_code_the_rules_raise_is_listed() -> None:
    """domain/errors.py CODES lists every code raised in the domain (so the checks above see them all)."""
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "queue_server" / "domain").glob("*.py"))
    raised = set(re.findall(r"(?:NotFound|Invalid|Conflict|Limited)\(\s*\"([a-z_]+)\"", source))
    assert raised <= set(CODES), f"raised but not in CODES: {sorted(raised - set(CODES))}"
    assert set(CODES) <= raised, f"in CODES but never raised: {sorted(set(CODES) - raised)}"
