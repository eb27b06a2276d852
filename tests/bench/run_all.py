"""Run every Antre benchmark, one fresh server each, and print a summary table.

Usage:  .venv/bin/python tests/bench/run_all.py [--quick] [--launcher auto|support|own]
        bash tests/bench/run_all.sh [same options]

Each benchmark's own report is printed as it finishes; its figures are also written as JSON
under bench-results/<timestamp>/ (ignored by git).  Exit status: 0 when every benchmark ran
(a missed target is reported, not an error), 1 when one failed to run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


@dataclass
class Run:
    name: str
    script: str
    args: list[str]
    quick_args: list[str]
    timeout: float = 900


RUNS = [
    Run(
        "issue (closed loop)",
        "bench_issue.py",
        ["--clients", "32", "--duration", "10", "--warmup", "3"],
        ["--clients", "32", "--duration", "4", "--warmup", "1"],
    ),
    Run(
        "issue (open loop 2000/s)",
        "bench_issue.py",
        ["--clients", "32", "--duration", "10", "--warmup", "3", "--rate", "2000"],
        ["--clients", "32", "--duration", "4", "--warmup", "1", "--rate", "2000"],
    ),
    Run(
        "broadcast (websockets asyncio client, 2 procs)",
        "bench_broadcast.py",
        ["--sockets", "1000", "--rounds", "50", "--procs", "2"],
        ["--sockets", "1000", "--rounds", "15", "--procs", "2"],
    ),
    Run(
        "broadcast (websockets sans-I/O client, 1 proc)",
        "bench_broadcast.py",
        ["--sockets", "1000", "--rounds", "50", "--procs", "1", "--receiver", "sansio"],
        ["--sockets", "1000", "--rounds", "15", "--procs", "1", "--receiver", "sansio"],
    ),
    Run(
        "scale (4 workers + redis, 20 offices)",
        "bench_scale.py",
        [],
        ["--quick"],
        timeout=2400,
    ),
]


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def rows_for(name: str, res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    if res.get("bench") == "issue":
        lat = res.get("latency_ms", {})
        closed = res.get("mode") == "closed loop"
        tps = float(res.get("tickets_per_s", 0))
        rows.append(
            (
                f"{name}: tickets/s",
                f"{tps:.0f}",
                ">= 2000" if closed else "(offered 2000)",
                _verdict(tps >= res["target_tps"]) if closed else "-",
            )
        )
        p50, p99 = lat.get("p50", float("nan")), lat.get("p99", float("nan"))
        rows.append(
            (
                f"{name}: latency p50 / p99",
                f"{p50:.1f} / {p99:.1f} ms",
                "p99 <= 30 ms",
                _verdict(p99 <= res["target_p99_ms"]),
            )
        )
        rows.append(
            (
                f"{name}: cpu server / client",
                f"{res.get('server_cpu_pct', 0):.0f}% / {res.get('client_cpu_pct', 0):.0f}%",
                "",
                "-",
            )
        )
    elif res.get("bench") == "broadcast":
        last = res.get("called_last_ms", {})
        p50, p99 = last.get("p50", float("nan")), last.get("p99", float("nan"))
        rows.append(
            (
                f"{name}: call-next -> last socket p50 / p99",
                f"{p50:.1f} / {p99:.1f} ms",
                "p99 <= 100 ms",
                _verdict(p99 <= res["target_p99_ms"]),
            )
        )
        rss = float(res.get("server_rss_open_mb", float("nan")))
        rows.append(
            (
                f"{name}: server RSS, sockets open",
                f"{rss:.1f} MB",
                "<= 150 MB",
                _verdict(rss <= res["target_rss_mb"]),
            )
        )
        if res.get("failures"):
            rows.append((f"{name}: failures", str(len(res["failures"])), "0", "MISS"))
    elif res.get("bench") == "scale":
        rows += _scale_rows(name, res)
    return rows


def _scale_rows(name: str, res: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    closed = res.get("issue", {}).get("closed")
    if closed:
        tps, p99 = float(closed["tickets_per_s"]), float(closed["latency_ms"].get("p99", float("nan")))
        rows.append((f"{name}: issue tickets/s", f"{tps:.0f}", ">= 2000", _verdict(tps >= 2000)))
        rows.append((f"{name}: issue p99", f"{p99:.1f} ms", "<= 50 ms", _verdict(p99 <= 50)))
    regency = res.get("regency", {})
    rounds, sockets, load = regency.get("rounds"), regency.get("sockets"), regency.get("load")
    if rounds:
        d99 = float(rounds["display_last_ms"].get("p99", float("nan")))
        p99 = float(rounds["phone_ms"].get("p99", float("nan")))
        rows.append((f"{name}: call -> last display p99", f"{d99:.1f} ms", "<= 200 ms", _verdict(d99 <= 200)))
        rows.append(
            (f"{name}: call -> changed phones p99", f"{p99:.1f} ms", "<= 1000 ms", _verdict(p99 <= 1000))
        )
    if sockets:
        kb = float(sockets["kb_per_socket"])
        rows.append((f"{name}: RSS per open socket", f"{kb:.1f} KB", "<= 30 KB", _verdict(kb <= 30)))
    if load:
        alone, worst = float(load["median_alone_p99_ms"]), float(load["median_all_worst_p99_ms"])
        rows.append(
            (
                f"{name}: p99 alone / worst of 20",
                f"{alone:.0f} / {worst:.0f} ms",
                "worst <= alone",
                _verdict(worst <= alone),
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="shorter runs (a smoke check)")
    p.add_argument("--launcher", choices=["auto", "support", "own"], default="auto")
    p.add_argument("--only", choices=["issue", "broadcast", "scale"], help="run one family only")
    args = p.parse_args(argv)
    out_dir = REPO_ROOT / "bench-results" / time.strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    table: list[tuple[str, str, str, str]] = []
    failed = False
    for i, run in enumerate(RUNS):
        if args.only and not run.script.startswith(f"bench_{args.only}"):
            continue
        json_path = out_dir / f"{i}-{run.script.removesuffix('.py')}.json"
        cmd = [
            sys.executable,
            str(HERE / run.script),
            *(run.quick_args if args.quick else run.args),
            "--launcher",
            args.launcher,
            "--json",
            str(json_path),
        ]
        print(f"\n=== {run.name}: {' '.join(cmd[1:])}", flush=True)
        try:
            proc = subprocess.run(cmd, cwd=REPO_ROOT, timeout=run.timeout, check=False)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = -1
        if json_path.exists():
            table += rows_for(run.name, json.loads(json_path.read_text()))
        if code != 0 or not json_path.exists():
            failed = True
            table.append((f"{run.name}: run", f"exit {code}", "exit 0", "FAIL"))
    width = max((len(r[0]) for r in table), default=10)
    print(f"\n=== summary (JSON in {out_dir.relative_to(REPO_ROOT)})")
    print(f"{'figure':<{width}}  {'measured':>18}  {'target':>16}  verdict")
    for fig, measured, target, verdict in table:
        print(f"{fig:<{width}}  {measured:>18}  {target:>16}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
