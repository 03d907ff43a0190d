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

An attestation logged after every key of the trusted root was made cannot be decided with that root:
it is shown as `unverifiable` in `packages[].provenance.files[].verification`, not as forged. Update
customs, or pass a current root with `--trusted-root`.

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
        if let Some(why) = verdicts.iter().find_map(|v| match v {
            Verdict::Invalid(w) => Some(w),
            _ => None,
        }) {
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
