#!/usr/bin/env python3
"""Regenerate data/top-packages.txt from a "top PyPI packages" JSON file.

Usage: scripts/gen-top-packages.py SOURCE.json [data/top-packages.txt]

SOURCE is the published format (`{"last_update": ..., "rows": [{"project": ...,
"download_count": ...}, ...]}`, e.g. top-pypi-packages-30-days.min.json). The
output keeps only what customs needs: PEP 503 normalised names in rank order
(line N after the header = rank N), with the source and date in the header.
"""
import json
import re
import sys

src = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else "data/top-packages.txt"
with open(src, encoding="utf-8") as f:
    doc = json.load(f)
rows = sorted(doc["rows"], key=lambda r: -int(r["download_count"]))
seen, names = set(), []
for r in rows:
    n = re.sub(r"[-_.]+", "-", r["project"]).lower()
    if n not in seen:
        seen.add(n)
        names.append(n)
with open(out, "w", encoding="utf-8", newline="\n") as f:
    f.write("# The most-downloaded projects on the public Python package index, by 30-day downloads.\n")
    f.write(f"# source: top-pypi-packages-30-days ({doc.get('source', 'unknown')}), last_update {doc.get('last_update', 'unknown')}\n")
    f.write(f"# projects: {len(names)}; one PEP 503 normalised name per line, line order = rank\n")
    f.write("# regenerate: scripts/gen-top-packages.py top-pypi-packages-30-days.min.json data/top-packages.txt\n")
    for n in names:
        f.write(n + "\n")
print(f"wrote {len(names)} names to {out}")
