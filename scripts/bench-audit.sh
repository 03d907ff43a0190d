#!/usr/bin/env bash
# Audit benchmark: customs against a parallel HTTP/2 fetch (curl --parallel)
# of the same bytes, side by side in one run, with peak memory. Not a test:
# it prints figures for a closing note.
#
#   INDEX_URL=https://<index>/simple scripts/bench-audit.sh [LOCKFILE]
#
# Rows:
#   - index documents: `customs audit --no-scan` (cold, fresh cache) against
#     curl fetching the documents it asks for: each project's JSON document
#     and its Simple API listing (the provenance check's);
#   - archives: `customs audit` with the scan (cold) against curl fetching
#     the archives the scan reads (the report's `scan.archives`), with the
#     bytes those are next to the bytes of every file the lockfile's releases
#     have;
#   - warm: the same audit again on the same cache.
# Then the cold scan's CPU time, and that time spread over every core: how
# fast the scan could be on this machine however fast the link.
# LOCKFILE defaults to testdata/lockfiles/uv/large/uv.lock. Knobs:
# CUSTOMS=/path/to/customs (skip the build), STREAMS (curl's parallel
# streams, 16), RANGE_READS_OVER=SIZE (the scan reads wheels above SIZE by
# range requests: the bytes fetched are printed next to those wheels' size).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${INDEX_URL:?set INDEX_URL to a Simple index URL, e.g. https://host/simple}"
INDEX_URL=${INDEX_URL%/}
lockfile=${1:-testdata/lockfiles/uv/large/uv.lock}
streams=${STREAMS:-16}
if [[ -z ${CUSTOMS:-} ]]; then
  cargo build --release --quiet
  CUSTOMS=target/release/customs
fi
CUSTOMS=$(realpath "$CUSTOMS")
work=$(mktemp -d)
if [[ -z ${KEEP:-} ]]; then trap 'rm -rf "$work"' EXIT; else echo "work: $work" >&2; fi
json_base="${INDEX_URL%/simple}/pypi"
# The project's lockfiles record the example index (index.example): a copy
# records INDEX_URL instead, so the run asks the index being measured.
copy="$work/$(basename "$lockfile")"
sed "s#https://index.example/simple#$INDEX_URL#g" "$lockfile" > "$copy"
lockfile=$copy
ranged=()
if [[ -n ${RANGE_READS_OVER:-} ]]; then ranged=(--range-reads-over "$RANGE_READS_OVER"); fi

timed() { # label cmd... -> "seconds peak-KiB user-s system-s" in $work/label.time; stdout to $work/label.out
  local label=$1
  shift
  /usr/bin/time -f "%e %M %U %S" -o "$work/$label.time" "$@" > "$work/$label.out" 2> "$work/$label.err" || true
}

curl_all() { # config -> seconds and bytes
  local t0 t1
  t0=$(date +%s.%N)
  curl --silent --show-error --parallel --parallel-max "$streams" --http2 \
    --write-out '%{size_download}\n' --config "$1" > "$work/curl.sizes" 2> "$work/curl.err" || true
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $(awk '{s += $1} END {print s + 0}' "$work/curl.sizes")"
}

# --- index documents: cold audit without the scan, then curl of the same documents.
timed noscan "$CUSTOMS" audit --no-scan --no-advisories --no-config --index-url "$INDEX_URL" \
  --cache-dir "$work/cache-noscan" --format json "$lockfile"
python3 - "$work/noscan.out" "$INDEX_URL" "$json_base" > "$work/docs.cfg" <<'EOF'
import json, sys
report, simple, pypi = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
# Once: a header option applies to every URL of the config.
print('header = "Accept: application/vnd.pypi.simple.v1+json, application/json;q=0.9"')
for p in report["packages"]:
    if p["source"]["kind"] != "registry":
        continue
    print(f'url = "{pypi}/{p["name"]}/json"\noutput = "/dev/null"')
    print(f'url = "{simple}/{p["name"]}/"\noutput = "/dev/null"')
EOF
read -r docs_s docs_bytes < <(curl_all "$work/docs.cfg")
pins=$(grep -c '^url = ".*/json"' "$work/docs.cfg" || true)

# --- archives: cold audit with the scan, then curl of the archives it read.
timed cold "$CUSTOMS" audit --no-advisories --no-config --index-url "$INDEX_URL" \
  --cache-dir "$work/cache" --format json "${ranged[@]}" "$lockfile"
timed warm "$CUSTOMS" audit --no-advisories --no-config --index-url "$INDEX_URL" \
  --cache-dir "$work/cache" --format json "${ranged[@]}" "$lockfile"
python3 - "$work/cold.out" "$json_base" "$work/files.cfg" <<'EOF' > "$work/files.sizes"
import concurrent.futures as cf, json, sys, urllib.parse, urllib.request
report, pypi, cfg = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
wanted = [(p["name"], p["version"], set(p.get("scan", {}).get("archives", [])))
          for p in report["packages"] if p["source"]["kind"] == "registry"]
def files(job):
    name, version, _ = job
    url = f"{pypi}/{name}/json"
    try:
        doc = json.load(urllib.request.urlopen(url, timeout=60))
    except Exception as e:
        print(f"{name}: {e}", file=sys.stderr)
        return []
    # A mirror may give file URLs relative to the document.
    release = doc.get("releases", {}).get(version, [])
    return [dict(f, url=urllib.parse.urljoin(url, f["url"])) for f in release]
read = total = 0
with open(cfg, "w") as out, cf.ThreadPoolExecutor(16) as pool:
    for (name, version, scanned), release in zip(wanted, pool.map(files, wanted)):
        for f in release:
            total += f.get("size", 0)
            if f["filename"] in scanned:
                read += f.get("size", 0)
                out.write(f'url = "{f["url"]}"\noutput = "/dev/null"\n')
print(read, total)
EOF
read -r read_bytes total_bytes < "$work/files.sizes"
archives=$(grep -c '^url' "$work/files.cfg" || true)
read -r files_s files_bytes < <(curl_all "$work/files.cfg")

read -r noscan_s noscan_kb _ < "$work/noscan.time"
read -r cold_s cold_kb cold_user cold_sys < "$work/cold.time"
read -r warm_s warm_kb _ < "$work/warm.time"
unknown() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["unknown"])' "$1" 2>/dev/null || echo "?"; }
mb() { echo $(( $1 / 1024 / 1024 )); }
printf '| measure | customs | curl --parallel --http2 (%s streams) | ratio | peak RSS |\n|---|---|---|---|---|\n' "$streams"
printf '| %s pins, cold, --no-scan (%s unknown) | %.2f s | %.2f s (%s documents, %s MB) | %.2fx | %s MB |\n' \
  "$pins" "$(unknown "$work/noscan.out")" "$noscan_s" "$docs_s" "$((pins * 2))" "$(mb "$docs_bytes")" \
  "$(echo "$noscan_s / $docs_s" | bc -l)" $((noscan_kb / 1024))
printf '| cold, with the scan (%s unknown) | %.2f s | %.2f s (%s archives, %s MB) | %.2fx | %s MB |\n' \
  "$(unknown "$work/cold.out")" "$cold_s" "$files_s" "$archives" "$(mb "$files_bytes")" \
  "$(echo "$cold_s / $files_s" | bc -l)" $((cold_kb / 1024))
printf '| warm, with the scan | %.2f s (%.0fx faster than cold) | | | %s MB |\n' \
  "$warm_s" "$(echo "$cold_s / $warm_s" | bc -l)" $((warm_kb / 1024))
printf '\nArchives read by the scan: %s MB of the %s MB the locked releases have.\n' \
  "$(mb "$read_bytes")" "$(mb "$total_bytes")"
# The scan's floor on this machine: its CPU time spread over every core.
cores=$(nproc)
printf 'CPU of the cold scan: %.1f s (user %.1f s, system %.1f s): %.1f s on %s cores at best.\n' \
  "$(echo "$cold_user + $cold_sys" | bc -l)" "$cold_user" "$cold_sys" \
  "$(echo "($cold_user + $cold_sys) / $cores" | bc -l)" "$cores"
printf "(MB in this table are MiB: bytes and peak RSS divided by 1024 twice.)\n"
if [[ ${#ranged[@]} -gt 0 ]]; then
  python3 - "$work/cold.out" <<'EOF'
import json, re, sys
report = json.load(open(sys.argv[1]))
n = got = of = 0.0
for p in report["packages"]:
    for m in re.finditer(r"read by range requests \(([\d.]+) MiB of ([\d.]+) MiB", (p.get("scan") or {}).get("reason") or ""):
        n, got, of = n + 1, got + float(m.group(1)), of + float(m.group(2))
print(f"Wheels read by range requests: {int(n)}, {got:.0f} MB fetched of their {of:.0f} MB.")
EOF
fi
