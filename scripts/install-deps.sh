#!/usr/bin/env bash
# Installs the Debian 12 packages Atrium needs to build, test and run.
# Idempotent: packages already present are left alone; apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  clang clang-format libclang-rt-14-dev
  libboost1.81-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev
  libspdlog-dev libfmt-dev libpugixml-dev libsqlite3-dev libpq-dev libssl-dev
  libsnmp-dev snmp snmptrapd zlib1g-dev libargon2-dev libldap-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  postgresql-15 postgresql-client-15
  nginx libnginx-mod-stream
  slapd ldap-utils
  procps iproute2 util-linux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages and not root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The Debian postgresql package creates and starts a cluster on install, and nginx starts the
  # system service on port 80; tests start their own of both (nginx as a child on free loopback
  # ports, from deploy/nginx/atrium.conf) and use neither.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
