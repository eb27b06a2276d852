"""`serve --config-dir`: a folder of office files served under /o/<id>, accounts added per office
with `user add --office`, and a bad file refused with one line before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.server import SMALL_OFFICE_TOML, free_port, run_cli, server_env, wait_for_health


def test_a_folder_of_offices_serves_each_under_its_id_with_its_own_accounts(tmp_path: Path) -> None:
    """Two office files, one officer added to one office: it logs in there and nowhere else."""
    conf = tmp_path / "offices"
    conf.mkdir()
    (conf / "kandangan.toml").write_text(SMALL_OFFICE_TOML, encoding="utf-8")
    (conf / "daha-utara.toml").write_text(SMALL_OFFICE_TOML.replace("Kantor Uji", "Kantor Daha"), "utf-8")
    added = run_cli(
        "user", "add", "budi", "--role", "officer", "--password-stdin", "--office", "kandangan",
        "--data-dir", "data", cwd=tmp_path, input_text="rahasia-1\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert (tmp_path / "data" / "kandangan.db").exists()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "queue_server", "serve", "--config-dir", str(conf), "--data-dir", "data",
         "--port", str(port)],
        cwd=tmp_path, env=server_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process)
        with httpx.Client(base_url=base, timeout=10) as http:
            names = {o["id"]: o["name"] for o in http.get("/api/v1/offices").json()}
            assert names == {"daha-utara": "Kantor Daha", "kandangan": "Kantor Uji"}
            budi = {"username": "budi", "password": "rahasia-1"}
            good = http.post("/o/kandangan/api/v1/login", json=budi)
            other = http.post("/o/daha-utara/api/v1/login", json=budi)
            assert good.status_code == 200 and other.status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert "/o/kandangan/" in output and "/o/daha-utara/" in output, "serve prints each office's address"


def test_a_bad_office_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    """The reason names the file and the key; nothing starts."""
    conf = tmp_path / "offices"
    conf.mkdir()
    (conf / "ok.toml").write_text(SMALL_OFFICE_TOML, encoding="utf-8")
    (conf / "broken.toml").write_text(SMALL_OFFICE_TOML.replace("capacity = ", "capacity = -"), "utf-8")
    result = run_cli("serve", "--config-dir", str(conf), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "broken.toml" in lines[0] and "office.capacity" in lines[0]
