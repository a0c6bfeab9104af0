#!/usr/bin/env bash
# The second half of CI (deploy/test.sh runs it after the ordinary build and tests): one
# clang build in build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer on every
# target and libFuzzer's coverage on the libraries. In it the whole unit and end-to-end
# suite runs (the `scribe` binary the end-to-end tests start is sanitized too), then every
# fuzz target for SCRIBE_FUZZ_SECONDS (default 30) on a scratch copy of its seed corpus.
# Any sanitizer report, leak, broken invariant or crash fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
# -O1 with line tables only: a quicker build than -O2 -g, with stack traces that still
# name files and lines. Benchmarks measure nothing useful under sanitizers: not built.
cmake -S . -B build-asan -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DSCRIBE_WERROR="$werror" \
  -DSCRIBE_SANITIZE=address,undefined -DSCRIBE_FUZZ=ON -DSCRIBE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan --parallel "$(nproc)"

# Leak checking works in this environment (LeakSanitizer needs ptrace-like access, which
# some containers deny; then set ASAN_OPTIONS=detect_leaks=0 and say so).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "== unit and end-to-end tests under AddressSanitizer + UndefinedBehaviorSanitizer"
ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)" --timeout 600

echo "== fuzz targets, ${SCRIBE_FUZZ_SECONDS:-30} s each"
bash fuzz/run.sh build-asan "${SCRIBE_FUZZ_SECONDS:-30}"
