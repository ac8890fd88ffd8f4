#!/usr/bin/env bash
# Builds Atrium and runs every test. Installs what it needs (Debian 12, as root) first.
# The tests start their own PostgreSQL servers (as the postgres user) on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
ctest --preset release "$@"
