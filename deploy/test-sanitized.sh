#!/usr/bin/env bash
# The second half of CI (deploy/test.sh runs it after the ordinary build and tests), kept
# small enough that the whole of CI stays well under 30 minutes on 2 cores with a cold
# compiler cache: one clang build in build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer
# and libFuzzer's coverage on the libraries, of only the unit-test binary and the fuzz
# targets (the libraries are static and shared by all of them, so each fuzz target adds
# one object and a link). The unit suite runs under the sanitizers, then every fuzz target
# for SCRIBE_FUZZ_SECONDS (default 20) on a scratch copy of its seed corpus, two at a time.
# Not built here: the end-to-end suite and the `scribe` binary it starts, and the
# benchmarks (README, "Sanitizers and fuzzing" says why). Any sanitizer report, leak,
# broken invariant or crash fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
jobs="$(nproc)"
# -O0 with line tables only: clang compiles this tree with ASan about twice as fast at -O0
# as at -O1 (commands/handler.cpp: 21 s against 46 s), which matters more on a 2-core CI
# machine than the fuzzers' speed; stack traces still name files and lines.
# SCRIBE_SANITIZE_OPT=-O1 for longer fuzzing runs by hand.
cmake -S . -B build-asan -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="${SCRIBE_SANITIZE_OPT:--O0} -gline-tables-only" -DSCRIBE_WERROR="$werror" \
  -DSCRIBE_SANITIZE=address,undefined -DSCRIBE_FUZZ=ON -DSCRIBE_BUILD_BENCH=OFF >/dev/null
targets=(form slash_command grammar action_grammar time_parse slack_commands slack_events slack_interactivity
         matrix_message matrix_transactions draft_render review template tracker_webhooks)
cmake --build build-asan --parallel "$jobs" --target scribe_unit_tests "${targets[@]/#/fuzz_}"

# Leak checking works in this environment (LeakSanitizer needs ptrace-like access, which
# some containers deny; then set ASAN_OPTIONS=detect_leaks=0 and say so).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# The whole unit suite in `jobs` processes (gtest's shards), not one process per test as
# ctest runs it: under ASan a process's start and exit (shadow memory, the leak check at
# exit) cost ~0.23 s, which over the suite's ~860 tests was half of this stage's CPU (200 of
# 386 s). Same tests (ctest -L unit is this binary's tests), same sanitizer options; a leak
# is reported when its shard exits, naming the allocation's stack; a report or a failed test
# fails its shard, whose output is then shown. SCRIBE_UNIT_TIMEOUT bounds a shard (seconds).
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, $jobs shards"
unit_pids=()
for ((shard = 0; shard < jobs; ++shard)); do
  (cd build-asan/tests && GTEST_TOTAL_SHARDS="$jobs" GTEST_SHARD_INDEX="$shard" GTEST_BRIEF=1 \
     timeout "${SCRIBE_UNIT_TIMEOUT:-1200}" ./scribe_unit_tests --gtest_also_run_disabled_tests >"unit-shard-$shard.log" 2>&1) &
  unit_pids+=($!)
done
unit_failed=0
for ((shard = 0; shard < jobs; ++shard)); do
  if wait "${unit_pids[$shard]}"; then
    tail -n 2 "build-asan/tests/unit-shard-$shard.log"
  else
    echo "unit shard $shard of $jobs failed:"
    cat "build-asan/tests/unit-shard-$shard.log"
    unit_failed=1
  fi
done
[ "$unit_failed" = 0 ] || exit 1

echo "== fuzz targets, ${SCRIBE_FUZZ_SECONDS:-20} s each, $jobs at a time"
SCRIBE_FUZZ_JOBS="${SCRIBE_FUZZ_JOBS:-$jobs}" bash fuzz/run.sh build-asan "${SCRIBE_FUZZ_SECONDS:-20}" "${targets[@]}"
