#!/usr/bin/env bash
# Scan benchmark: `customs scan` and `guarddog pypi scan` on the same archives
# in one run, with the ratio and customs' peak memory. Not a test.
#
#   GUARDDOG=/path/to/guarddog scripts/bench-scan.sh ARCHIVE...
#
# (guarddog is installable with pip into a throwaway virtualenv.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/customs
gd=${GUARDDOG:-guarddog}
printf '%-32s %10s %10s %8s %9s\n' archive customs guarddog ratio "peak MB"
for f in "$@"; do
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o /tmp/customs-bench-rss "$bin" scan --format json --no-config "$f" > /dev/null || true
  t1=$(date +%s.%N)
  "$gd" pypi scan "$f" > /dev/null 2>&1 || true
  t2=$(date +%s.%N)
  c=$(echo "$t1 - $t0" | bc -l); g=$(echo "$t2 - $t1" | bc -l)
  printf '%-32s %9.2fs %9.2fs %7.0fx %9d\n' "$(basename "$f")" "$c" "$g" "$(echo "$g / $c" | bc -l)" $(( $(cat /tmp/customs-bench-rss) / 1024 ))
done
