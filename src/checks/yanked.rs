//! `yanked`: the locked release (or a pinned file) is yanked on the index.

use super::RuleMeta;
use super::release::ReleaseView;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::Yanked,
    summary: "The locked release or a pinned file is yanked on the index",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# yanked

## What it does
Reports a locked release whose files the index marks as yanked (PEP 592), with the reason the
maintainers gave. When the lockfile pins specific files, only those count.

## Why it matters
Maintainers yank a release that is broken, insecure or was published by mistake; after a
compromise, the malicious release is often yanked before it is deleted. Installers skip yanked
releases when resolving, but a lockfile keeps installing them.

## Example
```text
requests 2.32.0 is yanked: "Yanked due to conflicts with CVE-2024-35195 mitigation"
```

## How to fix
Re-lock to a release that is not yanked (`uv lock --upgrade-package requests`). If you must keep it
for now, add an `[[allow]]` entry for `yanked` with the version, a reason and an expiry.
"#,
};

/// Reports the package when every pinned file (or every file of the release) is yanked.
pub fn check(pkg: &Package, view: &ReleaseView<'_>) -> Option<Finding> {
    let release = view.release()?;
    let pinned = view.pinned_files();
    let files: Vec<_> = if pinned.is_empty() {
        release.files.iter().collect()
    } else {
        pinned
    };
    if files.is_empty() || !files.iter().all(|f| f.yanked) {
        return None;
    }
    let reason = files.iter().find_map(|f| f.yanked_reason.clone());
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let message = match &reason {
        Some(r) => format!("{} {version} is yanked on the index: \"{r}\"", pkg.name),
        None => format!(
            "{} {version} is yanked on the index (no reason given)",
            pkg.name
        ),
    };
    let mut f = Finding::for_package(RuleId::Yanked, pkg);
    if let Some(r) = reason {
        f = f.evidence("reason", r);
    }
    Some(f.message(message))
}
