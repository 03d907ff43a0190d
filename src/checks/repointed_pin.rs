//! `repointed-pin`: between the base of a change and the change itself
//! (`audit --diff-base REF`), a locked release kept its version but a file
//! of it now has another hash, or it now comes from another source.

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::RepointedPin,
    summary: "A change keeps a release's version but points its pin at other bytes or another source",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# repointed-pin

## What it does
With `customs audit --diff-base REF`, compares each lockfile with the same file at the git revision
REF (the base of a pull request). A package whose version did not change but whose pinned hashes
did is reported: a file the base named now has another sha256 (critical), the hashes of a
requirement were replaced by others (high), or the package now comes from another index, URL or
repository (high). Files only added to or only removed from a release's pins (a re-lock for another
Python version) are not reported.

## Why it matters
A version number is a name, not the bytes. The index never lets a file be replaced, so a release
whose hash changes under the same version comes from somewhere else: a mirror that serves other
bytes, an index that shadows the public one (dependency confusion), or a hand-edited lockfile in a
pull request that looks like a no-op.

## Example
```text
requests 2.32.3: the hash of requests-2.32.3-py3-none-any.whl changed (sha256:70761c… at origin/main, now sha256:9f3a1b…) while its version did not
```

## How to fix
Find out why the bytes changed. Re-lock from the index you trust (`uv lock --refresh-package NAME`)
and compare the hashes with the ones the index publishes. An `[[allow]]` entry for `repointed-pin`
(with a reason and an expiry) accepts a known, intended source change.
"#,
};
