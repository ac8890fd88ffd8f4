#!/usr/bin/env bash
# Builds Atrium and runs the demo: one server on the embedded SQLite database with a simulated
# fleet (Cisco endpoints, Polycom, SNMP systems and two bridges on 127.20.0.x) registered, polled
# and active; API on http://127.0.0.1:8080. State lives in ./demo-data (delete it to start
# afresh). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target atrium
exec build/atrium demo --data-dir "$PWD/demo-data" "$@"
