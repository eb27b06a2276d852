"""Summarize a py-spy collapsed-stack profile (``py-spy record -f raw``) as percentage tables.

Usage:  .venv/bin/python tests/bench/profile_summary.py bench-results/issue.txt [--top 25]

Prints, per function (``name (file)``, line numbers merged):
* self %: share of samples with that function as the innermost Python frame;
* total %: share of samples with that function anywhere on the stack;
and the same total % restricted to the server's own code (``queue_server/``).
Percentages are of all samples (idle included when recorded with ``--idle``, as the
benchmarks do), and also of the busy samples (those whose innermost frame is not the
event loop waiting for I/O).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]*)(?::\d+)?\)$")
IDLE_LEAVES = (
    "select (selectors.py)",
    "run (uvloop/__init__.py)",
    "Runner.run (asyncio/runners.py)",
    "run_forever (asyncio/base_events.py)",
    "_run_once (asyncio/base_events.py)",
    "run_until_complete (asyncio/base_events.py)",
    "wait (threading.py)",
    "_worker (concurrent/futures/thread.py)",
    "epoll_wait (libc.so.6)",
    "epoll_pwait (libc.so.6)",
)
WORKER_ROOT = "Thread._bootstrap (threading.py)"


def short_file(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3.", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = path.split("/", 1)[1] if "/" in path else path
    return path


def frame_key(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    return f"{m.group('name')} ({short_file(m.group('file'))})"


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.rstrip()
        if not line or " " not in line:
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame_key(f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        stacks.append((frames, int(count)))
    return stacks


def is_idle(frames: list[str]) -> bool:
    return not frames or frames[-1] in IDLE_LEAVES


def summarize(stacks: list[tuple[list[str], int]], top: int, all_threads: bool = False) -> str:
    everything = sum(c for _, c in stacks)
    if not all_threads:
        # the event loop's (main) thread only: worker threads start at Thread._bootstrap
        stacks = [(f, c) for f, c in stacks if WORKER_ROOT not in f]
    total = sum(c for _, c in stacks)
    if not total:
        return "no samples"
    busy = sum(c for f, c in stacks if not is_idle(f))
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    incl_busy: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            self_c[frames[-1]] += count
        idle = is_idle(frames)
        for key in set(frames):
            incl[key] += count
            if not idle:
                incl_busy[key] += count
    scope = "all threads" if all_threads else "event-loop (main) thread only"
    out = [
        f"{scope}: {total} of {everything} samples",
        f"busy (not waiting in the event loop) {busy} = {100 * busy / total:.1f}%",
        "",
    ]

    def table(title: str, counter: Counter[str], only: str | None = None, inclusive: bool = False) -> None:
        out.append(f"{title:<82} {'% all':>7} {'% busy':>7}")
        shown = 0
        for key, count in counter.most_common():
            if only is not None and only not in key:
                continue
            in_busy = incl_busy[key] if inclusive else (0 if key in IDLE_LEAVES else count)
            busy_pct = f"{100 * in_busy / max(busy, 1):7.1f}" if in_busy else f"{'-':>7}"
            out.append(f"  {key[:80]:<80} {100 * count / total:7.1f} {busy_pct}")
            shown += 1
            if shown >= top:
                break
        out.append("")

    table("self time (innermost Python frame)", self_c)
    table("total time (anywhere on the stack)", incl, inclusive=True)
    table("total time, server code only", incl, only="queue_server/", inclusive=True)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("profile", type=Path, help="py-spy raw (collapsed) output")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--all-threads", action="store_true", help="count worker threads too")
    args = p.parse_args(argv)
    print(summarize(load(args.profile), args.top, args.all_threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
