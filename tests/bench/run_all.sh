#!/usr/bin/env bash
# Run every Antre benchmark and print a summary table. Options go to run_all.py
# (--quick for short runs, --only issue|broadcast|scale, --launcher auto|support|own).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python=python3
cd "$root"
exec "$python" tests/bench/run_all.py "$@"
