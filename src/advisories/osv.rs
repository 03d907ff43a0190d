//! OSV records, the format of the malicious-packages advisories (`MAL-…`)
//! and the vulnerability databases (`PYSEC-…`, `GHSA-…`): what a record
//! says, and whether it affects a locked release.
//!
//! Matching follows the OSV schema: a record affects a release when one of
//! its `affected` entries names the package in the `PyPI` ecosystem (by
//! normalised name) and either lists the version in `versions` or has an
//! `ECOSYSTEM` range whose events, in version order, leave the version
//! affected (`introduced` opens, `fixed` closes at the version,
//! `last_affected` closes after it). Withdrawn records affect nothing.

use std::str::FromStr;

use pep440_rs::Version;
use serde::Deserialize;

use crate::finding::Severity;

/// One OSV record (the fields customs uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// `MAL-2024-1`, `PYSEC-2021-9`, `GHSA-xxxx-xxxx-xxxx`.
    pub id: String,
    /// Other ids of the same advisory.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// One line.
    #[serde(default)]
    pub summary: Option<String>,
    /// The long text.
    #[serde(default)]
    pub details: Option<String>,
    /// Set when the record was withdrawn (it then affects nothing).
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// What it affects.
    #[serde(default)]
    pub affected: Vec<Affected>,
    /// Severity vectors (CVSS).
    #[serde(default)]
    pub severity: Vec<Score>,
    /// Free-form; `severity` (`HIGH`, `MODERATE`, …) is read.
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
    /// Links.
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// One `affected` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct Affected {
    /// The package (absent in some records: then nothing matches).
    #[serde(default)]
    pub package: Option<AffectedPackage>,
    /// Version ranges.
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicit versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Per-package severity vectors.
    #[serde(default)]
    pub severity: Vec<Score>,
}

/// The package of an `affected` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct AffectedPackage {
    /// `PyPI` for the Python package index.
    #[serde(default)]
    pub ecosystem: String,
    /// The name as the record spells it.
    #[serde(default)]
    pub name: String,
}

/// A range of versions.
#[derive(Debug, Clone, Deserialize)]
pub struct Range {
    /// `ECOSYSTEM` (PEP 440 order here), `SEMVER` or `GIT`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The events, in any order.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One event of a range (exactly one field is set).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    /// Affected from this version (`0`: from the first).
    #[serde(default)]
    pub introduced: Option<String>,
    /// Not affected from this version.
    #[serde(default)]
    pub fixed: Option<String>,
    /// Affected up to and including this version.
    #[serde(default)]
    pub last_affected: Option<String>,
}

/// A severity score.
#[derive(Debug, Clone, Deserialize)]
pub struct Score {
    /// `CVSS_V3`, `CVSS_V4`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The vector (`CVSS:3.1/AV:N/…`).
    #[serde(default)]
    pub score: String,
}

/// A link.
#[derive(Debug, Clone, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `FIX`, `WEB`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The address.
    #[serde(default)]
    pub url: String,
}

/// A name as PEP 503 compares them: lower case, runs of `-`, `_`, `.` as `-`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Record {
    /// Whether this is a malicious-package record (OpenSSF `MAL-` ids).
    pub fn is_malware(&self) -> bool {
        self.id.starts_with("MAL-") || self.aliases.iter().any(|a| a.starts_with("MAL-"))
    }

    /// The `affected` entries for the package `name` (normalised) on the
    /// Python package index.
    pub fn entries_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Affected> + 'a {
        self.affected.iter().filter(move |a| {
            a.package
                .as_ref()
                .is_some_and(|p| p.ecosystem == "PyPI" && normalise(&p.name) == name)
        })
    }

    /// The normalised names of the packages it affects on the index.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .affected
            .iter()
            .filter_map(|a| a.package.as_ref())
            .filter(|p| p.ecosystem == "PyPI")
            .map(|p| normalise(&p.name))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether it affects release `version` of the package `name`
    /// (normalised). A withdrawn record affects nothing.
    pub fn affects(&self, name: &str, version: &str) -> bool {
        if self.withdrawn.is_some() {
            return false;
        }
        let parsed = Version::from_str(version).ok();
        self.entries_for(name)
            .any(|a| entry_affects(a, version, parsed.as_ref()))
    }

    /// The versions that fix it for `name`, in version order.
    pub fn fixed_versions(&self, name: &str) -> Vec<String> {
        let mut fixed: Vec<(Option<Version>, String)> = self
            .entries_for(name)
            .flat_map(|a| &a.ranges)
            .filter(|r| r.kind == "ECOSYSTEM")
            .flat_map(|r| &r.events)
            .filter_map(|e| e.fixed.clone())
            .map(|f| (Version::from_str(&f).ok(), f))
            .collect();
        fixed.sort();
        fixed.dedup_by(|a, b| a.1 == b.1);
        fixed.into_iter().map(|(_, f)| f).collect()
    }

    /// The nearest fix for a locked `version`: the lowest fixed version
    /// above it on the same major line, else the lowest above it.
    pub fn nearest_fix(&self, name: &str, version: &str) -> Option<String> {
        let v = Version::from_str(version).ok()?;
        let above: Vec<(Version, String)> = self
            .fixed_versions(name)
            .into_iter()
            .filter_map(|f| Version::from_str(&f).ok().map(|p| (p, f)))
            .filter(|(p, _)| *p > v)
            .collect();
        let major = |x: &Version| x.release().first().copied();
        above
            .iter()
            .find(|(p, _)| major(p) == major(&v))
            .or_else(|| above.first())
            .map(|(_, f)| f.clone())
    }

    /// How severe: a malicious package is critical; otherwise the CVSS v3
    /// base score of the record (or of its entry for `name`), else the
    /// database's own word (`database_specific.severity`), else medium.
    pub fn severity(&self, name: &str) -> Severity {
        if self.is_malware() {
            return Severity::Critical;
        }
        let vectors = self
            .severity
            .iter()
            .chain(self.entries_for(name).flat_map(|a| &a.severity));
        let best = vectors
            .filter(|s| s.kind == "CVSS_V3")
            .filter_map(|s| cvss3_base_score(&s.score))
            .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
        if let Some(score) = best {
            return from_score(score);
        }
        let said = self
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_ascii_uppercase);
        match said.as_deref() {
            Some("CRITICAL") => Severity::Critical,
            Some("HIGH") => Severity::High,
            Some("LOW") => Severity::Low,
            _ => Severity::Medium,
        }
    }

    /// Every id the record goes by (its own first).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Whether one `affected` entry covers `version`.
fn entry_affects(a: &Affected, version: &str, parsed: Option<&Version>) -> bool {
    let listed = a.versions.iter().any(|v| {
        v == version || parsed.is_some_and(|p| Version::from_str(v).is_ok_and(|lv| lv == *p))
    });
    if listed {
        return true;
    }
    let Some(v) = parsed else {
        return false;
    };
    a.ranges
        .iter()
        .filter(|r| r.kind == "ECOSYSTEM")
        .any(|r| range_affects(&r.events, v))
}

/// The OSV evaluation of one `ECOSYSTEM` range: events sorted by their
/// version (`introduced: 0` first); an `introduced` at or below the version
/// opens, a `fixed` at or below it closes, a `last_affected` below it
/// closes. An event whose version does not parse is skipped.
fn range_affects(events: &[Event], v: &Version) -> bool {
    let zero = Version::from_str("0").ok();
    let mut keyed: Vec<(Version, u8, &Event)> = events
        .iter()
        .filter_map(|e| {
            let (text, order) = if let Some(i) = &e.introduced {
                (i, 0)
            } else if let Some(f) = &e.fixed {
                (f, 1)
            } else {
                (e.last_affected.as_ref()?, 2)
            };
            let at = if text == "0" {
                zero.clone()?
            } else {
                Version::from_str(text).ok()?
            };
            Some((at, order, e))
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut affected = false;
    for (at, _, e) in keyed {
        if e.introduced.is_some() {
            if *v >= at {
                affected = true;
            }
        } else if e.fixed.is_some() {
            if *v >= at {
                affected = false;
            }
        } else if *v > at {
            affected = false;
        }
    }
    affected
}

/// Severity of a CVSS base score (the CVSS v3 qualitative scale).
fn from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

/// The CVSS v3.0/v3.1 base score of a vector (`CVSS:3.1/AV:N/AC:L/…`), by
/// the specification's formula. `None` when a base metric is missing or
/// unknown.
pub fn cvss3_base_score(vector: &str) -> Option<f64> {
    let mut parts = vector.split('/');
    let head = parts.next()?;
    if !head.starts_with("CVSS:3") {
        return None;
    }
    let metric = |key: &str| -> Option<&str> {
        vector
            .split('/')
            .skip(1)
            .find_map(|p| p.strip_prefix(key)?.strip_prefix(':'))
    };
    let changed = match metric("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match metric("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match metric("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (metric("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match metric("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |key: &str| -> Option<f64> {
        match metric(key)? {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    if impact <= 0.0 {
        return Some(0.0);
    }
    let exploitability = 8.22 * av * ac * pr * ui;
    let sum = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(round_up(sum.min(10.0)))
}

/// CVSS v3.1 `Roundup`: the smallest number of one decimal at or above `x`.
fn round_up(x: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation)]
    let int = (x * 100_000.0).round() as i64;
    #[allow(clippy::cast_precision_loss)]
    if int % 10_000 == 0 {
        int as f64 / 100_000.0
    } else {
        ((int / 10_000) + 1) as f64 / 10.0
    }
}

/// Records that name each other (by id or alias) are one advisory: groups
/// of indexes into `records`, each group in the order of `records`, groups
/// in the order of their first member.
pub fn merge_aliases(records: &[&Record]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..records.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut by_id: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, r) in records.iter().enumerate() {
        for id in r.ids() {
            match by_id.get(id) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    by_id.insert(id, i);
                }
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for i in 0..records.len() {
        let r = root(&mut parent, i);
        let g = *slot.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> Record {
        serde_json::from_str(json).unwrap()
    }

    fn pysec() -> Record {
        record(
            r#"{"id": "PYSEC-2024-1", "aliases": ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc"],
                "summary": "a flaw",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "Demo_Lib"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [
                     {"introduced": "0"}, {"fixed": "1.4.2"},
                     {"introduced": "2.0"}, {"fixed": "2.1.1"}]}]}],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#,
        )
    }

    #[test]
    fn ranges_open_and_close_in_version_order() {
        let r = pysec();
        for (v, want) in [
            ("0.1", true),
            ("1.4.1", true),
            ("1.4.2", false),
            ("1.9", false),
            ("2.0", true),
            ("2.0.5", true),
            ("2.1.1", false),
            ("3.0", false),
            ("2.0rc1", false),
        ] {
            assert_eq!(r.affects("demo-lib", v), want, "{v}");
        }
        assert!(!r.affects("demo", "1.0"), "another package");
        assert_eq!(r.fixed_versions("demo-lib"), ["1.4.2", "2.1.1"]);
        assert_eq!(r.nearest_fix("demo-lib", "2.0.5").as_deref(), Some("2.1.1"));
        assert_eq!(r.nearest_fix("demo-lib", "1.0").as_deref(), Some("1.4.2"));
        assert_eq!(r.severity("demo-lib"), Severity::Critical, "9.8");
    }

    #[test]
    fn last_affected_includes_its_version_and_lists_match_exactly() {
        let r = record(
            r#"{"id": "GHSA-x", "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.2"}]}],
                "versions": ["0.9.post1"]}],
                "database_specific": {"severity": "HIGH"}}"#,
        );
        assert!(r.affects("demo", "1.2"));
        assert!(r.affects("demo", "1.1.9"));
        assert!(!r.affects("demo", "1.2.1"));
        assert!(!r.affects("demo", "0.9"));
        assert!(r.affects("demo", "0.9.post1"));
        assert!(r.affects("demo", "0.9.post01"), "equal as PEP 440 versions");
        assert_eq!(r.severity("demo"), Severity::High);
        assert!(r.fixed_versions("demo").is_empty());
    }

    #[test]
    fn malware_is_critical_and_withdrawn_records_affect_nothing() {
        let mal = record(
            r#"{"id": "MAL-2025-7", "summary": "Malicious code in demo-x",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-x"}, "versions": ["0.0.1"]}]}"#,
        );
        assert!(mal.is_malware());
        assert!(mal.affects("demo-x", "0.0.1"));
        assert!(!mal.affects("demo-x", "0.0.2"));
        assert_eq!(mal.severity("demo-x"), Severity::Critical);
        let gone = record(
            r#"{"id": "PYSEC-1", "withdrawn": "2024-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0"]}]}"#,
        );
        assert!(!gone.affects("demo", "1.0"));
        let npm = record(
            r#"{"id": "MAL-1", "affected": [{"package": {"ecosystem": "npm", "name": "demo"}, "versions": ["1.0"]}]}"#,
        );
        assert!(!npm.affects("demo", "1.0"), "another ecosystem");
        assert_eq!(
            record(r#"{"id": "X-1"}"#).severity("demo"),
            Severity::Medium
        );
    }

    #[test]
    fn cvss3_scores_match_the_specification_examples() {
        for (vector, want) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ] {
            assert_eq!(cvss3_base_score(vector), Some(want), "{vector}");
        }
        assert_eq!(cvss3_base_score("CVSS:4.0/AV:N/AC:L"), None);
        assert_eq!(cvss3_base_score("CVSS:3.1/AV:N"), None);
        assert_eq!(cvss3_base_score("garbage"), None);
    }

    #[test]
    fn aliases_make_one_advisory() {
        let a = pysec();
        let b = record(r#"{"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2024-1"]}"#);
        let c = record(r#"{"id": "PYSEC-2024-2"}"#);
        let d = record(r#"{"id": "OSV-9", "aliases": ["PYSEC-2024-2"]}"#);
        let groups = merge_aliases(&[&a, &c, &b, &d]);
        assert_eq!(groups, vec![vec![0, 2], vec![1, 3]]);
    }

    #[test]
    fn names_normalise_as_the_index_does() {
        assert_eq!(normalise("Demo__Lib.x"), "demo-lib-x");
        assert_eq!(normalise("demo"), "demo");
        assert_eq!(pysec().names(), ["demo-lib"]);
    }
}
