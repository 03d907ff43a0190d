#!/usr/bin/env bash
# The install step of action.yml: puts a customs binary on disk and writes its
# path as `bin=` to GITHUB_OUTPUT (or prints it when GITHUB_OUTPUT is unset).
#
# A release of the Action is a commit that carries `action-release.sha256`:
# the SHA-256 of every file of the matching GitHub release, recorded by
# .github/workflows/release.yml when it published them. On such a commit this
# script downloads the archive for the runner's OS and architecture, checks it
# against the recorded SHA-256 before anything from it runs, checks that the
# release's own SHA256SUMS agrees, checks the GitHub artifact attestation when
# `gh` and a token are available, and caches the archive (re-checked on every
# use). Any other ref (a branch, a plain commit) has no recorded checksums and
# is built from the Action's own source with `cargo install --locked`; so is
# a platform the release has no binary for, or a release that cannot be
# downloaded. A download that does not match is refused, never built around.
#
# Environment:
#   ACTION_PATH                 the Action's checkout (required)
#   RUNNER_OS, RUNNER_ARCH      set by GitHub; `uname` decides when unset
#   RUNNER_TEMP                 where the binary goes (default: a temp dir)
#   RUNNER_TOOL_CACHE           the archive cache (default: ~/.cache)
#   CUSTOMS_RELEASE_URL         where release files are (default: the
#                               repository's GitHub release download URL)
#   GH_TOKEN                    lets `gh attestation verify` run
#   CUSTOMS_VERIFY_ATTESTATION  auto (default: when gh and GH_TOKEN exist),
#                               true (required) or false
#   CARGO                       the cargo for the source build (default: cargo)
set -euo pipefail

say() { printf 'customs install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

action_path="${ACTION_PATH:?ACTION_PATH is not set}"
manifest="$action_path/action-release.sha256"
temp="${RUNNER_TEMP:-$(mktemp -d)}"
verify_attestation="${CUSTOMS_VERIFY_ATTESTATION:-auto}"
case "$verify_attestation" in auto | true | false) ;; *)
  die "CUSTOMS_VERIFY_ATTESTATION is '$verify_attestation'; expected auto, true or false"
  ;;
esac

emit() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "bin=$1" >>"$GITHUB_OUTPUT"
  else
    echo "$1"
  fi
}

# The runner's OS and architecture, as GitHub names them.
runner_os() {
  if [ -n "${RUNNER_OS:-}" ]; then
    echo "$RUNNER_OS"
    return
  fi
  case "$(uname -s)" in
    Linux) echo Linux ;;
    Darwin) echo macOS ;;
    MINGW* | MSYS* | CYGWIN*) echo Windows ;;
    *) uname -s ;;
  esac
}

runner_arch() {
  if [ -n "${RUNNER_ARCH:-}" ]; then
    echo "$RUNNER_ARCH"
    return
  fi
  case "$(uname -m)" in
    x86_64 | amd64) echo X64 ;;
    aarch64 | arm64) echo ARM64 ;;
    *) uname -m ;;
  esac
}

os="$(runner_os)"
arch="$(runner_arch)"
exe=""
[ "$os" != Windows ] || exe=.exe

# The Rust target triple of the release archive for this runner, or nothing.
target_triple() {
  case "$os/$arch" in
    Linux/X64) echo x86_64-unknown-linux-gnu ;;
    Linux/ARM64) echo aarch64-unknown-linux-gnu ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) echo "" ;;
  esac
}

# Read from standard input, never by name: on Windows runners the paths are
# `C:\...`, which GNU sha256sum escapes and GNU tar takes for a remote host.
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum <"$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 <"$1" | cut -d' ' -f1
  else
    openssl dgst -sha256 -r <"$1" | cut -d' ' -f1
  fi
}

# The SHA-256 a SHA256SUMS-style file records for a file name ("" if none).
recorded_sha() {
  awk -v name="$2" '$1 !~ /^#/ && ($2 == name || $2 == "*" name) { print $1; exit }' "$1"
}

source_build() {
  say "$1; building customs from the Action's source (cargo install --locked)"
  local root="$temp/customs-source-build"
  # The build runs every dependency's build script: it gets no token.
  env -u GH_TOKEN "${CARGO:-cargo}" install --locked --path "$action_path" --root "$root"
  local bin="$root/bin/customs$exe"
  [ -x "$bin" ] || die "the source build left no binary at $bin"
  emit "$bin"
  exit 0
}

# The GitHub artifact attestation: required when asked for, checked by
# default where gh can check it (a gh with `attestation`, a token, and
# github.com); a check that ran and failed is fatal.
check_attestation() { # file
  local can=no
  if command -v gh >/dev/null 2>&1 && [ -n "${GH_TOKEN:-}" ] &&
    gh attestation verify --help >/dev/null 2>&1; then
    can=yes
  fi
  case "$verify_attestation/$can" in
    false/*)
      say "artifact attestation not checked (CUSTOMS_VERIFY_ATTESTATION=false); the recorded SHA-256 matched"
      return
      ;;
    true/no) die "CUSTOMS_VERIFY_ATTESTATION=true, but the attestation cannot be checked here (it needs gh with 'gh attestation' and GH_TOKEN)" ;;
    auto/no)
      say "artifact attestation not checked (it needs gh with 'gh attestation' and GH_TOKEN); the recorded SHA-256 matched"
      return
      ;;
  esac
  case "${GITHUB_SERVER_URL:-https://github.com}" in
    https://github.com) ;;
    *)
      if [ "$verify_attestation" = auto ]; then
        say "artifact attestation not checked on $GITHUB_SERVER_URL (the release's attestations are on github.com); the recorded SHA-256 matched"
        return
      fi
      ;;
  esac
  gh attestation verify "$1" --repo "$repo" \
    --signer-workflow "$repo/.github/workflows/release.yml" >&2 ||
    die "the GitHub artifact attestation of $asset does not verify for $repo: refusing to run it"
  say "artifact attestation of $asset verified for $repo"
}

download() { # url dest
  curl --fail --silent --show-error --location --retry 3 --retry-connrefused \
    --connect-timeout 20 --max-time 300 --output "$2" "$1"
}

target="$(target_triple)"
[ -f "$manifest" ] || source_build "this ref of the Action is not a release (it has no action-release.sha256)"
tag="$(sed -n 's/^# tag: *//p' "$manifest" | head -n1)"
repo="$(sed -n 's/^# repository: *//p' "$manifest" | head -n1)"
[ -n "$tag" ] || die "$manifest names no release tag ('# tag: vX.Y.Z')"
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] ||
  die "$manifest names no repository ('# repository: OWNER/REPO'), or not as OWNER/REPO: '$repo'"
[ -n "$target" ] || source_build "release $tag has no binary for this runner ($os $arch)"
asset="customs-$target.tar.gz"
want="$(recorded_sha "$manifest" "$asset")"
[ -n "$want" ] || source_build "release $tag records no binary for $target"
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "$manifest records '$want' for $asset, which is not a SHA-256"

base="${CUSTOMS_RELEASE_URL:-https://github.com/$repo/releases/download/$tag}"
cache="${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/customs/$tag/$target"
archive="$cache/$asset"

# Every use works on a private copy that is checked, then extracted: what
# was checked is what runs, whatever happens to the cache meanwhile.
work="$(mktemp -d "$temp/customs-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
copy="$work/$asset"
if [ -f "$archive" ] && cp "$archive" "$copy" && [ "$(sha256_of "$copy")" = "$want" ]; then
  say "using the cached $asset of $tag (SHA-256 checked: $want)"
else
  [ ! -f "$archive" ] || say "the cached $asset does not match the recorded SHA-256; downloading it again"
  if ! download "$base/$asset" "$copy"; then
    source_build "could not download $asset of release $tag from $base"
  fi
  got="$(sha256_of "$copy")"
  [ "$got" = "$want" ] ||
    die "$asset from $base has SHA-256 $got, but this Action recorded $want at release time: refusing to run it"
  if download "$base/SHA256SUMS" "$work/SHA256SUMS"; then
    published="$(recorded_sha "$work/SHA256SUMS" "$asset")"
    [ "$published" = "$want" ] ||
      die "the release's SHA256SUMS records '${published:-nothing}' for $asset, but this Action recorded $want: refusing to run it"
  else
    say "the release has no SHA256SUMS to compare with; the recorded SHA-256 matched"
  fi
  check_attestation "$copy"
  mkdir -p "$cache"
  cp "$copy" "$cache/.incoming.$$" && mv -f "$cache/.incoming.$$" "$archive" ||
    say "could not cache $asset in $cache (it is used anyway)"
  say "downloaded $asset of $tag (SHA-256 checked: $want)"
fi

dest="$temp/customs-bin"
rm -rf "$dest"
mkdir -p "$dest"
tar -xzf - -C "$dest" <"$copy"
bin="$dest/customs-$target/customs$exe"
[ -f "$bin" ] || die "$asset holds no customs-$target/customs$exe"
chmod +x "$bin"
# A binary this runner cannot run (an older C library, say) is built from
# source instead; it was verified, so this is about fit, not trust.
if ! "$bin" --version >/dev/null 2>&1; then
  source_build "the release binary of $tag does not run on this runner"
fi
emit "$bin"
