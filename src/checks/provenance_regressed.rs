//! `provenance-regressed`: an earlier release had provenance, this one has none
//! (or only some of its pinned files have it).

use super::RuleMeta;
use super::provenance::{Observed, State};
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ProvenanceRegressed,
    summary: "An earlier release had PEP 740 provenance; the locked one has none, or only for some files",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# provenance-regressed

## What it does
Reads the index's provenance listing (PEP 740, Simple API 1.3 and later) for the locked release and
for the releases uploaded before it. Reports the locked release when it has **no** provenance while an
earlier release had it (*lost provenance*), and, at medium severity, when only **some** of the files
the lockfile pins carry it (*partial provenance*; judged only when the lockfile pins files). The
earlier release is the most recent one uploaded before it that is not yanked; when that is a later
version (a backport uploaded after it), the finding is medium with low confidence.

The release states in the JSON report (`packages[].provenance.state`):

| state | meaning |
|---|---|
| `full` | every pinned file has provenance |
| `partial` | some pinned files have provenance, some do not |
| `none` | the index says no pinned file has provenance |
| `unknown` | the index cannot say (a mirror without Simple API 1.3, offline without a cache, an error), or some pinned files could not be checked or verified |
| `not-applicable` | not from an index, or not pinned |

## Why it matters
A release published by the project's CI through Trusted Publishing carries an attestation signed for
that workflow. A release uploaded from an attacker's laptop with a stolen API token cannot carry one.
So *the previous release was attested, this one is not* is one of the strongest signs of a
compromised account. Files added to a release later, or built by another job, show up as partial.

## Example
```text
sampleproject 4.0.1 has no provenance, but the previous release 4.0.0 (2024-11-06) was attested
by GitHub pypa/sampleproject release.yml
```

## How to fix
Do not install the release until you know why. Compare it with the previous one (`customs scan` on
both archives), check the project's repository and announcements for the release, and ask the
maintainers. If the project really stopped using Trusted Publishing, add an `[[allow]]` entry for
`provenance-regressed` with the package, version, a reason and an expiry.
"#,
};

/// Reports lost or partial provenance.
pub fn check(pkg: &Package, o: &Observed) -> Option<Finding> {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    match o.state() {
        State::None => {
            let last = o.last_attested.as_ref()?;
            let date = last
                .uploaded
                .map(|t| format!(" ({})", &t.to_string()[..10]))
                .unwrap_or_default();
            let by = match last.publishers.first() {
                Some(p) => format!(" by {p}"),
                None => String::new(),
            };
            // A baseline on a later version line (a backport uploaded after
            // it) is weaker evidence: such lines are often released by hand.
            let later_line = pkg
                .version
                .as_ref()
                .is_some_and(|v| crate::package::Version::new(&last.version) > *v);
            let (message, confidence) = if later_line {
                (
                    format!(
                        "{} {version} has no provenance, but {}{date}, a later version uploaded before it, was attested{by}",
                        pkg.name, last.version
                    ),
                    Confidence::Low,
                )
            } else if o.unattested_since == 0 {
                (
                    format!(
                        "{} {version} has no provenance, but the previous release {}{date} was attested{by}",
                        pkg.name, last.version
                    ),
                    Confidence::High,
                )
            } else {
                (
                    format!(
                        "{} {version} has no provenance; the last attested release was {}{date}{by}, and the {} release(s) since have none",
                        pkg.name, last.version, o.unattested_since
                    ),
                    Confidence::Medium,
                )
            };
            let mut f = Finding::for_package(RuleId::ProvenanceRegressed, pkg)
                .confidence(confidence)
                .evidence("last-attested-release", last.version.clone());
            if later_line {
                f = f.severity(Severity::Medium);
            }
            if let Some(p) = last.publishers.first() {
                f = f.evidence("last-publisher", p.to_string());
            }
            Some(f.message(message))
        }
        // Judged only for files the lockfile pins: one odd wheel among sixty
        // that nobody installs is not worth a finding.
        State::Partial if o.pinned => {
            let (with, without, _) = o.counts();
            let missing: Vec<&str> = o
                .files
                .iter()
                .filter(|f| f.state == super::provenance::FileState::None)
                .map(|f| f.filename.as_str())
                .collect();
            let mut f = Finding::for_package(RuleId::ProvenanceRegressed, pkg)
                .severity(Severity::Medium)
                .confidence(Confidence::Medium);
            for m in &missing {
                f = f.evidence("without-provenance", *m);
            }
            Some(f.message(format!(
                "{without} of the {} pinned files of {} {version} have no provenance while {with} do: files uploaded apart from the attested ones",
                with + without,
                pkg.name
            )))
        }
        State::Partial | State::Full | State::Unknown => None,
    }
}
