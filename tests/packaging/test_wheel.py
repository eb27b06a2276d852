"""The wheel, installed outside the checkout, serves the whole product.

Builds an sdist from the checkout's files, a wheel from that sdist (so both must
carry the screens), installs the wheel into a fresh virtual environment in a
temporary folder and runs its `queue-server` from an empty folder: the packaged
example office, every page, every file the pages link to, the voice clips.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.support.server import HOST, REPO_ROOT, free_port, wait_for_health

pytestmark = pytest.mark.slow

#: What the build needs from the checkout (pyproject.toml and MANIFEST.in name nothing else).
SOURCE_ENTRIES = (
    "pyproject.toml",
    "README.md",
    "MANIFEST.in",
    "CHANGELOG.md",
    "queue_server",
    "config",
    "deploy",
)
ADMIN = ("kepala", "sandi-kepala-wheel-1")
PAGES = ("/", "/kiosk", "/display", "/entrance", "/login")


@dataclass(frozen=True)
class Installed:
    """A fresh virtual environment holding the wheel built from the checkout."""

    venv: Path
    wheel: Path
    sdist: Path

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def script(self) -> Path:
        return self.bin / "queue-server"

    def env(self) -> dict[str, str]:
        """Our environment without anything that would lead Python back to the checkout."""
        dropped = {
            "PYTHONPATH",
            "VIRTUAL_ENV",
            "PYTHONHOME",
            "QUEUE_CONFIG",
            "QUEUE_DB",
            "QUEUE_HOST",
            "QUEUE_PORT",
        }
        env = {key: value for key, value in os.environ.items() if key not in dropped}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def run(self, *args: str, cwd: Path, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.script), *args],
            cwd=cwd,
            env=self.env(),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def _pip(*args: str, python: Path | None = None) -> list[str]:
    # The checkout's pip installs into the new environment (--python), so the new one
    # needs no pip of its own: creating it takes a fraction of a second.
    target = ["--python", str(python)] if python else []
    return [sys.executable, "-m", "pip", *target, "--disable-pip-version-check", "-q", *args]


def _copy_sources(target: Path) -> None:
    """The checkout's working files (not a git commit: the test checks what is here now)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for entry in SOURCE_ENTRIES:
        source = REPO_ROOT / entry
        if source.is_dir():
            shutil.copytree(source, target / entry, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target / entry)


def _checked(command: list[str], cwd: Path | None = None, timeout: float = 240) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build sdist then wheel from the checkout, install into a new venv outside it."""
    root = tmp_path_factory.mktemp("wheel")
    venv = root / "venv"
    _checked([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    dependencies = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    # The dependencies take most of the time; they install while the wheel is built.
    deps = subprocess.Popen(
        _pip("install", "--no-compile", *dependencies, python=python),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        source = root / "source"
        source.mkdir()
        _copy_sources(source)
        dist = root / "dist"
        dist.mkdir()
        _checked(
            [
                sys.executable,
                "-c",
                f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})",
            ],
            cwd=source,
        )
        (sdist,) = dist.glob("*.tar.gz")
        _checked(_pip("wheel", "--no-deps", "-w", str(dist), str(sdist)))
        (wheel,) = dist.glob("*.whl")
    finally:
        output, _ = deps.communicate(timeout=600)
    assert deps.returncode == 0, f"installing the dependencies failed:\n{output[-3000:]}"
    _checked(_pip("install", "--no-compile", "--no-deps", str(wheel), python=python))
    return Installed(venv=venv, wheel=wheel, sdist=sdist)


def _web_files() -> list[str]:
    """Every file of queue_server/web in the checkout, as package-relative posix paths."""
    web = REPO_ROOT / "queue_server" / "web"
    return sorted(
        p.relative_to(REPO_ROOT).as_posix()
        for p in web.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_wheel_and_sdist_carry_every_web_file_and_the_example_office(installed: Installed) -> None:
    """The sdist and the wheel both hold every template, catalog, static file, clip and the example office."""
    needed = [*_web_files(), "queue_server/example_office.toml"]
    assert any(name.endswith(".mp3") for name in needed) and any(name.endswith(".html") for name in needed)
    wheel_names = set(zipfile.ZipFile(installed.wheel).namelist())
    with tarfile.open(installed.sdist) as sdist:
        # The sdist's names start with "antre-<version>/".
        sdist_names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert [n for n in needed if n not in wheel_names] == []
    assert [n for n in needed if n not in sdist_names] == []


def test_installed_package_runs_from_the_venv_not_the_checkout(installed: Installed, tmp_path: Path) -> None:
    """`import queue_server` in the new venv loads the installed copy, and --version is pyproject's."""
    done = subprocess.run(
        [str(installed.python), "-c", "import queue_server; print(queue_server.__file__)"],
        cwd=tmp_path,
        env=installed.env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip()).resolve()
    assert location.is_relative_to(installed.venv.resolve()), location
    assert not location.is_relative_to(REPO_ROOT), location
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    shown = installed.run("--version", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == f"queue-server (Antre) {version}", shown


class Links(HTMLParser):
    """The scripts, style sheets, icons, images and media a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        wanted = {
            "script": "src",
            "img": "src",
            "audio": "src",
            "source": "src",
            "video": "src",
            "link": "href",
        }
        attribute = wanted.get(tag)
        url = values.get(attribute) if attribute else None
        if url and not url.startswith(("data:", "#")):
            self.urls.append(url)


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


@contextlib.contextmanager
def serving(installed: Installed, folder: Path) -> Iterator[str]:
    """`queue-server serve` of the wheel, run in `folder` with no options but the port."""
    port = free_port()
    log = (folder.parent / f"{folder.name}.log").open("wb")
    process = subprocess.Popen(
        [str(installed.script), "serve", "--host", HOST, "--port", str(port)],
        cwd=folder,
        env=installed.env(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_for_health(base, process, timeout=30)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def test_installed_server_serves_every_page_asset_and_clip(installed: Installed, tmp_path: Path) -> None:
    """From an empty folder the wheel serves the example office: pages, linked files, clips, phone page."""
    folder = tmp_path / "office"
    folder.mkdir()
    with (
        serving(installed, folder) as base,
        httpx.Client(base_url=base, timeout=15) as client,
        httpx.Client(base_url=base, timeout=15) as staff,
    ):
        assert not (folder / "config").exists()  # the packaged example office, not a local one
        added = installed.run(
            "user", "add", ADMIN[0], "--role", "admin", "--password-stdin",
            cwd=folder, input_text=ADMIN[1] + "\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        login = staff.post(
            "/login",
            content=f"username={ADMIN[0]}&password={ADMIN[1]}&next=/",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": base},
        )
        assert login.status_code == 303, login.text

        counters = [c["id"] for c in client.get("/api/v1/state").json()["counters"]]
        service = client.get("/api/v1/services").json()[0]["id"]
        ticket = client.post("/api/v1/tickets", json={"service": service}).json()

        # The visitor's pages without a session; the staff pages with the logged-in client.
        pages = {path: client for path in PAGES}
        pages.update({"/door": staff, f"/counter/{counters[0]}": staff, f"/t/{ticket['token']}": client})
        linked: set[str] = set()
        for path, browser in pages.items():
            answer = browser.get(path)
            assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
            assert answer.headers["content-type"].startswith("text/html"), path
            assert "<html" in answer.text.lower(), path
            linked.update(urlsplit(urljoin(base + path, url)).path for url in links_of(answer.text))
        assert ticket["number"] in client.get(f"/t/{ticket['token']}").text

        assert any(url.endswith(".js") for url in linked) and any(url.endswith(".css") for url in linked)
        for lang in ("id", "en"):
            manifest = client.get(f"/static/audio/{lang}/manifest.json")
            assert manifest.status_code == 200, lang
            linked.update(
                f"/static/audio/{lang}/{clip['file']}" for clip in manifest.json()["clips"].values()
            )
        failed = {}
        for url in sorted(linked):
            answer = client.get(url)
            if answer.status_code != 200 or not answer.content:
                failed[url] = answer.status_code
        assert failed == {}
        assert sum(url.endswith(".mp3") for url in linked) >= 20
        health = client.get("/healthz").json()
        assert health == {"status": "ok", "version": installed.wheel.name.split("-")[1]}


def test_installed_server_refuses_to_start_without_a_clip(installed: Installed, tmp_path: Path) -> None:
    """A clip deleted from the installed package stops `serve` with one line naming it, exit non-zero."""
    site = subprocess.run(
        [
            str(installed.python),
            "-c",
            "import queue_server, pathlib; print(pathlib.Path(queue_server.__file__).parent)",
        ],
        cwd=tmp_path,  # never the checkout: `python -c` imports from the current folder first
        env=installed.env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    assert not Path(site).resolve().is_relative_to(REPO_ROOT), site
    audio = Path(site) / "web" / "static" / "audio" / "id"
    clip = json.loads((audio / "manifest.json").read_text(encoding="utf-8"))["clips"]["chime"]["file"]
    kept = (audio / clip).read_bytes()
    (audio / clip).unlink()
    try:
        done = installed.run("serve", "--host", HOST, "--port", str(free_port()), cwd=tmp_path)
    finally:
        (audio / clip).write_bytes(kept)  # the module's other tests share this venv
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"static/audio/id/{clip}" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # refused before it opened (and locked) a database
