//! Policy: configured rule levels, the expiring allow-list and the baseline,
//! applied to the findings of a run.

pub mod config;

use std::collections::HashSet;
use std::path::Path;

use crate::finding::{Finding, Location, RuleId, Suppression};
pub use config::{AllowEntry, Config, ConfigError, RuleLevel};

/// Applies rule levels and allow entries to `findings` as of `today`.
///
/// - a rule set to `off` drops its findings; a rule set to a severity re-grades them;
/// - a matching, unexpired entry marks a finding suppressed with its reason;
/// - an expired entry suppresses nothing and raises `allow-expired`;
/// - an entry that matched nothing raises `allow-unused`.
pub fn apply(config: &Config, findings: Vec<Finding>, today: jiff::civil::Date) -> Vec<Finding> {
    let mut out = Vec::with_capacity(findings.len());
    let mut used = vec![false; config.allow.len()];
    for mut f in findings {
        match config.rules.get(&f.rule) {
            Some(RuleLevel::Off) => continue,
            Some(RuleLevel::Severity(s)) => f.severity = *s,
            None => {}
        }
        for (i, entry) in config.allow.iter().enumerate() {
            if matches(entry, &f) {
                used[i] = true;
                if entry.expires >= today && f.suppressed.is_none() {
                    f.suppressed = Some(Suppression {
                        reason: entry.reason.clone(),
                        expires: Some(entry.expires.to_string()),
                    });
                }
            }
        }
        out.push(f);
    }
    let file = config.path.as_deref().unwrap_or(Path::new("customs.toml"));
    for (entry, used) in config.allow.iter().zip(used) {
        let subject = describe(entry);
        if entry.expires < today {
            out.push(
                Finding::at(RuleId::AllowExpired, Location::line(file, entry.line))
                    .evidence("expired", entry.expires.to_string())
                    .evidence("reason", entry.reason.clone())
                    .message(format!(
                        "the allow entry for {subject} expired on {}: it no longer suppresses anything; review the finding again and renew or remove the entry",
                        entry.expires
                    )),
            );
        } else if !used {
            out.push(
                Finding::at(RuleId::AllowUnused, Location::line(file, entry.line))
                    .evidence("reason", entry.reason.clone())
                    .message(format!(
                        "the allow entry for {subject} matched no finding: remove it so it cannot hide a future one"
                    )),
            );
        }
    }
    out
}

fn describe(entry: &AllowEntry) -> String {
    let mut s = format!("`{}`", entry.rule);
    if let Some(p) = &entry.package {
        s.push_str(&format!(" on {p}"));
        if let Some(v) = &entry.version {
            s.push_str(&format!(" {v}"));
        }
    }
    if let Some(p) = &entry.path {
        s.push_str(&format!(" at {p}"));
    }
    s
}

fn matches(entry: &AllowEntry, f: &Finding) -> bool {
    if entry.rule != f.rule {
        return false;
    }
    if entry.package.is_some() && f.package != entry.package {
        return false;
    }
    if let Some(v) = &entry.version {
        let ok = f
            .version
            .as_deref()
            .is_some_and(|fv| config::version_matcher(v).is_some_and(|m| m.matches(fv)));
        if !ok {
            return false;
        }
    }
    if let Some(id) = &entry.id {
        let ok = f
            .evidence
            .iter()
            .filter(|e| e.label == "advisory" || e.label == "aliases")
            .flat_map(|e| e.value.split(", "))
            .any(|v| v.eq_ignore_ascii_case(id));
        if !ok {
            return false;
        }
    }
    if let Some(pattern) = &entry.path {
        let ok = f
            .location
            .member
            .as_deref()
            .is_some_and(|m| glob(pattern, m));
        if !ok {
            return false;
        }
    }
    true
}

/// `*` matches any run of characters (including `/`); everything else is literal.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, rest) = (parts[0], &parts[1..]);
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let last = rest.len() - 1;
    for (i, part) in rest.iter().enumerate() {
        if i == last {
            return remaining.ends_with(part);
        }
        match remaining.find(part) {
            Some(pos) => remaining = &remaining[pos + part.len()..],
            None => return false,
        }
    }
    true
}

/// A finding's identity for baselines: rule, package, version, archive member
/// and message, but not the lockfile line (lines move when a lock is edited).
pub fn fingerprint(
    rule: &str,
    package: Option<&str>,
    version: Option<&str>,
    member: Option<&str>,
    message: &str,
) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [Some(rule), package, version, member, Some(message)] {
        h.update(part.unwrap_or("").as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// The fingerprint of a finding.
pub fn finding_fingerprint(f: &Finding) -> String {
    fingerprint(
        f.rule.as_str(),
        f.package.as_ref().map(|p| p.as_str()),
        f.version.as_deref(),
        f.location.member.as_deref(),
        &f.message,
    )
}

/// Marks findings already present in a baseline as suppressed.
pub fn apply_baseline(findings: &mut [Finding], baseline: &HashSet<String>, name: &str) {
    for f in findings.iter_mut() {
        if f.suppressed.is_none() && baseline.contains(&finding_fingerprint(f)) {
            f.suppressed = Some(Suppression {
                reason: format!("in baseline {name}"),
                expires: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Origin, Package, PackageName, Version};
    use std::path::PathBuf;

    fn finding(name: &str, version: &str) -> Finding {
        let p = Package::new(
            PackageName::new(name).unwrap(),
            Some(Version::new(version)),
            Origin {
                file: PathBuf::from("requirements.txt"),
                line: 3,
            },
        );
        Finding::for_package(RuleId::UnpinnedRequirement, &p).message("m")
    }

    fn cfg(text: &str) -> Config {
        config::parse_customs_toml(Path::new("customs.toml"), text).unwrap()
    }

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    const ALLOW: &str = "[[allow]]\nrule = \"unpinned-requirement\"\npackage = \"six\"\nversion = \">=1,<2\"\nreason = \"reviewed\"\nexpires = \"2027-01-31\"\n";

    #[test]
    fn allow_entries_suppress_until_they_expire() {
        let c = cfg(ALLOW);
        let out = apply(
            &c,
            vec![finding("six", "1.16.0"), finding("requests", "2.0")],
            date("2027-01-31"),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].suppressed.as_ref().unwrap().reason, "reviewed");
        assert!(out[1].suppressed.is_none());

        let out = apply(&c, vec![finding("six", "1.16.0")], date("2027-02-01"));
        assert!(out[0].suppressed.is_none());
        assert_eq!(out[1].rule, RuleId::AllowExpired);
        assert_eq!(out[1].location.line, Some(1));
    }

    #[test]
    fn unused_entries_are_reported_and_versions_must_match() {
        let c = cfg(ALLOW);
        let out = apply(&c, vec![finding("six", "2.0")], date("2026-01-01"));
        assert!(out[0].suppressed.is_none());
        assert_eq!(out[1].rule, RuleId::AllowUnused);
    }

    #[test]
    fn rules_can_be_off_or_regraded() {
        let c = cfg("[rules]\nunpinned-requirement = \"off\"\n");
        assert!(apply(&c, vec![finding("six", "1")], date("2026-01-01")).is_empty());
        let c = cfg("[rules]\nunpinned-requirement = \"critical\"\n");
        let out = apply(&c, vec![finding("six", "1")], date("2026-01-01"));
        assert_eq!(out[0].severity, crate::finding::Severity::Critical);
    }

    #[test]
    fn globs() {
        assert!(glob("tests/*", "tests/a/b.py"));
        assert!(glob("*.pth", "x/evil.pth"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXcYYb"));
        assert!(glob("exact.py", "exact.py"));
        assert!(!glob("exact.py", "exact.pyc"));
    }

    #[test]
    fn baseline_suppresses_known_findings_only() {
        let known = finding("six", "1.16.0");
        let set: HashSet<String> = [finding_fingerprint(&known)].into_iter().collect();
        let mut fs = vec![finding("six", "1.16.0"), finding("six", "1.17.0")];
        apply_baseline(&mut fs, &set, "old.json");
        assert!(fs[0].suppressed.is_some());
        assert!(fs[1].suppressed.is_none());
    }
}
