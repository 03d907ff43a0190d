#!/usr/bin/env bash
# Index benchmark: a cold and a warm `customs audit` of ~300 pins against a
# parallel fetch of the same JSON documents with curl (--parallel, HTTP/2), in
# one run, with peak memory. Not a test: prints figures for a closing note.
#
#   INDEX_URL=https://<index>/simple scripts/bench-index.sh
#
# The pins are the registry packages of testdata/lockfiles/uv/large/uv.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${INDEX_URL:?set INDEX_URL to a Simple index URL, e.g. https://host/simple}"
cargo build --release --quiet
bin=target/release/customs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" audit --offline --no-scan --no-config --format json testdata/lockfiles/uv/large/uv.lock 2>/dev/null \
  | python3 -c 'import json,sys; [print(p["name"] + "==" + p["version"]) for p in json.load(sys.stdin)["packages"] if p["source"]["kind"] == "registry"]' \
  > "$work/requirements.txt"
n=$(wc -l < "$work/requirements.txt")
json_base="${INDEX_URL%/}"; json_base="${json_base%/simple}/pypi"
sed -E "s#^([^=]+)==.*#url = \"$json_base/\1/json\"\noutput = \"/dev/null\"#" "$work/requirements.txt" > "$work/curl.cfg"

t0=$(date +%s.%N)
curl --silent --parallel --parallel-max 16 --http2 --config "$work/curl.cfg"
t1=$(date +%s.%N)
curl_s=$(echo "$t1 - $t0" | bc)

run() { # label cache-dir
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" audit --no-scan --no-config --index-url "$INDEX_URL" \
    --cache-dir "$2" --format json "$work/requirements.txt" > "$work/$1.json" 2>/dev/null || true
  read -r secs kb < "$work/time"
  unknown=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["unknown"])' "$work/$1.json")
  echo "$secs $kb $unknown"
}
read -r cold_s cold_kb cold_unknown < <(run cold "$work/cache")
read -r warm_s warm_kb warm_unknown < <(run warm "$work/cache")
printf 'pins: %s\n' "$n"
printf 'curl --parallel --http2 (16 streams): %.2f s\n' "$curl_s"
printf 'customs cold: %.2f s (%.2fx curl), peak %d MB, %s unknown\n' "$cold_s" "$(echo "$cold_s / $curl_s" | bc -l)" $((cold_kb / 1024)) "$cold_unknown"
printf 'customs warm: %.2f s (%.1fx faster than cold), peak %d MB, %s unknown\n' "$warm_s" "$(echo "$cold_s / $warm_s" | bc -l)" $((warm_kb / 1024)) "$warm_unknown"
