//! `provenance-missing`: a package the config (or pylock.toml) requires to be
//! attested has no provenance, or only for some files, or the index cannot tell.

use super::RuleMeta;
use super::provenance::{Observed, State};
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ProvenanceMissing,
    summary: "A package required to carry provenance (require-attestations, pylock.toml) lacks it",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# provenance-missing

## What it does
For the packages you list in `require-attestations` in the config, and for every package whose
`pylock.toml` entry records `attestation-identities`, reports a locked release whose pinned files do
not all carry PEP 740 provenance. When the index cannot tell (a mirror without Simple API 1.3,
offline without a cache), it reports that at medium severity: unknown is not a pass.

```toml
require-attestations = ["requests", "urllib3"]
```

Packages not listed are never reported by this rule: most projects on the index do not publish
attestations yet, and their absence alone says little. `provenance-regressed` covers projects that
had provenance and lost it.

## Why it matters
For the projects you know publish through Trusted Publishing, a release without an attestation did
not come from their CI. Requiring it turns "an attacker uploaded with a stolen token" from something
to notice into something that fails the build.

## Example
```text
urllib3 2.5.0 is required to carry provenance (require-attestations), but the index has none for
its pinned files
```

## How to fix
Check why the release lacks provenance before installing it. If the project stopped publishing
attestations, remove it from `require-attestations`, or add an `[[allow]]` entry for this version
with a reason and an expiry.
"#,
};

fn why_required(pkg: &Package) -> &'static str {
    if pkg.attestation_identities.is_empty() {
        "require-attestations"
    } else {
        "pylock.toml records attestation-identities"
    }
}

/// Reports a required package whose release is not fully attested.
pub fn check(pkg: &Package, o: &Observed) -> Option<Finding> {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let (with, without, unchecked) = o.counts();
    let message = match o.state() {
        State::Full => return None,
        State::None => format!(
            "{} {version} is required to carry provenance ({}), but the index has none for its pinned files",
            pkg.name,
            why_required(pkg)
        ),
        State::Partial => format!(
            "{} {version} is required to carry provenance ({}), but {without} of its {} pinned files have none",
            pkg.name,
            why_required(pkg),
            with + without + unchecked
        ),
        State::Unknown => {
            return Some(unknown(pkg, "no pinned file's provenance could be checked"));
        }
    };
    Some(Finding::for_package(RuleId::ProvenanceMissing, pkg).message(message))
}

/// A required package whose provenance nobody can tell.
pub fn unknown(pkg: &Package, why: &str) -> Finding {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    Finding::for_package(RuleId::ProvenanceMissing, pkg)
        .severity(Severity::Medium)
        .confidence(Confidence::Low)
        .evidence("reason", why)
        .message(format!(
            "{} {version} is required to carry provenance ({}), but it cannot be checked: {why}",
            pkg.name,
            why_required(pkg)
        ))
}
