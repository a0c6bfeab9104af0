#!/usr/bin/env bash
# Builds `scribe` and both test suites with ThreadSanitizer (clang 14) in build-tsan/ and
# runs each once: the unit suite (the store's writer queue, pools, caches with their own
# threads) and the end-to-end suite, where every test starts the instrumented server, so its
# threads (listeners, writer, readers, outbox, scheduler) run under TSan against real
# requests. Arguments go to both (e.g. --gtest_filter=...). Any report fails the run.
# Not part of .ci/run (see README, Tests: the cost).
# Needs clang and its TSan runtime (Debian: clang-14, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
CC=clang CXX=clang++ cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSCRIBE_SANITIZE=thread -DSCRIBE_BUILD_BENCH=OFF
cmake --build build-tsan --parallel 2 --target scribe scribe_e2e_tests scribe_unit_tests
reports="$(mktemp -d)"
# The server writes its reports to files (its stderr is the test's log); exitcode makes a
# report fail the test process itself too.
status=0
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp log_path=$reports/tsan exitcode=66"
./build-tsan/tests/scribe_unit_tests "$@" || status=$?
./build-tsan/tests/scribe_e2e_tests "$@" || status=$?
# The files also hold the runtime's own notes ("Symbolizer buffer too small" for Boost's
# long names); a report starts with "WARNING: ThreadSanitizer:".
if compgen -G "$reports/tsan*" > /dev/null && grep -q "WARNING: ThreadSanitizer:" "$reports"/tsan*; then
  cat "$reports"/tsan*
  echo "ThreadSanitizer reported races (above)" >&2
  exit 1
fi
echo "ThreadSanitizer: no reports"
# Tests that time things (connection limits, slow clients) can fail under TSan's slowdown
# on a busy machine; that is not a race, but it fails the run too.
exit "$status"
