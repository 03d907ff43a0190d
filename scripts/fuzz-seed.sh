#!/usr/bin/env bash
# Seeds the fuzz corpora from testdata/: each lockfile goes to its parser's
# target (and, with a format byte in front, to `lockfile`); archives to `archive`,
# and wheels, behind a chunk-size byte and a length byte, to `stream`.
set -euo pipefail
cd "$(dirname "$0")/.."
for t in lockfile uv_lock poetry_lock requirements pylock pdm_lock pipfile_lock archive stream config provenance; do
  mkdir -p "fuzz/corpus/$t"
done
seed() { # format-index target file
  local base; base="$(basename "$(dirname "$3")")-$(basename "$3")"
  cp "$3" "fuzz/corpus/$2/$base"
  { printf "\\x$(printf %02x "$1")"; cat "$3"; } > "fuzz/corpus/lockfile/$base-$1"
}
find testdata/lockfiles -type f | while read -r f; do
  case "$(basename "$f")" in
    uv.lock|*.py.lock) seed 0 uv_lock "$f" ;;
    poetry.lock) seed 1 poetry_lock "$f" ;;
    *.txt|*.in) seed 2 requirements "$f" ;;
    pylock*.toml) seed 3 pylock "$f" ;;
    pdm.lock) seed 4 pdm_lock "$f" ;;
    Pipfile.lock) seed 5 pipfile_lock "$f" ;;
  esac
done
find testdata -type f \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' -o -name '*.tar.bz2' \) \
  -exec cp {} fuzz/corpus/archive/ \; 2>/dev/null || true
find testdata -type f -name '*.whl' | while read -r f; do
  { printf '\x40\x01'; cat "$f"; } > "fuzz/corpus/stream/$(basename "$f")"
done
find testdata -name 'customs.toml' -exec cp {} fuzz/corpus/config/ \; 2>/dev/null || true
# Provenance objects come from ../shared (other projects' data, never copied into the repo).
if [ -d ../shared/fixtures/pypi/provenance ]; then
  cp ../shared/fixtures/pypi/provenance/*.json fuzz/corpus/provenance/
fi
for t in fuzz/corpus/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) seeds"; done
