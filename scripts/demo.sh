#!/usr/bin/env bash
# Builds Atrium and runs one server on the embedded SQLite database, API on 127.0.0.1:8080.
# State lives in ./demo-data (delete it to start afresh). Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target atrium

data="$PWD/demo-data"
config="$data/atrium.toml"
mkdir -p "$data"
if [[ ! -f "$config" ]]; then
  build/atrium init --config "$config" --data-dir "$data" --name "Atrium demo"
fi
echo "Atrium is starting on http://127.0.0.1:8080 (try: curl http://127.0.0.1:8080/api/v1/systems)"
exec build/atrium serve --config "$config"
