//! `hash-mismatch`: a pinned sha256 matches no file of the release on the index.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::index::ReleaseFacts;
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::HashMismatch,
    summary: "A pinned hash matches no file of the release on the index",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# hash-mismatch

## What it does
Compares every sha256 the lockfile pins for a release with the sha256 the index publishes for the
release's files. A pinned file name must carry the index's hash for that file; a bare hash (a
requirements `--hash`) must match one of the release's files.

## Why it matters
Installers refuse a file whose hash differs from the pin, so a mismatch either breaks your build or
means the lockfile was edited to accept a different file. An index serving different bytes for a
published release is what a compromised mirror or a hijacked download path looks like.

## Example
```text
six 1.16.0: the pinned sha256:0000… matches no file of the release on the index
```

## How to fix
Re-generate the hashes from the index you trust (`uv lock`, `pip-compile --generate-hashes`) and
review the diff: a hash should only change when the version does.
"#,
};

/// Reports each pinned sha256 that the release does not have.
pub fn check(pkg: &Package, release: &ReleaseFacts) -> Option<Finding> {
    let mut bad = Vec::new();
    for a in &pkg.artifacts {
        let Some(pinned) = a.sha256() else { continue };
        let ok = match &a.filename {
            Some(name) => match release.files.iter().find(|f| &f.filename == name) {
                // A file the index lacks is `release-missing`, not a mismatch.
                None => true,
                Some(f) => f.sha256.as_deref().is_none_or(|h| h == pinned),
            },
            None => release
                .files
                .iter()
                .any(|f| f.sha256.as_deref() == Some(pinned)),
        };
        if !ok {
            bad.push((a.filename.clone(), pinned.to_string()));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut f = Finding::for_package(RuleId::HashMismatch, pkg);
    for (name, hash) in &bad {
        f = f.evidence(
            name.clone().unwrap_or_else(|| "pinned".into()),
            format!("sha256:{hash}"),
        );
    }
    let what = bad
        .iter()
        .map(|(n, h)| match n {
            Some(n) => format!("{n} sha256:{}…", &h[..h.len().min(12)]),
            None => format!("sha256:{}…", &h[..h.len().min(12)]),
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(f.message(format!(
        "{} {version}: pinned hash(es) match no file of the release on the index: {what}",
        pkg.name
    )))
}
