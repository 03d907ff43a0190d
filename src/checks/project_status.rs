//! `project-status`: the index marks the project archived, quarantined or deprecated (PEP 792).

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::index::ProjectFacts;
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ProjectStatus,
    summary: "The index marks the project archived, quarantined or deprecated",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# project-status

## What it does
Reads the project status an index publishes (PEP 792: `active`, `archived`, `quarantined`,
`deprecated`) and reports any status but `active`. Quarantined is critical; archived and
deprecated are medium.

## Why it matters
A quarantined project is under investigation by the index's administrators, usually for malware.
An archived project gets no more fixes, security fixes included; a deprecated one tells you to move.

## Example
```text
somepkg is quarantined on the index: "Under review for malware"
```

## How to fix
Quarantined: remove the dependency and check the machines that installed it. Archived or
deprecated: plan the move to a maintained alternative; allow the finding with an expiry meanwhile.
"#,
};

/// Reports a non-active status.
pub fn check(pkg: &Package, facts: &ProjectFacts) -> Option<Finding> {
    let status = facts.status.as_ref()?;
    let s = status.status.to_ascii_lowercase();
    let severity = match s.as_str() {
        "active" | "" => return None,
        "quarantined" => Severity::Critical,
        _ => Severity::Medium,
    };
    let mut message = format!("{} is {s} on the index", pkg.name);
    if let Some(r) = &status.reason {
        message.push_str(&format!(": \"{r}\""));
    }
    Some(
        Finding::for_package(RuleId::ProjectStatus, pkg)
            .severity(severity)
            .evidence("status", s)
            .message(message),
    )
}
