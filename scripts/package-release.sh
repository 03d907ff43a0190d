#!/usr/bin/env bash
# Packs a built customs binary as the release archive the Action's install
# step (scripts/install.sh) expects: OUTDIR/customs-TARGET.tar.gz holding
# customs-TARGET/customs (customs.exe on Windows) and the README.
#
#   scripts/package-release.sh BINARY TARGET OUTDIR
set -euo pipefail
bin="${1:?usage: package-release.sh BINARY TARGET OUTDIR}"
target="${2:?usage: package-release.sh BINARY TARGET OUTDIR}"
out="${3:?usage: package-release.sh BINARY TARGET OUTDIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$target" in *windows*) exe=customs.exe ;; *) exe=customs ;; esac
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/customs-$target" "$out"
cp "$bin" "$stage/customs-$target/$exe"
chmod 755 "$stage/customs-$target/$exe"
cp "$root/README.md" "$stage/customs-$target/README.md"
tar -czf "$out/customs-$target.tar.gz" -C "$stage" "customs-$target"
echo "$out/customs-$target.tar.gz"
