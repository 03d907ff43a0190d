#!/usr/bin/env python3
"""Compare customs' reading of requirements files with pip's own parser.

Usage: scripts/compare-pip.py FILE...
Runs pip's `parse_requirements` (the code `pip install -r` uses) and
`customs audit --offline --format json` on each file and compares, per
requirement, the file, the line and the pinned version. Needs a built
`target/debug/customs`. Exit 1 on any difference.
"""
import json, os, pathlib, re, subprocess, sys

from pip._internal.network.session import PipSession
from pip._internal.req.constructors import install_req_from_parsed_requirement
from pip._internal.req.req_file import parse_requirements

root = pathlib.Path(__file__).resolve().parent.parent
customs = root / "target" / "debug" / "customs"
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
status = 0
for f in sys.argv[1:]:
    theirs = set()
    for parsed in parse_requirements(f, session=PipSession(), constraint=False):
        if parsed.constraint:
            continue  # customs keeps constraints apart (group `constraint`)
        req = install_req_from_parsed_requirement(parsed)
        m = re.match(r"^-[rc] (.*) \(line (\d+)\)$", parsed.comes_from)
        where = (os.path.normpath(m.group(1)), int(m.group(2))) if m else ("?", 0)
        name = norm(req.name) if req.name else "?"
        spec = req.req.specifier if req.req is not None else []
        pins = [s.version for s in spec if s.operator in ("==", "===")]
        version = pins[0] if len(pins) == 1 and len(spec) == 1 else None
        theirs.add((name, version, where[0], where[1]))
    out = subprocess.run([str(customs), "audit", "--offline", "--format", "json", f],
                         capture_output=True, text=True)
    report = json.loads(out.stdout)
    ours = set()
    for p in report["packages"]:
        if "constraint" in p.get("groups", []):
            continue
        version = p["version"] if p["source"]["kind"] in ("registry",) else None
        ours.add((p["name"], version, os.path.normpath(p["lockfile"]), p["line"]))
    # pip reports versions only for specifier pins; URL/VCS entries carry none.
    theirs_cmp = {(n, v if v else None, w, l) for n, v, w, l in theirs}
    diff_a, diff_b = theirs_cmp - ours, ours - theirs_cmp
    print(f"{f}: pip {len(theirs_cmp)} requirements, customs {len(ours)}; "
          f"only pip: {sorted(diff_a)}; only customs: {sorted(diff_b)}")
    if diff_a or diff_b:
        status = 1
sys.exit(status)
