#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, end-to-end, benchmark smoke run),
# then the unit suite under AddressSanitizer + UndefinedBehaviorSanitizer and every fuzz
# target for a bounded time (deploy/test-sanitized.sh). SCRIBE_CI_SANITIZE=0 skips that
# second part for quick local runs; CI always runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 300

if [ "${SCRIBE_CI_SANITIZE:-1}" = "0" ]; then
  echo "SCRIBE_CI_SANITIZE=0: sanitizer build and fuzzing skipped"
  exit 0
fi
bash deploy/test-sanitized.sh
