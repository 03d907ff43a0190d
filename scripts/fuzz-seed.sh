#!/usr/bin/env bash
# Seeds the fuzz corpora from testdata/: each lockfile becomes a `lockfile`
# input (first byte = format index, as in fuzz/fuzz_targets/lockfile.rs),
# each archive an `archive` input.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/lockfile fuzz/corpus/archive fuzz/corpus/config
seed() { # format-index file
  local out="fuzz/corpus/lockfile/$(basename "$(dirname "$2")")-$(basename "$2")-$1"
  { printf "\\x$(printf %02x "$1")"; cat "$2"; } > "$out"
}
find testdata/lockfiles -type f | while read -r f; do
  case "$(basename "$f")" in
    uv.lock|*.py.lock) seed 0 "$f" ;;
    poetry.lock) seed 1 "$f" ;;
    *.txt|*.in) seed 2 "$f" ;;
    pylock*.toml) seed 3 "$f" ;;
    pdm.lock) seed 4 "$f" ;;
    Pipfile.lock) seed 5 "$f" ;;
  esac
done
find testdata -type f \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' -o -name '*.tar.bz2' \) \
  -exec cp {} fuzz/corpus/archive/ \; 2>/dev/null || true
find testdata -name 'customs.toml' -exec cp {} fuzz/corpus/config/ \; 2>/dev/null || true
echo "corpora: $(ls fuzz/corpus/lockfile | wc -l) lockfile, $(ls fuzz/corpus/archive | wc -l) archive, $(ls fuzz/corpus/config | wc -l) config"
