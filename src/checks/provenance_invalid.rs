//! `provenance-invalid`: an attestation of a pinned file does not verify.

use super::RuleMeta;
use super::provenance::{FileState, Observed};
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;
use crate::provenance::Verdict;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ProvenanceInvalid,
    summary: "An attestation of a pinned file does not verify against the Sigstore trusted root",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# provenance-invalid

## What it does
Verifies every attestation of the pinned files (up to four files per release) offline against the
Sigstore public-good trusted root embedded in customs (or `--trusted-root FILE`): the certificate
chain to Fulcio, the Rekor transparency-log inclusion, the signature over the in-toto statement, the
statement's subject equal to the file's sha256 as the index publishes it (no download needed), and
the certificate identity equal to the publisher the index names. Any failure is reported.

An attestation that cannot be decided is reported at medium severity, not as forged: one logged
after every key of the trusted root was made (its signature over the statement must still verify;
update customs, or pass a current root with `--trusted-root`), or one from a publisher kind whose
certificate identity customs cannot derive (only GitHub, GitLab and Google are). Such a file counts
as `unknown` in `packages[].provenance`, and its publisher is not trusted by the other rules.

## Why it matters
The index checks attestations when they are uploaded, so an attestation that does not verify means
the index, a mirror or a proxy between you and it served something else than what was signed: a
swapped file, a forged attestation, or an attestation for another repository.

## Example
```text
sampleproject 4.0.0: the attestation of sampleproject-4.0.0.tar.gz does not verify: the statement's
subject (sha256 0ace79…) is not this file (sha256 1111…)
```

## How to fix
Treat the file as tampered with until shown otherwise. Check which index or mirror served it
(`--index-url`), compare the sha256 with the public index, and report it to the mirror's operator. Do
not allow this rule for a release unless you know the cause.
"#,
};

/// Reports each pinned file whose attestations do not all verify.
pub fn check(pkg: &Package, o: &Observed) -> Vec<Finding> {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut out = Vec::new();
    for f in &o.files {
        let FileState::Attested { verdicts, .. } = &f.state else {
            continue;
        };
        let invalid = verdicts.iter().find_map(|v| match v {
            Verdict::Invalid(w) => Some(w),
            _ => None,
        });
        let unverifiable = verdicts.iter().find_map(|v| match v {
            Verdict::Unverifiable(w) => Some(w),
            _ => None,
        });
        if invalid.is_none()
            && let Some(why) = unverifiable
        {
            // Not forged as far as customs can tell, but not proven either:
            // unknown is not a pass.
            out.push(
                Finding::for_package(RuleId::ProvenanceInvalid, pkg)
                    .severity(Severity::Medium)
                    .confidence(Confidence::Low)
                    .evidence("file", f.filename.clone())
                    .message(format!(
                        "{} {version}: the attestation of {} cannot be verified: {why}",
                        pkg.name, f.filename
                    )),
            );
        }
        if let Some(why) = invalid {
            out.push(
                Finding::for_package(RuleId::ProvenanceInvalid, pkg)
                    .evidence("file", f.filename.clone())
                    .message(format!(
                        "{} {version}: the attestation of {} does not verify: {why}",
                        pkg.name, f.filename
                    )),
            );
        }
    }
    out
}
