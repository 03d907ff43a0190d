//! A wheel's `RECORD` (the CSV of every file and its sha256 that installers
//! write into site-packages): its rows, its digest encoding, and the check of
//! a wheel's members against it. Installers do not check it when they
//! install; customs does, for every member it reads whole.

use std::collections::{BTreeMap, BTreeSet};

use sha2::Digest as _;

use crate::finding::{Confidence, RuleId, Severity};
use crate::scan::MemberFinding;

/// RECORD rows: path and the sha256 given (CSV, the path quoted when it has a comma).
pub(crate) fn rows(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let (path, rest) = if let Some(stripped) = line.strip_prefix('"') {
                let end = stripped.find("\",")?;
                (stripped[..end].replace("\"\"", "\""), &stripped[end + 2..])
            } else {
                let (p, r) = line.split_once(',')?;
                (p.to_string(), r)
            };
            let hash = rest
                .split(',')
                .next()
                .and_then(|h| h.strip_prefix("sha256="))
                .map(str::to_string);
            Some((path, hash))
        })
        .collect()
}

/// A digest as a RECORD writes it: urlsafe base64 without padding.
pub(crate) fn encode_digest(digest: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The sha256 of `bytes` as a RECORD writes it.
pub(crate) fn digest(bytes: &[u8]) -> String {
    encode_digest(&sha2::Sha256::digest(bytes))
}

/// Whether `path` is a wheel's own `NAME-VERSION.dist-info/RECORD`.
pub(crate) fn is_record(path: &str) -> bool {
    path.strip_suffix("/RECORD")
        .is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
}

/// Files RECORD does not list by design: itself and its signatures.
fn unlisted_by_design(path: &str) -> bool {
    is_record(path)
        || path
            .strip_suffix(".jws")
            .or_else(|| path.strip_suffix(".p7s"))
            .is_some_and(is_record)
}

/// What the check of a wheel against its RECORD found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecordCheck {
    /// Whether the wheel has a RECORD.
    pub present: bool,
    /// Members read whole whose digest RECORD confirms.
    pub verified: usize,
    /// Members read whole whose digest differs from RECORD's.
    pub mismatched: usize,
    /// Members RECORD does not list.
    pub unlisted: usize,
    /// Members read whole that RECORD lists without a hash (allowed, for
    /// `.pyc` files, but then nothing vouches for their bytes).
    pub unhashed: usize,
}

impl RecordCheck {
    /// Whether a RECORD is there and vouches for every member read whole:
    /// each listed with the hash it has.
    pub fn vouches(&self) -> bool {
        self.present && self.mismatched == 0 && self.unlisted == 0 && self.unhashed == 0
    }
}

/// Checks a wheel's members against its RECORD: `members` are every file
/// member's path, `digests` the (path, digest) of those read whole. Returns
/// the summary and a finding per disagreement.
pub(crate) fn check(
    record: Option<&[u8]>,
    members: &[String],
    digests: &[(String, String)],
) -> (RecordCheck, Vec<(Option<String>, MemberFinding)>) {
    let Some(record) = record else {
        return (RecordCheck::default(), Vec::new());
    };
    // Some build tools on Windows write `pkg\\mod.py`: the same member.
    let listed: BTreeMap<String, Option<String>> = rows(&String::from_utf8_lossy(record))
        .into_iter()
        .map(|(path, hash)| (path.replace('\\', "/"), hash))
        .collect();
    let mut out = RecordCheck {
        present: true,
        ..RecordCheck::default()
    };
    let mut findings = Vec::new();
    for (path, got) in digests {
        match listed.get(path) {
            Some(Some(expected)) if expected == got => out.verified += 1,
            Some(Some(expected)) => {
                out.mismatched += 1;
                findings.push((
                    Some(path.clone()),
                    MemberFinding {
                        rule: RuleId::RecordMismatch,
                        severity: Severity::High,
                        confidence: Confidence::High,
                        line: None,
                        message: format!(
                            "{path} differs from the wheel's own RECORD (sha256={got}, RECORD says sha256={expected}): changed after the wheel was built"
                        ),
                        evidence: vec![
                            ("record".into(), format!("sha256={expected}")),
                            ("member".into(), format!("sha256={got}")),
                        ],
                    },
                ));
            }
            // Listed without a hash (allowed for RECORD itself and .pyc).
            Some(None) if !unlisted_by_design(path) => out.unhashed += 1,
            Some(None) | None => {}
        }
    }
    let unlisted: BTreeSet<&String> = members
        .iter()
        .filter(|p| !listed.contains_key(*p) && !unlisted_by_design(p))
        .collect();
    out.unlisted = unlisted.len();
    for path in unlisted {
        findings.push((
            Some(path.clone()),
            MemberFinding {
                rule: RuleId::RecordMismatch,
                severity: Severity::Medium,
                confidence: Confidence::High,
                line: None,
                message: format!(
                    "{path} is in the wheel but not in its RECORD: installers put it in place unrecorded (added after the wheel was built?)"
                ),
                evidence: Vec::new(),
            },
        ));
    }
    (out, findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_checked_against_the_record() {
        let record = format!(
            "pkg/__init__.py,sha256={},5\n\"pkg/a,b.py\",sha256={},1\npkg-1.0.dist-info/RECORD,,\n",
            digest(b"x = 1"),
            digest(b"y")
        );
        let members: Vec<String> = [
            "pkg/__init__.py",
            "pkg/a,b.py",
            "pkg-1.0.dist-info/RECORD",
            "pkg-1.0.dist-info/RECORD.jws",
        ]
        .map(String::from)
        .to_vec();
        let digests = vec![
            ("pkg/__init__.py".to_string(), digest(b"x = 1")),
            ("pkg/a,b.py".to_string(), digest(b"y")),
        ];
        let (ok, findings) = check(Some(record.as_bytes()), &members, &digests);
        assert!(ok.vouches(), "{ok:?} {findings:?}");
        assert_eq!(ok.verified, 2);

        let digests = vec![("pkg/__init__.py".to_string(), digest(b"x = 2"))];
        let mut members = members;
        members.push("pkg/extra.py".into());
        let (bad, findings) = check(Some(record.as_bytes()), &members, &digests);
        assert_eq!((bad.mismatched, bad.unlisted, bad.verified), (1, 1, 0));
        assert!(!bad.vouches());
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].1.severity, Severity::High);
        assert_eq!(findings[1].0.as_deref(), Some("pkg/extra.py"));

        let unhashed = "pkg/__init__.py,,\npkg-1.0.dist-info/RECORD,,\n";
        let digests = vec![("pkg/__init__.py".to_string(), digest(b"x = 1"))];
        let members = vec!["pkg/__init__.py".to_string()];
        let (weak, _) = check(Some(unhashed.as_bytes()), &members, &digests);
        assert_eq!(weak.unhashed, 1);
        assert!(!weak.vouches(), "a row without a hash vouches for nothing");

        let (none, findings) = check(None, &members, &digests);
        assert!(!none.present && findings.is_empty());
    }

    #[test]
    fn a_record_written_with_backslashes_lists_the_same_members() {
        let record = format!(
            "pkg\\__init__.py,sha256={},5\npkg-1.0.dist-info\\RECORD,,\n",
            digest(b"x = 1")
        );
        let members = vec![
            "pkg/__init__.py".to_string(),
            "pkg-1.0.dist-info/RECORD".to_string(),
        ];
        let digests = vec![("pkg/__init__.py".to_string(), digest(b"x = 1"))];
        let (ok, findings) = check(Some(record.as_bytes()), &members, &digests);
        assert!(ok.vouches(), "{ok:?} {findings:?}");
    }

    #[test]
    fn only_the_top_level_dist_info_record_is_the_record() {
        assert!(is_record("pkg-1.0.dist-info/RECORD"));
        assert!(!is_record("vendored/pkg-1.0.dist-info/RECORD"));
        assert!(!is_record("pkg/RECORD"));
    }
}
