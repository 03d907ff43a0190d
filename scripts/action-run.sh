#!/usr/bin/env bash
# The run step of action.yml, kept in a file so tests can run it with a
# simulated GITHUB_OUTPUT / GITHUB_STEP_SUMMARY environment.
#
# Inputs arrive as environment variables (set by action.yml):
#   CUSTOMS_BIN              the customs binary to run
#   INPUT_PATHS              newline- or space-separated paths (default ".")
#   INPUT_CONFIG             a config file (optional)
#   INPUT_FAIL_ON            lowest failing severity (optional)
#   INPUT_FAIL_ON_UNKNOWN    "true" / "false"
#   INPUT_COOLDOWN           cooldown window (optional)
#   INPUT_SARIF              "true" writes a SARIF file
#   INPUT_SUMMARY            "true" appends the Markdown summary to GITHUB_STEP_SUMMARY
#   INPUT_BASELINE           an earlier JSON report (optional)
#   INPUT_DIFF_BASE          a git revision: judge only the change since it
#                            (optional; the pull request's base commit by default)
#   RUNNER_TEMP              where report files go
# Outputs (to GITHUB_OUTPUT): findings, verdict, report-file, sarif-file.
set -uo pipefail

bin="${CUSTOMS_BIN:?CUSTOMS_BIN is not set}"

# Index credentials are masked in the workflow log before anything runs
# (customs itself never prints them; this covers every other step's output).
mask_url_secret() {
  local url="$1" authority userinfo
  case "$url" in *://*) ;; *) return 0 ;; esac
  authority="${url#*://}"
  authority="${authority%%/*}"
  case "$authority" in *@*) ;; *) return 0 ;; esac
  userinfo="${authority%@*}"
  if [ "${userinfo#*:}" != "$userinfo" ]; then
    echo "::add-mask::${userinfo#*:}"
  else
    echo "::add-mask::${userinfo}"
  fi
}
for var in PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_DEFAULT_INDEX UV_INDEX UV_EXTRA_INDEX_URL; do
  for url in ${!var:-}; do
    # `name=url` (UV_INDEX); a password may itself contain `=` (base64).
    case "${url%%=*}" in
      *[:/@]*) ;;
      *) url="${url#*=}" ;;
    esac
    mask_url_secret "$url"
  done
done
while IFS='=' read -r name value; do
  case "$name" in UV_INDEX_*_PASSWORD) [ -n "$value" ] && echo "::add-mask::$value" ;; esac
done < <(env)
out_dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/customs"
mkdir -p "$out_dir"
report="$out_dir/customs-report.json"
sarif="$out_dir/customs.sarif"
summary="$out_dir/customs-summary.md"

args=(audit --format github --json-file "$report" --summary-file "$summary")
[ "${INPUT_SARIF:-false}" = "true" ] && args+=(--sarif-file "$sarif")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
[ "${INPUT_FAIL_ON_UNKNOWN:-true}" = "true" ] && args+=(--fail-on-unknown)
[ -n "${INPUT_COOLDOWN:-}" ] && args+=(--cooldown "$INPUT_COOLDOWN")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
if [ -n "${INPUT_DIFF_BASE:-}" ]; then
  # A shallow checkout (actions/checkout's default) lacks the base commit:
  # fetch that one commit, nothing else.
  if ! git cat-file -e "${INPUT_DIFF_BASE}^{commit}" 2>/dev/null; then
    echo "customs: fetching the base commit ${INPUT_DIFF_BASE} to compare with"
    git fetch --quiet --no-tags --depth=1 origin "$INPUT_DIFF_BASE" 2>&1 || true
  fi
  args+=(--diff-base "$INPUT_DIFF_BASE")
fi
args+=(--)
# Paths: split on newlines and spaces; none means the workspace root.
read -r -d '' -a paths <<<"${INPUT_PATHS:-.}"
[ ${#paths[@]} -eq 0 ] && paths=(.)
args+=("${paths[@]}")

"$bin" "${args[@]}"
code=$?

if [ $code -le 1 ] && [ -f "$report" ]; then
  findings=$(sed -n 's/^    "findings": \([0-9]*\),\{0,1\}$/\1/p' "$report" | tail -n 1)
  verdict=$(sed -n 's/^    "verdict": "\([a-z]*\)".*$/\1/p' "$report" | tail -n 1)
else
  findings=""
  verdict="error"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "findings=${findings}"
    echo "verdict=${verdict}"
    echo "report-file=$( [ -f "$report" ] && echo "$report" )"
    echo "sarif-file=$( [ -f "$sarif" ] && echo "$sarif" )"
  } >>"$GITHUB_OUTPUT"
fi
if [ "${INPUT_SUMMARY:-true}" = "true" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$summary" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
exit $code
