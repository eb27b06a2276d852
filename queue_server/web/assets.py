"""What the screens need on disk, checked before `serve` accepts anyone.

A template, catalog, script or clip missing from an installation (a wheel built
without its package data, a file deleted by hand) would otherwise show up only
as a 500 on the kiosk or a silent lobby TV. `missing_assets()` lists every file
the pages need that is not there, so `serve` can refuse to start with one line.

What is needed is read from the files themselves, so a new page script or
template include is checked without anyone updating a list here:
- the page templates the server renders, and every template they extend or include;
- both message catalogs (valid JSON);
- every `static('...')` file and literal `/static/...` link in those templates;
- each language's audio manifest and every clip it lists (announcer.js fetches them).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError, meta

from queue_server.web.i18n import LANGUAGES

# The same folder as pages.render.WEB_DIR; not imported from there so that the check
# does not load the page machinery (segno, printing) before it has passed.
WEB_DIR = Path(__file__).resolve().parent

#: The templates pages.py renders by name.
PAGE_TEMPLATES = (
    "index.html",
    "kiosk.html",
    "display.html",
    "entrance.html",
    "counter.html",
    "door.html",
    "ticket.html",
    "login.html",
    "error.html",
)
_STATIC_CALL = re.compile(r"""static\(\s*['"]([^'"]+)['"]\s*\)""")
_STATIC_LINK = re.compile(r"""(?:src|href)\s*=\s*['"]/static/([^'"?#{]+)""")


def missing_assets(web_dir: Path = WEB_DIR) -> list[str]:
    """Every needed file under `web_dir` that is absent or unreadable, as paths relative to it.

    A file that exists but cannot be used (a template that does not parse, a
    catalog or manifest that is not JSON) is listed with the reason in brackets.
    An empty list means the screens have everything they need.
    """
    problems: list[str] = []
    static_refs: set[str] = set()
    _check_templates(web_dir / "templates", problems, static_refs)
    for lang in LANGUAGES:
        _check_json(web_dir / "messages" / f"{lang}.json", web_dir, problems)
    static_dir = web_dir / "static"
    for ref in sorted(static_refs):
        if not (static_dir / ref).is_file():
            problems.append(f"static/{ref}")
    for lang in LANGUAGES:
        manifest = _check_json(static_dir / "audio" / lang / "manifest.json", web_dir, problems)
        if manifest is None:
            continue
        clips = manifest.get("clips") if isinstance(manifest, dict) else None
        if not isinstance(clips, dict) or not clips:
            problems.append(f"static/audio/{lang}/manifest.json (lists no clips)")
            continue
        for key, clip in sorted(clips.items()):
            name = clip.get("file") if isinstance(clip, dict) else None
            if not isinstance(name, str) or not name:
                problems.append(f"static/audio/{lang}/manifest.json (clip {key!r} names no file)")
            elif not (static_dir / "audio" / lang / name).is_file():
                problems.append(f"static/audio/{lang}/{name}")
    return problems


def describe(problems: list[str], web_dir: Path = WEB_DIR, shown: int = 5) -> str:
    """One line for the operator: how many, the first few, and where."""
    more = len(problems) - shown
    listed = ", ".join(problems[:shown]) + (f" and {more} more" if more > 0 else "")
    return (
        f"incomplete installation: {len(problems)} file(s) the screens need are missing under {web_dir}: "
        f"{listed} (reinstall the package)"
    )


def _check_templates(template_dir: Path, problems: list[str], static_refs: set[str]) -> None:
    env = Environment()
    seen: set[str] = set()
    pending = list(PAGE_TEMPLATES)
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        path = template_dir / name
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            problems.append(f"templates/{name}")
            continue
        try:
            parsed = env.parse(source)
        except TemplateSyntaxError as error:
            problems.append(f"templates/{name} (does not parse: line {error.lineno}: {error.message})")
            continue
        # None stands for a name computed at render time; the pages use none.
        pending += [ref for ref in meta.find_referenced_templates(parsed) if ref is not None]
        static_refs.update(_STATIC_CALL.findall(source))
        static_refs.update(_STATIC_LINK.findall(source))


def _check_json(path: Path, web_dir: Path, problems: list[str]) -> object | None:
    relative = path.relative_to(web_dir).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        problems.append(relative)
        return None
    try:
        return json.loads(text)
    except ValueError:
        problems.append(f"{relative} (not valid JSON)")
        return None
