#!/usr/bin/env python3
"""Compare customs' reading of a uv.lock with uv's own (`uv export`).

Usage: scripts/compare-uv.py DIR...   (each DIR holds pyproject.toml + uv.lock)
Needs `uv` on PATH and a built `target/debug/customs`. Prints, per lock, the
packages only one side sees. uv export drops the workspace root and resolves
markers for every environment; registry packages must match exactly.
"""
import json, re, subprocess, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
customs = root / "target" / "debug" / "customs"
status = 0
for d in sys.argv[1:]:
    d = pathlib.Path(d)
    out = subprocess.run(
        ["uv", "export", "--frozen", "--format", "requirements-txt", "--no-hashes",
         "--all-groups", "--all-extras", "--no-header", "--no-annotate"],
        cwd=d, capture_output=True, text=True, check=True).stdout
    theirs = set()
    for line in out.splitlines():
        m = re.match(r"^([A-Za-z0-9._-]+)==([^ ;]+)", line.strip())
        if m:
            theirs.add((re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(2)))
    report = json.loads(subprocess.run(
        [str(customs), "audit", "--offline", "--format", "json", str(d / "uv.lock")],
        capture_output=True, text=True).stdout)
    ours = {(p["name"], p["version"]) for p in report["packages"]
            if p["source"]["kind"] == "registry"}
    only_uv, only_customs = theirs - ours, ours - theirs
    print(f"{d}: uv export {len(theirs)} registry pins, customs {len(ours)}; "
          f"only uv: {sorted(only_uv)}; only customs: {sorted(only_customs)}")
    if only_uv:
        status = 1
sys.exit(status)
