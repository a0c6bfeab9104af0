#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, end-to-end, benchmark smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 300
