#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 900 = 15 minutes), JOBS at a
# time (default 1), and prints one summary line per target: runs, corpus size,
# crashes. Long runs stay out of .ci/run. Needs cargo-fuzz
# (`cargo install cargo-fuzz --locked`).
#
#   [JOBS=3] scripts/fuzz-all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-900}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(RUSTC_BOOTSTRAP=1 cargo fuzz list)
fi
scripts/fuzz-seed.sh > /dev/null
RUSTC_BOOTSTRAP=1 cargo fuzz build --release
export secs
mkdir -p target/fuzz-logs
run_one() {
  t=$1
  bin=fuzz/target/x86_64-unknown-linux-gnu/release/$t
  log=target/fuzz-logs/$t.log
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  start=$(date -u +%FT%TZ)
  status=ok
  "$bin" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    > "$log" 2>&1 || status="FAILED (see $log and fuzz/artifacts/$t/)"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  echo "$t: started $start, ${secs}s, $runs runs, corpus $(find "fuzz/corpus/$t" -type f | wc -l) files, $status"
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "${JOBS:-1}" -I{} bash -c 'run_one {}'
