//! `record-mismatch`: an installed file differs from the hash its
//! distribution's `RECORD` gives (`audit --env`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::RecordMismatch,
    summary: "A file differs from the RECORD that should list it: an installed file modified after install, or a wheel member changed after the wheel was built",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# record-mismatch

## What it does
With `customs audit --env PATH`, hashes every file an installed distribution's `RECORD` lists (in
the site directory, read-only) and reports each whose sha256 is not the one `RECORD` gives.

In a wheel it scans, customs checks every member it reads whole (Python code, `.pth` files,
metadata) against the wheel's own `RECORD`: a member whose sha256 differs is high, a member the
`RECORD` does not list (other than `RECORD` itself and its signatures) is medium. Installers do not
check this. A wheel read by range requests (`--range-reads-over`) relies on it: one that disagrees
is read whole instead.

## Why it matters
Installers write `RECORD` with the hash of every file they install. A file that changed since was
changed by something else: a hand edit, a build step, or malware that plants code in a trusted
package (an `__init__.py` that now also posts the environment) so that it runs on every import.

## Example
```text
site-packages/requests/__init__.py differs from what requests 2.32.3 installed (its RECORD hash): modified after install
inertpkg.pth differs from the wheel's own RECORD (sha256=…, RECORD says sha256=…): changed after the wheel was built
```

## How to fix
Find what changed the file (compare it with the wheel from the index), then reinstall the
distribution (`pip install --force-reinstall NAME==VERSION`) or rebuild the environment. An
`[[allow]]` entry with a reason and an expiry accepts an intended local patch. For a wheel, ask
its publisher: a member that disagrees with `RECORD` was changed by something after the build tool
wrote it (a post-build patch step, or tampering); the released files cannot be fixed in place.
"#,
};
