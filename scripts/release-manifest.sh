#!/usr/bin/env bash
# Writes action-release.sha256, the file that makes a commit of the Action a
# release: the release's tag, its repository, and the SHA-256 of every file
# it published (the lines of its SHA256SUMS). scripts/install.sh trusts a
# downloaded binary only when it matches this file.
#
#   scripts/release-manifest.sh SHA256SUMS TAG OWNER/REPO > action-release.sha256
set -euo pipefail
sums="${1:?usage: release-manifest.sh SHA256SUMS TAG OWNER/REPO}"
tag="${2:?usage: release-manifest.sh SHA256SUMS TAG OWNER/REPO}"
repo="${3:?usage: release-manifest.sh SHA256SUMS TAG OWNER/REPO}"
[[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-.+][0-9A-Za-z.-]+)?$ ]] || { echo "not a version tag: $tag" >&2; exit 1; }
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || { echo "not OWNER/REPO: $repo" >&2; exit 1; }
lines="$(grep -E '^[0-9a-f]{64} [ *][^/ ]+$' "$sums" || true)"
[ -n "$lines" ] || { echo "$sums has no SHA256SUMS lines" >&2; exit 1; }
echo "# customs $tag: the SHA-256 of every file of the release, recorded by release.yml."
echo "# scripts/install.sh runs a downloaded binary only when it matches its line here."
echo "# tag: $tag"
echo "# repository: $repo"
printf '%s\n' "$lines"
