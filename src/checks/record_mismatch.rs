//! `record-mismatch`: an installed file differs from the hash its
//! distribution's `RECORD` gives (`audit --env`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::RecordMismatch,
    summary: "An installed file differs from its distribution's RECORD: modified after install",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# record-mismatch

## What it does
With `customs audit --env PATH`, hashes every file an installed distribution's `RECORD` lists (in
the site directory, read-only) and reports each whose sha256 is not the one `RECORD` gives.

## Why it matters
Installers write `RECORD` with the hash of every file they install. A file that changed since was
changed by something else: a hand edit, a build step, or malware that plants code in a trusted
package (an `__init__.py` that now also posts the environment) so that it runs on every import.

## Example
```text
site-packages/requests/__init__.py differs from what requests 2.32.3 installed (its RECORD hash): modified after install
```

## How to fix
Find what changed the file (compare it with the wheel from the index), then reinstall the
distribution (`pip install --force-reinstall NAME==VERSION`) or rebuild the environment. An
`[[allow]]` entry with a reason and an expiry accepts an intended local patch.
"#,
};
