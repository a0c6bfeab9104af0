#!/usr/bin/env bash
# Runs every fuzz target of a SCRIBE_FUZZ=ON build for a bounded time on a scratch copy of
# its seed corpus (fuzz/corpus/<target>, with fuzz/dict/<target>.dict when there is one),
# so the repository is never modified, as many at once as there are cores (SCRIBE_FUZZ_JOBS).
# Prints each target's executions, rate and final corpus size; exits non-zero when
# any target crashed, leaked, hit undefined behaviour or timed out, and keeps the input
# that did it (a reproducer: `build-asan/fuzz/fuzz_<target> <file>`) under $SCRIBE_FUZZ_ARTIFACTS
# (default: a fuzz-artifacts directory in the build directory).
#
#   fuzz/run.sh [build-dir] [seconds-per-target] [target...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build-asan}"
seconds="${2:-30}"
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(form slash_command grammar action_grammar time_parse slack_commands slack_events slack_interactivity
           matrix_message matrix_transactions draft_render review template tracker_webhooks)
fi
[ -d "$build/fuzz" ] || { echo "no fuzz targets in $build (configure with -DSCRIBE_FUZZ=ON)" >&2; exit 2; }
build="$(cd "$build" && pwd)"
artifacts="${SCRIBE_FUZZ_ARTIFACTS:-$build/fuzz-artifacts}"
mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/scribe-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# Leaks count as failures; a report ends the run; stacks are symbolized when llvm-symbolizer
# is installed.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target: its scratch corpus, its log, and a result line in $scratch/<t>.result.
run_one() {
  local t="$1" bin="$build/fuzz/fuzz_$1" corpus="$scratch/$1" log="$scratch/$1.log" status=0
  mkdir -p "$corpus"
  cp -r "$here/corpus/$t/." "$corpus/"
  local args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
              -max_len=16384 -artifact_prefix="$artifacts/$t-")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  (cd "$scratch" && TMPDIR="$scratch" "$bin" "${args[@]}" "$corpus") >"$log" 2>&1 || status=$?
  local execs rate units
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  units="$(find "$corpus" -type f | wc -l)"
  printf '%-22s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$units" \
    "$([ "$status" -eq 0 ] && echo ok || echo "FAILED (exit $status)")" >"$scratch/$t.result"
  return "$status"
}

for t in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "missing $build/fuzz/fuzz_$t (configure with -DSCRIBE_FUZZ=ON)" >&2; exit 2; }
done

# Each target is one process on one core: run as many at once as there are cores
# (SCRIBE_FUZZ_JOBS), each still for its full time.
jobs_max="${SCRIBE_FUZZ_JOBS:-$(nproc)}"
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
wait || true

failed=()
printf '%-22s %12s %10s %8s %s\n' target executions exec/s corpus result
for t in "${targets[@]}"; do
  cat "$scratch/$t.result"
  if ! grep -q ' ok$' "$scratch/$t.result"; then
    # The report: the sanitizer's or the broken invariant, with the reproducer's name.
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|broken invariant|deadly signal|Test unit written' \
      "$scratch/$t.log" | head -80 >&2 || tail -40 "$scratch/$t.log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs kept in $artifacts)" >&2
  exit 1
fi
