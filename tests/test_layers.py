"""The import table of ../shared/docs/architecture.md, checked by importing each package
in a fresh interpreter and walking what its modules import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "queue_server"

# package -> the packages of ours it may import (besides itself), and the third-party roots it may use.
ALLOWED: dict[str, tuple[set[str], set[str]]] = {
    "domain": (set(), set()),
    "wire": ({"domain"}, {"orjson", "websockets"}),
    "store": ({"domain", "wire"}, {"sqlite_utils"}),
    "bus": ({"wire"}, {"redis", "orjson"}),
    "engine": ({"domain", "store", "bus", "wire"}, {"orjson", "httpx"}),
    "reports": ({"store", "domain"}, {"orjson"}),
    "web": (
        {"engine", "reports", "bus", "domain", "wire", "config"},
        {"starlette", "jinja2", "segno", "escpos", "uvicorn", "websockets", "orjson"},
    ),
    "config": ({"domain"}, set()),
}
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _files(package: str) -> list[Path]:
    single = PACKAGE / f"{package}.py"
    return [single] if single.exists() else sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_architecture_allows(package: str) -> None:
    """No module of a package imports a package of ours or a library its row does not list."""
    ours, libraries = ALLOWED[package]
    problems = []
    for path in _files(package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "queue_server":
                inner = parts[1] if len(parts) > 1 else package
                if inner not in ours | {package, "__version__"}:
                    problems.append(f"{path.name}: {name}")
            elif parts[0] not in STDLIB and parts[0] not in libraries:
                problems.append(f"{path.name}: {name}")
    assert not problems, f"{package} imports what architecture.md does not allow: {sorted(set(problems))}"


def test_importing_the_domain_loads_no_third_party_module() -> None:
    """`import queue_server.domain.*` pulls in the standard library only (the rules stay pure)."""
    code = (
        "import sys\nbefore = set(sys.modules)\nimport pkgutil, importlib, queue_server.domain as d\n"
        "for m in pkgutil.iter_modules(d.__path__):\n"
        "    importlib.import_module('queue_server.domain.' + m.name)\n"
        "std = set(sys.stdlib_module_names)\n"
        "new = {n.split('.')[0] for n in set(sys.modules) - before}\n"
        "print(sorted(n for n in new - std if n != 'queue_server' and not n.startswith('_sysconfigdata')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"the domain loaded third-party modules: {out}"


def test_the_web_never_reaches_the_store() -> None:
    """Web code talks to the engine; storage stays behind it (architecture.md)."""
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in _files("web")
        for name in _imports(path)
        if name.startswith("queue_server.store")
    ]
    assert not offenders, offenders
