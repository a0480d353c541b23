#!/usr/bin/env bash
# Fuzzes the event-stream parser, then runs the differential check against eventsource-parser.
#
#   scripts/fuzz.sh                    60 s of libFuzzer on fuzz target `parser`, then 20,000 differential cases
#   FUZZ_SECONDS=600 scripts/fuzz.sh   longer fuzzing; DIFF_CASES and DIFF_SEED go to scripts/differential.mjs
#
# Needs the nightly toolchain (cargo-fuzz builds with -Zsanitizer=address). New corpus entries land in
# fuzz/corpus/parser/ next to the committed seed-* files and stay untracked; a crash is saved under
# fuzz/artifacts/parser/ and replayed with `cargo +nightly fuzz run parser <file>`.
set -uo pipefail
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked || exit 1
fi

seconds="${FUZZ_SECONDS:-60}"
log="$(mktemp "${TMPDIR:-/tmp}/fuzz-parser.XXXXXX")"
trap 'rm -f "$log"' EXIT

echo "== cargo +nightly fuzz run parser (${seconds} s)"
(cd fuzz && cargo +nightly fuzz run parser -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -dict=parser.dict -print_final_stats=1) 2>&1 | tee "$log"
fuzz_status=${PIPESTATUS[0]}

# libFuzzer ends a clean run with "Done N runs in S second(s)"; print_final_stats adds stat::number_of_executed_units.
done_line="$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1)"
executions="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)"

echo "== differential check against eventsource-parser"
node scripts/differential.mjs
diff_status=$?

echo "== summary"
if [ "$fuzz_status" -ne 0 ]; then
  echo "fuzz: FAILED (exit $fuzz_status) after ${executions:-an unknown number of} executions; see fuzz/artifacts/parser/"
else
  echo "fuzz: ${done_line:-no final stats line} (${executions:-?} executions, no crash)"
fi
[ "$diff_status" -eq 0 ] && echo "differential: OK" || echo "differential: FAILED (exit $diff_status)"
[ "$fuzz_status" -eq 0 ] && [ "$diff_status" -eq 0 ]
