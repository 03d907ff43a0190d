#!/usr/bin/env bash
# Builds the Python wheel that carries the customs binary, installs it into a
# fresh virtualenv and runs it: `customs --version` and one offline audit.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/wheel-venv
rm -rf "$venv" target/wheels
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "maturin>=1.5,<2"
"$venv/bin/maturin" build --release --quiet --out target/wheels
"$venv/bin/pip" install --quiet --force-reinstall target/wheels/customs_cli-*.whl
"$venv/bin/customs" --version
"$venv/bin/customs" audit --offline --no-config --format json testdata/lockfiles/uv/django-app/uv.lock > target/wheel-smoke.json || [ $? -eq 1 ]
python3 -c 'import json; r = json.load(open("target/wheel-smoke.json")); assert r["summary"]["packages"] == 26, r["summary"]; print("wheel smoke test ok:", r["summary"]["packages"], "packages")'
