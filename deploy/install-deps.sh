#!/usr/bin/env bash
# Installs every Debian 12 package that building, running and testing Scribe needs.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsqlite3-dev
  # The PostgreSQL backend: libpq, and a server for its tests (deploy/postgres-test.sh).
  libpq-dev postgresql
  libhowardhinnant-date-dev tzdata
  libkainjow-mustache-dev
  libcmark-gfm-dev libcmark-gfm-extensions-dev
  libcli11-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libfaketime python3-jsonschema
  # deploy/check-deploy.sh: the Helm chart rendered and checked, compose.yaml parsed.
  python3-yaml
  # The sanitizer and fuzz build (deploy/test-sanitized.sh): clang, its sanitizer and
  # libFuzzer runtimes, and llvm-symbolizer for readable stack traces.
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
