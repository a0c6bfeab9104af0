#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, end-to-end, benchmark smoke run)
# with a throwaway PostgreSQL (deploy/postgres-test.sh) for the PostgreSQL backend's cases,
# then the unit suite under AddressSanitizer + UndefinedBehaviorSanitizer and every fuzz
# target for a bounded time (deploy/test-sanitized.sh) when SCRIBE_CI_SANITIZE=1. That
# second part is off by default until its time on a 2-core CI machine has been measured
# (README, "Sanitizers and fuzzing"); run it with SCRIBE_CI_SANITIZE=1 bash deploy/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
# A throwaway PostgreSQL for the PostgreSQL backend's tests (they fail under CI=true
# without it), stopped however the tests end.
eval "$(bash deploy/postgres-test.sh start)"
trap 'bash deploy/postgres-test.sh stop "$SCRIBE_TEST_POSTGRES_DIR"' EXIT
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 300

if [ "${SCRIBE_CI_SANITIZE:-0}" = "0" ]; then
  echo "sanitizer build and fuzzing skipped (SCRIBE_CI_SANITIZE=1 runs them)"
  exit 0
fi
bash deploy/test-sanitized.sh
