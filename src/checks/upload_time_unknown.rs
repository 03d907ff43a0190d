//! `upload-time-unknown`: nothing says when the locked release was uploaded.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::UploadTimeUnknown,
    summary: "Neither the lockfile nor the index says when the release was uploaded",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# upload-time-unknown

## What it does
Reports a locked release for which neither the lockfile nor the index gives an upload time, so the
cooldown cannot be evaluated.

## Why it matters
The cooldown is only as good as the time it measures. Some mirrors and old Simple API versions
publish no upload times; treating "unknown" as "old enough" would let a fresh release through.

## Example
```text
internal-lib 1.4.0: neither the lockfile nor the index gives an upload time
```

## How to fix
Use an index that publishes upload times (Simple API 1.1 or later, or the JSON API), or lock with
uv, whose lockfile records them. To accept a package whose age cannot be known, add it to
`cooldown-exempt` or allow the finding with an expiry.
"#,
};

/// The finding.
pub fn finding(pkg: &Package, why: &str) -> Finding {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    Finding::for_package(RuleId::UploadTimeUnknown, pkg).message(format!(
        "{} {version}: {why}, so the cooldown cannot be checked",
        pkg.name
    ))
}
