#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (unit, end-to-end, benchmark smoke run)
# with a throwaway PostgreSQL (deploy/postgres-test.sh) for the PostgreSQL backend's cases,
# then the unit suite under AddressSanitizer + UndefinedBehaviorSanitizer and every fuzz
# target for a bounded time (deploy/test-sanitized.sh). SCRIBE_CI_SANITIZE=0 skips that
# second part for a quicker run by hand; CI always runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/build.sh
# A throwaway PostgreSQL for the PostgreSQL backend's tests (they fail under CI=true
# without it), stopped however the tests end.
eval "$(bash deploy/postgres-test.sh start)"
trap 'bash deploy/postgres-test.sh stop "$SCRIBE_TEST_POSTGRES_DIR"' EXIT
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 300
# The deployment files (Dockerfile, compose, systemd unit, Helm chart), as far as this
# machine can check them, in seconds; in CI always, elsewhere with CI=true.
if [ "${CI:-}" = "true" ]; then
  bash deploy/check-deploy.sh build/scribe
fi

if [ "${SCRIBE_CI_SANITIZE:-1}" = "0" ] && [ "${CI:-}" != "true" ]; then
  echo "sanitizer build and fuzzing skipped (SCRIBE_CI_SANITIZE=0)"
  exit 0
fi
bash deploy/test-sanitized.sh
