#!/usr/bin/env bash
# The scale-out tests (tests/scale) run a real redis-server (Debian's, Redis 6 or newer) on a
# free loopback port of their own. Install it when it is missing and we are allowed to.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
else
  echo "missing: redis-server (install Debian's package: apt-get install redis-server)" >&2
  exit 1
fi
