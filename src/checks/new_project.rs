//! `new-project`: a young or barely-used project that is not on the popular list.

use jiff::{SignedDuration, Timestamp};

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::index::ProjectFacts;
use crate::names::TopPackages;
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::NewProject,
    summary: "The project is brand new or barely established, and not a popular one",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    docs: r#"# new-project

## What it does
Reports a project that is not on the popular list and either had its first upload less than 90
days before now (`--as-of`), or has at most two releases and no source repository URL (GitHub,
GitLab, Codeberg, Bitbucket...). Offline, or when the index cannot answer, the check says it could
not run instead of passing.

## Why it matters
Names that code assistants hallucinate get registered by attackers ("slopsquatting"), and fresh
malicious projects are uploaded under plausible names every day. A dependency that appeared last
week, with one release and no source repository, deserves a human look before it is trusted.

## Example
```text
fastapi-jwt-middleware was first uploaded 2026-11-02, 3 weeks ago: 1 release, no source repository URL
```

## How to fix
Read the project's page and source. If it is what you want, allow it with an `[[allow]]` entry
(rule `new-project`, the package, a reason and an expiry: after the expiry it will be established
or worth another look).
"#,
};

/// How young a project must be to count as new.
pub const NEW_AGE: SignedDuration = SignedDuration::from_hours(90 * 24);

/// Reports a project that looks brand new.
pub fn check(
    pkg: &Package,
    facts: &ProjectFacts,
    top: &TopPackages,
    as_of: Timestamp,
) -> Option<Finding> {
    if top.rank(pkg.name.as_str()).is_some() {
        return None;
    }
    let first = facts.first_upload();
    let young = first.is_some_and(|t| as_of.duration_since(t) < NEW_AGE);
    let releases = facts.releases_with_files();
    // The Simple API publishes no project URLs: only the JSON API can say "none".
    let no_source = facts.api == "json" && !facts.has_source_url();
    let thin = releases <= 2 && no_source;
    if !young && !thin {
        return None;
    }
    let mut why = Vec::new();
    if let Some(t) = first {
        let days = as_of.duration_since(t).as_secs() / 86_400;
        why.push(format!("first uploaded {t} ({days} days before {as_of})"));
    }
    why.push(format!(
        "{releases} release{}",
        if releases == 1 { "" } else { "s" }
    ));
    if no_source {
        why.push("no source repository URL".into());
    }
    let mut f = Finding::for_package(RuleId::NewProject, pkg)
        .confidence(if young && thin {
            Confidence::High
        } else {
            Confidence::Medium
        })
        .evidence("releases", releases.to_string());
    if let Some(t) = first {
        f = f.evidence("first-upload", t.to_string());
    }
    Some(f.message(format!(
        "{} is a new or barely established project: {}",
        pkg.name,
        why.join(", ")
    )))
}
