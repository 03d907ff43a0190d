#!/usr/bin/env bash
# Comparison benchmark: customs side by side with `guarddog pypi` and
# `pip-audit` on the same inputs, in one run, as a Markdown table with times,
# peak memory and ratios. Not a test: it prints figures for the README.
#
#   INDEX_URL=https://<index>/simple scripts/bench-compare.sh
#
# Rows:
#   - audit of ~60 and ~250 pins, cold (fresh cache) and warm (same cache),
#     metadata only (`--no-scan`, against pip-audit) and with the archive scan
#     (against `guarddog pypi verify`, which downloads and scans every pin);
#   - scan of large sdists (`customs scan` against `guarddog pypi scan FILE`);
#   - name checks of 1,000 names (`customs check --offline`);
#   - parse of a generated 1,000-package uv.lock (`customs audit --offline`).
# The ~60 pins are the distinct registry pins of the small lockfiles under
# testdata/lockfiles, topped up from uv/large/uv.lock; the ~250 pins are the
# registry packages of testdata/lockfiles/uv/large/uv.lock.
#
# guarddog and pip-audit are installed into throwaway virtualenvs under
# target/bench-venv-* when absent (or set GUARDDOG=/path, PIP_AUDIT=/path).
# Downloaded sdists are kept under target/bench-cache/ so reruns are fast.
# Knobs: CUSTOMS=/path/to/customs (skip the build), GUARDDOG_VERSION (3.2.0),
# SDISTS ("name==version ..."), TOOL_TIMEOUT (seconds per run of another
# tool, 1800), REPEAT (runs of the sub-second offline rows, median; 5),
# CRITERION=1 (also run `cargo bench --bench names` and `--bench parse`).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${INDEX_URL:?set INDEX_URL to a Simple index URL, e.g. https://host/simple}"
INDEX_URL=${INDEX_URL%/}
sdists=${SDISTS:-django==5.2.17 numpy==2.4.6 botocore==1.43.98}
tool_timeout=${TOOL_TIMEOUT:-1800}
repeat=${REPEAT:-5}
script_t0=$(date +%s.%N)
bench_cache=target/bench-cache
mkdir -p "$bench_cache/sdists"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log() { printf '[bench-compare] %s\n' "$*" >&2; }

# --- customs: build (retrying while the tree is mid-edit), then run a copy so
# that a concurrent build cannot swap the binary during the run.
if [[ -n ${CUSTOMS:-} ]]; then
  cp "$CUSTOMS" "$work/customs"
else
  for attempt in 1 2 3 4; do
    if cargo build --release --quiet; then break; fi
    if [[ $attempt == 4 ]]; then log "cargo build failed; set CUSTOMS=/path/to/customs"; exit 1; fi
    log "cargo build failed (attempt $attempt); retrying in 60 s"
    sleep 60
  done
  cp target/release/customs "$work/customs"
fi
bin=$work/customs

# --- the other tools, each in its own throwaway virtualenv when absent.
install_tool() { # venv-dir executable pip-spec -> path, or nothing on failure
  local dir=$1 exe=$2 spec=$3
  if [[ ! -x $dir/bin/$exe ]]; then
    log "installing $spec into $dir"
    { python3 -m venv "$dir" && env -u PIP_FIND_LINKS PIP_INDEX_URL="$INDEX_URL" \
        "$dir/bin/pip" install --quiet "$spec"; } >&2 || { log "installing $spec failed"; return 0; }
  fi
  [[ -x $dir/bin/$exe ]] && echo "$PWD/$dir/bin/$exe"
  return 0
}
gd=${GUARDDOG:-$(install_tool target/bench-venv-guarddog guarddog "guarddog==${GUARDDOG_VERSION:-3.2.0}")}
pa=${PIP_AUDIT:-$(install_tool target/bench-venv-pip-audit pip-audit pip-audit)}
gd_version=$([[ -n $gd ]] && "$gd" --version 2>/dev/null | tail -1 || echo "not installed")
pa_version=$([[ -n $pa ]] && "$pa" --version 2>/dev/null | tail -1 || echo "not installed")

# --- inputs.
log "writing inputs"
registry_pins() { # lockfile -> name==version lines of its registry packages
  "$bin" audit --offline --no-scan --no-config --cache-dir "$work/empty-cache" --format json "$1" 2>/dev/null \
    | python3 -c 'import json,sys
try:
    packages = json.load(sys.stdin)["packages"]
except Exception:  # a fixture customs rejects: no pins from it
    sys.exit()
for p in packages:
    if p["source"]["kind"] == "registry" and p.get("version"):
        print(p["name"] + "==" + p["version"])' \
    || true
}
# pip-audit refuses a name pinned twice (uv.lock forks by marker), so every
# set keeps one version of each name (the first), the same for all tools.
registry_pins testdata/lockfiles/uv/large/uv.lock > "$work/large.txt"
awk -F'==' '!seen[tolower($1)]++' "$work/large.txt" > "$work/pins-250.txt"
while IFS= read -r f; do registry_pins "$f"; done \
  < <(find testdata/lockfiles -type f \( -name '*.lock' -o -name '*.txt' -o -name '*.toml' \) ! -path '*/large/*' | sort) \
  | sort -u > "$work/small.txt"
# Distinct names: the small lockfiles first, then uv/large/uv.lock, 60 in all.
cat "$work/small.txt" "$work/large.txt" | awk -F'==' '!seen[tolower($1)]++' | head -n 60 > "$work/pins-60.txt"
n60=$(wc -l < "$work/pins-60.txt")
n250=$(wc -l < "$work/pins-250.txt")
n_small=$(awk -F'==' '!seen[tolower($1)]++' "$work/small.txt" | wc -l)
# 1,000 names: lines 1001-1500 of the shipped top list and a one-edit variant
# (second and third letters swapped) of each, as benches/names.rs does.
sed -n '1001,1500p' data/top-packages.txt \
  | awk '{ print; if (length($0) > 3) print substr($0,1,1) substr($0,3,1) substr($0,2,1) substr($0,4); else print $0 "s" }' \
  > "$work/names.txt"
mapfile -t names < "$work/names.txt"
# The generated 1,000-package uv.lock of benches/parse.rs.
python3 - "$work/uv.lock" <<'EOF'
import sys
n = 1000
out = ['version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n']
for i in range(n):
    h = f"{i:064x}"
    out.append(
        f'[[package]]\nname = "package-{i}"\nversion = "1.{i}.0"\nsource = {{ registry = "https://index.example/simple" }}\n'
        f'dependencies = [\n    {{ name = "package-{(i + 1) % n}" }},\n]\n'
        f'sdist = {{ url = "https://files.example/packages/aa/bb/package_{i}-1.{i}.0.tar.gz", hash = "sha256:{h}", size = 12345, upload-time = "2026-01-01T00:00:00.000Z" }}\n'
        f'wheels = [\n    {{ url = "https://files.example/packages/aa/bb/package_{i}-1.{i}.0-py3-none-any.whl", hash = "sha256:{h}", size = 2345, upload-time = "2026-01-01T00:00:01.000Z" }},\n'
        f'    {{ url = "https://files.example/packages/aa/bb/package_{i}-1.{i}.0-cp312-cp312-manylinux_2_17_x86_64.whl", hash = "sha256:{h}", size = 345, upload-time = "2026-01-01T00:00:02.000Z" }},\n]\n\n'
    )
open(sys.argv[1], "w").write("".join(out))
EOF
# Large sdists, from the index's Simple API (PEP 691 JSON, else HTML).
sdist_url() { # name version -> absolute URL of name-version.tar.gz on the index
  python3 - "$INDEX_URL" "$1" "$2" <<'EOF'
import json, re, sys, urllib.request
from html.parser import HTMLParser
from urllib.parse import urljoin
index, name, version = sys.argv[1:4]
norm = lambda s: re.sub(r"[-_.]+", "_", s).lower()
page = f"{index}/{re.sub(r'[-_.]+', '-', name).lower()}/"
req = urllib.request.Request(page, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
with urllib.request.urlopen(req, timeout=60) as r:
    ctype, body = r.headers.get("Content-Type", ""), r.read().decode()
if "json" in ctype:
    files = [(f["filename"], f["url"]) for f in json.loads(body)["files"]]
else:
    class P(HTMLParser):
        files = []
        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href") if tag == "a" else None
            if href:
                self.files.append((href.split("#")[0].rsplit("/", 1)[-1], href))
    p = P(); p.feed(body); files = p.files
for fn, url in files:
    if fn.endswith(".tar.gz") and norm(fn[:-7]) == norm(f"{name}-{version}"):
        print(urljoin(page, url)); break
else:
    sys.exit(f"no sdist of {name} {version} on the index")
EOF
}
sdist_files=()
for spec in $sdists; do
  name=${spec%%==*}; version=${spec##*==}
  existing=$(find "$bench_cache/sdists" -maxdepth 1 -iname "${name//-/[-_.]}-$version.tar.gz" | head -n 1)
  if [[ -z $existing ]]; then
    if url=$(sdist_url "$name" "$version") && curl --silent --fail --location -o "$work/dl" "$url"; then
      existing=$bench_cache/sdists/${url##*/}
      mv "$work/dl" "$existing"
    else
      log "could not download the sdist of $spec; skipping it"
      continue
    fi
  fi
  sdist_files+=("$existing")
done

# --- measuring. `measure KEY CMD...` runs CMD once with stdout in $work/KEY.out
# and stderr in $work/KEY.err; sets secs[KEY] (wall), mb[KEY] (peak RSS) and rc[KEY].
declare -A secs mb rc
measure() {
  local key=$1 t0 t1 status=0
  shift
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$key.rss" "$@" > "$work/$key.out" 2> "$work/$key.err" || status=$?
  t1=$(date +%s.%N)
  secs[$key]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  mb[$key]=$(( $(tail -n 1 "$work/$key.rss" 2>/dev/null || echo 0) / 1024 ))
  rc[$key]=$status
}
fmt_secs() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.3f s", s; else if (s < 10) printf "%.2f s", s; else printf "%.1f s", s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; if (r >= 10) printf "%.0fx", r; else printf "%.1fx", r }'; }
customs_cell() { # key -> "t s, N MB[, note]" from a customs JSON report
  local key=$1 note=""
  if (( rc[$key] > 1 )); then echo "error (exit ${rc[$key]}: $(tail -n 1 "$work/$key.err"))"; return; fi
  note=$(python3 -c 'import json,sys
try:
    s = json.load(open(sys.argv[1]))["summary"]
    print(str(s["unknown"]) + " unknown" if s["unknown"] else "")
except Exception:
    print("")' "$work/$key.out")
  echo "$(fmt_secs "${secs[$key]}"), ${mb[$key]} MB${note:+, $note}"
}

# --- audits.
# pip-audit: pick the first vulnerability service that audits a pin here.
pa_service=""; pa_reason=""
if [[ -z $pa ]]; then
  pa_reason="not installed (pip install pip-audit failed)"
else
  head -n 1 "$work/pins-60.txt" > "$work/probe.txt"
  reasons=()
  for service in pypi osv; do
    timeout 120 "$pa" -r "$work/probe.txt" --no-deps --disable-pip --progress-spinner off -s "$service" \
      --cache-dir "$work/pa-probe-$service" -f json > "$work/pa-probe.json" 2> "$work/pa-probe.err" || true
    verdict=$(python3 -c 'import json,sys
try:
    deps = json.load(open(sys.argv[1]))["dependencies"]
except Exception:
    print("fail"); sys.exit()
skipped = [d.get("skip_reason") for d in deps if d.get("skip_reason")]
print("ok" if deps and not skipped else "skip " + (skipped[0] if skipped else "no dependency audited"))' "$work/pa-probe.json")
    if [[ $verdict == ok ]]; then pa_service=$service; break; fi
    if [[ $verdict == fail ]]; then
      err=$(grep -v -i warning "$work/pa-probe.err" | tail -n 1 | sed -E 's/^requests\.exceptions\.//; s/ \(Caused by ([A-Za-z]+).*/: \1/')
      reasons+=("$service service failed: ${err:-exit without a report}")
    elif [[ $verdict == *"not found"* ]]; then
      reasons+=("$service service skipped the pin: '${verdict#skip }', i.e. its per-version JSON endpoint answered 404")
    else
      reasons+=("$service service skipped the pin: '${verdict#skip }'")
    fi
  done
  if [[ -z $pa_service ]]; then
    pa_reason=$(printf '%s; ' "${reasons[@]}")
    pa_reason=${pa_reason%; }
  fi
fi
pa_cell() { # key pins-file -> cell
  local key=$1 pins=$2 counts
  if (( rc[$key] == 124 )); then echo "timeout (> ${tool_timeout} s)"; return; fi
  counts=$(python3 -c 'import json,sys
try:
    deps = json.load(open(sys.argv[1]))["dependencies"]
    print(sum(1 for d in deps if not d.get("skip_reason")), len(deps))
except Exception:
    print("error")' "$work/$key.out")
  if [[ $counts == error ]]; then echo "error (exit ${rc[$key]}: $(tail -n 1 "$work/$key.err" | cut -c1-80))"; return; fi
  read -r audited total <<< "$counts"
  echo "$(fmt_secs "${secs[$key]}"), ${mb[$key]} MB$( (( audited < total )) && echo ", $audited/$total audited")"
}
gd_cell() { # key -> cell for guarddog verify
  local key=$1 counts
  if (( rc[$key] == 124 )); then echo "timeout (> ${tool_timeout} s)"; return; fi
  counts=$(python3 -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))
    ok = sum(1 for x in d if "results" in x["result"] and "download-package" not in x["result"].get("errors", {}))
    print(ok, len(d))
except Exception:
    print("error")' "$work/$key.out")
  if [[ $counts == error ]]; then echo "error (exit ${rc[$key]}: $(tail -n 1 "$work/$key.err" | cut -c1-80))"; return; fi
  read -r scanned total <<< "$counts"
  echo "$(fmt_secs "${secs[$key]}"), ${mb[$key]} MB$( (( scanned < total )) && echo ", $scanned/$total scanned")"
}

rows=()
pa_notes=()
row() { rows+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5"$'\t'"$6"); }
for set in 60 250; do
  pins=$work/pins-$set.txt
  n=$(wc -l < "$pins")
  for mode in no-scan scan; do
    flags=(--no-config --index-url "$INDEX_URL" --cache-dir "$work/cache-$set-$mode" --format json)
    [[ $mode == no-scan ]] && flags+=(--no-scan)
    for temp in cold warm; do
      log "customs audit, $n pins, $mode, $temp"
      measure "c-$set-$mode-$temp" "$bin" audit "${flags[@]}" "$pins"
    done
  done
  # pip-audit (metadata only) against customs --no-scan.
  pa_cold="unavailable"; pa_warm="unavailable"; r_pa_cold="n/a"; r_pa_warm="n/a"
  if [[ -n $pa_service ]]; then
    for temp in cold warm; do
      log "pip-audit, $n pins, $temp"
      measure "p-$set-$temp" timeout "$tool_timeout" "$pa" -r "$pins" --no-deps --disable-pip \
        --progress-spinner off -s "$pa_service" --cache-dir "$work/pa-cache-$set" -f json
    done
    pa_cold=$(pa_cell "p-$set-cold" "$pins"); pa_warm=$(pa_cell "p-$set-warm" "$pins")
    r_pa_cold=$(ratio "${secs[p-$set-cold]}" "${secs[c-$set-no-scan-cold]}")
    r_pa_warm=$(ratio "${secs[p-$set-warm]}" "${secs[c-$set-no-scan-warm]}")
  elif [[ -n $pa ]]; then
    # No service answers here: still time the run that asks PyPI's JSON API
    # (for the notes, not the table, since it audits nothing).
    for temp in cold warm; do
      log "pip-audit (no service answers), $n pins, $temp"
      measure "p-$set-$temp" timeout "$tool_timeout" "$pa" -r "$pins" --no-deps --disable-pip \
        --progress-spinner off -s pypi --cache-dir "$work/pa-cache-$set" -f json
    done
    pa_notes+=("  $n pins, pypi service: cold $(pa_cell "p-$set-cold" "$pins"); warm $(pa_cell "p-$set-warm" "$pins")")
  fi
  row "audit $n pins, metadata only (--no-scan), cold" "$(customs_cell "c-$set-no-scan-cold")" "n/a" "$pa_cold" "n/a" "$r_pa_cold"
  row "audit $n pins, metadata only (--no-scan), warm" "$(customs_cell "c-$set-no-scan-warm")" "n/a" "$pa_warm" "n/a" "$r_pa_warm"
  # guarddog verify (downloads and scans every pin) against customs with the scan.
  gd_cold="unavailable"; r_gd="n/a"
  if [[ -n $gd ]]; then
    log "guarddog pypi verify, $n pins"
    measure "g-$set" timeout "$tool_timeout" "$gd" pypi verify "$pins" --output-format json
    gd_cold=$(gd_cell "g-$set")
    r_gd=$(ratio "${secs[g-$set]}" "${secs[c-$set-scan-cold]}")
  fi
  row "audit $n pins with archive scan, cold" "$(customs_cell "c-$set-scan-cold")" "$gd_cold" "n/a" "$r_gd" "n/a"
  row "audit $n pins with archive scan, warm" "$(customs_cell "c-$set-scan-warm")" "$([[ -n $gd ]] && echo "n/a (no cache)" || echo unavailable)" "n/a" "n/a" "n/a"
done

# --- scans of large sdists.
for f in "${sdist_files[@]}"; do
  base=${f##*/}
  size=$(( $(stat -c %s "$f") / 1048576 ))
  log "scan $base"
  measure "cs-$base" "$bin" scan --format json --no-config "$f"
  gd_scan="unavailable"; r_gd="n/a"
  if [[ -n $gd ]]; then
    measure "gs-$base" timeout "$tool_timeout" "$gd" pypi scan "$f" --output-format json
    if (( rc[gs-$base] == 124 )); then
      gd_scan="timeout (> ${tool_timeout} s)"
    elif python3 -c 'import json,sys; json.load(open(sys.argv[1]))["results"]' "$work/gs-$base.out" 2>/dev/null; then
      gd_scan="$(fmt_secs "${secs[gs-$base]}"), ${mb[gs-$base]} MB"
      r_gd=$(ratio "${secs[gs-$base]}" "${secs[cs-$base]}")
    else
      gd_scan="error (exit ${rc[gs-$base]})"
    fi
  fi
  row "scan $base ($size MB sdist)" "$(customs_cell "cs-$base")" "$gd_scan" "n/a" "$r_gd" "n/a"
done

# --- sub-second offline rows: the median of $repeat runs.
median_of() { # key n cmd... -> sets secs/mb/rc[key] from the median run
  local key=$1 n=$2 i best
  shift 2
  for ((i = 0; i < n; i++)); do measure "$key.$i" "$@"; done
  best=$(for ((i = 0; i < n; i++)); do echo "${secs[$key.$i]} $i"; done | sort -n | awk -v m=$(( (n + 1) / 2 )) 'NR == m { print $2 }')
  secs[$key]=${secs[$key.$best]}; mb[$key]=${mb[$key.$best]}; rc[$key]=${rc[$key.$best]}
  cp "$work/$key.$best.out" "$work/$key.out"; cp "$work/$key.$best.err" "$work/$key.err"
}
log "customs check, ${#names[@]} names"
median_of check "$repeat" "$bin" check --offline --no-config --cache-dir "$work/check-cache" --format json "${names[@]}"
row "check ${#names[@]} names, offline (median of $repeat)" "$(customs_cell check | sed 's/, [0-9]* unknown//')" "n/a (no name-only mode)" "n/a" "n/a" "n/a"
log "customs audit --offline, generated 1,000-package uv.lock"
median_of parse "$repeat" "$bin" audit --offline --no-scan --no-config --cache-dir "$work/parse-cache" --format json "$work/uv.lock"
row "parse a 1,000-package uv.lock (audit --offline, median of $repeat)" "$(customs_cell parse | sed 's/, [0-9]* unknown//')" "n/a" "n/a" "n/a" "n/a"

# --- optional criterion figures.
criterion=()
if [[ ${CRITERION:-0} == 1 ]]; then
  for b in names parse; do
    log "cargo bench --bench $b"
    if cargo bench --quiet --bench "$b" -- --noplot > "$work/criterion-$b.txt" 2>&1; then
      while IFS= read -r line; do criterion+=("$line"); done \
        < <(tr '\r' '\n' < "$work/criterion-$b.txt" | sed -E 's/^Benchmarking .*: Analyzing //' \
          | awk '/time:/ { if ($0 ~ /^ /) { sub(/^ +/, ""); print prev " " $0 } else print } { prev = $0 }' | sed -E 's/ +/ /g')
    else
      criterion+=("cargo bench --bench $b failed: $(tail -n 1 "$work/criterion-$b.txt")")
    fi
  done
fi

# --- report.
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
load=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "customs vs guarddog vs pip-audit — $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $cpu, $mem; load average $load"
echo "customs $("$bin" --version | awk '{ print $2 }'), guarddog $gd_version, $pa_version"
echo
header=("task" "customs" "guarddog" "pip-audit" "guarddog ÷ customs" "pip-audit ÷ customs")
widths=(0 0 0 0 0 0)
for line in "$(IFS=$'\t'; echo "${header[*]}")" "${rows[@]}"; do
  IFS=$'\t' read -r -a cells <<< "$line"
  for i in "${!cells[@]}"; do
    len=$(printf '%s' "${cells[$i]}" | wc -m)
    (( len > widths[i] )) && widths[i]=$len
  done
done
print_row() {
  local i cell pad out="|"
  for i in "${!widths[@]}"; do
    cell=${1:-}; shift || true
    pad=$(( widths[i] - $(printf '%s' "$cell" | wc -m) ))
    out+=" $cell$(printf '%*s' "$pad" '') |"
  done
  echo "$out"
}
print_row "${header[@]}"
sep=()
for w in "${widths[@]}"; do sep+=("$(printf '%*s' "$w" '' | tr ' ' '-')"); done
print_row "${sep[@]}"
for line in "${rows[@]}"; do
  IFS=$'\t' read -r -a cells <<< "$line"
  print_row "${cells[@]}"
done
echo
echo "Ratios are the other tool's wall time over customs' (above 1x: customs is faster). Peak memory is the max RSS."
echo "Pins: ~60 = the $n_small distinct registry pins of the small testdata lockfiles topped up from uv/large/uv.lock ($n60 in all); ~250 = the $n250 distinct registry names of uv/large/uv.lock (first version of each)."
echo "pip-audit runs with --no-deps --disable-pip on the same requirements files; its cold run has a fresh --cache-dir, its warm run reuses it."
if [[ -z $pa_service ]]; then
  echo "pip-audit: unavailable ($pa_reason)"
  if (( ${#pa_notes[@]} )); then
    echo "  Runs that audited nothing (every pin skipped), timed for the record only:"
    printf '%s\n' "${pa_notes[@]}"
  fi
else
  echo "pip-audit: vulnerability service '$pa_service'."
fi
if [[ -n $gd ]]; then
  echo "guarddog: \`pypi verify REQUIREMENTS\` downloads and scans each pin (no cache, so no warm run); \`pypi scan FILE\` for the sdists;"
  echo "  no metadata-only mode (n/a next to --no-scan) and no name-only check (its typosquatting rule runs inside a package scan)."
  echo "  Where it scanned fewer pins than customs (\"k/n scanned\"), its ratio is a lower bound."
  for set in 60 250; do
    [[ -f $work/g-$set.out ]] || continue
    n=$(wc -l < "$work/pins-$set.txt")
    python3 -c 'import json,sys,collections
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit()
errs = collections.Counter()
for x in d:
    for k, v in x["result"].get("errors", {}).items():
        errs[k if k != "download-package" else "download-package (" + v.split(chr(39))[0].strip() + ")"] += 1
if errs:
    print(f"  guarddog verify ({sys.argv[2]} pins), errors by kind: " + "; ".join(f"{k} x{n}" for k, n in errs.most_common(6)))
if any(k.startswith("download-package (Invalid URL") for k in errs):
    print("    (Invalid URL: the JSON API gives some files as relative URLs, which guarddog requests as they are)")' "$work/g-$set.out" "$n"
  done
else
  echo "guarddog: unavailable (pip install guarddog failed)"
fi
if (( ${#criterion[@]} )); then
  echo "criterion (cargo bench, in-process):"
  printf '  %s\n' "${criterion[@]}"
fi
echo "The machine may be shared (builds, fuzzers): timings are noisy; rerun for stable figures."
printf 'Whole run: %.0f s\n' "$(awk -v a="$script_t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
