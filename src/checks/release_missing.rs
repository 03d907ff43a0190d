//! `release-missing`: the locked version, or a pinned file, is not on the index.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::index::{ProjectFacts, ReleaseFacts};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ReleaseMissing,
    summary: "The locked version or a pinned file is not on the index",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# release-missing

## What it does
Reports a locked package whose version the index does not list, or a pinned file name that the
release does not have.

## Why it matters
A release disappears from the index when it is deleted — often right after a compromise is found —
or quarantined by the index's administrators. A version that never existed points at a lockfile
that was edited by hand or generated against another index. Either way, what the lockfile says
will be installed is not what the index serves.

## Example
```text
ctx 0.2.6 is not on the index (versions: 0.1.2, 0.2.2): deleted, quarantined, or never published
```

## How to fix
Find out why the release is gone (the project's changelog, security advisories), then re-lock.
If the lock targets a private index, point customs at it with `--index-url`.
"#,
};

/// The version is not among the project's releases.
pub fn missing_version(pkg: &Package, facts: &ProjectFacts) -> Finding {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut recent: Vec<_> = facts
        .releases
        .iter()
        .filter(|r| !r.files.is_empty())
        .collect();
    recent.sort_by_key(|r| std::cmp::Reverse(r.version()));
    let listed: Vec<&str> = recent.iter().take(5).map(|r| r.version.as_str()).collect();
    Finding::for_package(RuleId::ReleaseMissing, pkg)
        .evidence("index", facts.url.clone())
        .evidence("newest-versions", listed.join(", "))
        .message(format!(
            "{} {version} is not on the index: deleted, quarantined, or never published",
            pkg.name
        ))
}

/// Pinned file names the release does not have.
pub fn missing_files(pkg: &Package, release: &ReleaseFacts) -> Option<Finding> {
    if release.files.is_empty() {
        let version = pkg.version.as_ref().map_or("", |v| v.as_str());
        return Some(
            Finding::for_package(RuleId::ReleaseMissing, pkg).message(format!(
                "{} {version} is listed on the index but has no files",
                pkg.name
            )),
        );
    }
    let missing: Vec<&str> = pkg
        .artifacts
        .iter()
        .filter_map(|a| a.filename.as_deref())
        .filter(|name| !release.files.iter().any(|f| f.filename == *name))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut f = Finding::for_package(RuleId::ReleaseMissing, pkg);
    for m in &missing {
        f = f.evidence("file", *m);
    }
    Some(f.message(format!(
        "{} {version}: {} pinned file(s) not on the index ({})",
        pkg.name,
        missing.len(),
        missing.join(", ")
    )))
}
