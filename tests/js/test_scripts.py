"""The pure browser modules (board reducer, ticket wait text, announcer phrases) tested in node, no npm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize("script", ["test_board.js", "test_phrase.js", "test_checkin.js"])
def test_node_suite_passes(script: str) -> None:
    """node --test runs the script's cases; every one passes."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed for the browser-module tests (Debian: apt-get install nodejs)")
    result = subprocess.run(
        [node, "--test", str(HERE / script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
