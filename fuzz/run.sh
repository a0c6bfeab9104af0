#!/usr/bin/env bash
# Runs every fuzz target of a SCRIBE_FUZZ=ON build for a bounded time on a scratch copy of
# its seed corpus (fuzz/corpus/<target>, with fuzz/dict/<target>.dict when there is one),
# so the repository is never modified. Prints each target's executions; exits non-zero when
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
           matrix_message matrix_transactions draft_render)
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

failed=()
printf '%-22s %12s %10s %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "missing $bin (configure with -DSCRIBE_FUZZ=ON)" >&2; exit 2; }
  corpus="$scratch/$t"
  mkdir -p "$corpus"
  cp -r "$here/corpus/$t/." "$corpus/"
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -max_len=16384 -artifact_prefix="$artifacts/$t-")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  log="$scratch/$t.log"
  status=0
  (cd "$scratch" && TMPDIR="$scratch" "$bin" "${args[@]}" "$corpus") >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  if [ "$status" -eq 0 ]; then
    printf '%-22s %12s %10s ok\n' "$t" "${execs:-?}" "${rate:-?}"
  else
    printf '%-22s %12s %10s FAILED (exit %s)\n' "$t" "${execs:-?}" "${rate:-?}" "$status"
    # The report: the sanitizer's or the broken invariant, with the reproducer's name.
    grep -E -A40 '^==[0-9]+==ERROR|runtime error|broken invariant|deadly signal|Test unit written' "$log" | head -80 >&2 || tail -40 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs kept in $artifacts)" >&2
  exit 1
fi
