//! Reports: a frozen, versioned output model and one renderer per format.
//!
//! The model here is the JSON report v1 of INTERFACE.md; renderers read only
//! this model, never the internal types, so the contract cannot drift when the
//! internals change. Extend it, never rename a field.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::finding::{Finding, RuleId, Severity};
use crate::package::Package;

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

/// The JSON report's schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `customs` and its version.
    pub tool: Tool,
    /// When the report was written (real time).
    pub generated_at: String,
    /// The time the checks evaluated against (`--as-of`, or the real time).
    pub as_of: String,
    /// The settings in force.
    pub settings: Settings,
    /// The files read, in argument/discovery order.
    pub inputs: Vec<Input>,
    /// Files seen in directories and not read, with the reason.
    pub skipped: Vec<SkippedInput>,
    /// Every package, sorted by name, version, file, line.
    pub packages: Vec<PackageOut>,
    /// Every finding, sorted by package, version, rule, location.
    pub findings: Vec<FindingOut>,
    /// Counts and the verdict.
    pub summary: Summary,
    /// With `--diff-base`: what the change brings, and the findings on
    /// packages it leaves as they were (not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffOut>,
}

/// `audit --diff-base REF`: the change, package by package.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DiffOut {
    /// The revision compared with.
    pub base: String,
    /// `3 added, 2 upgraded, 1 removed` (kinds with none left out; `no
    /// change` when nothing changed).
    pub summary: String,
    /// Every changed package, sorted by lockfile and name.
    pub changes: Vec<ChangeOut>,
    /// Findings on packages the change leaves as they were: listed, not
    /// counted, never failing the run.
    pub already_present: Vec<FindingOut>,
}

/// One changed package.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ChangeOut {
    /// What happened.
    pub kind: crate::diff::ChangeKind,
    /// Normalised name.
    pub name: String,
    /// Version at the base (none when added).
    pub from: Option<String>,
    /// Version now (none when removed).
    pub to: Option<String>,
    /// The lockfile.
    pub lockfile: String,
    /// The package's line (now; at the base for a removal).
    pub line: u32,
    /// `fail` (a counted finding at or above `--fail-on`), `unknown` (the
    /// package could not be checked in full) or `pass`; none for a removal.
    pub verdict: Option<&'static str>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    /// `customs`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

/// Settings that shaped the verdict.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Settings {
    /// Lowest failing severity.
    pub fail_on: Severity,
    /// Whether packages that could not be checked fail the run.
    pub fail_on_unknown: bool,
    /// Whether the network was off.
    pub offline: bool,
    /// The cooldown in force (`7 days`, or `uploaded after <time>`).
    pub cooldown: String,
    /// The index asked for packages that record none (credentials hidden).
    pub index_url: String,
    /// The config file read, if any.
    pub config: Option<String>,
}

/// One file read.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Input {
    /// The path as given or discovered.
    pub path: String,
    /// The format it was read as.
    pub format: crate::lockfile::Format,
    /// How many packages it contributed.
    pub packages: usize,
    /// Indexes it records.
    pub indexes: Vec<crate::lockfile::IndexRecord>,
    /// Files it included (`-r`, `-c`).
    pub includes: Vec<String>,
    /// Lockfile options worth knowing (`exclude-newer`, `requires-python`...).
    pub options: BTreeMap<String, String>,
}

/// A file discovery did not read.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SkippedInput {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// A package in the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PackageOut {
    /// PEP 503 normalised name.
    pub name: String,
    /// The version as written, or null.
    pub version: Option<String>,
    /// Where it comes from.
    pub source: SourceOut,
    /// The lockfile it is declared in.
    pub lockfile: String,
    /// The 1-based line of its entry.
    pub line: u32,
    /// Environment markers, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markers: Option<String>,
    /// Extras.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// Dependency groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The requirement as written, when it is not an exact pin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The files the lockfile pins.
    pub artifacts: Vec<ArtifactOut>,
    /// The earliest upload time of the pinned files, where known.
    pub upload_time: Option<String>,
    /// pylock.toml `attestation-identities`, as recorded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestation_identities: Vec<serde_json::Value>,
    /// Whether the index checks could run for this package.
    pub index: IndexCheck,
    /// Whether its archives were scanned (absent with `--no-scan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanOut>,
    /// Its PEP 740 provenance (absent with `--no-provenance`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceOut>,
    /// What the advisory database says of it (absent with `--no-advisories`
    /// and for packages not from an index).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories: Option<AdvisoriesOut>,
}

/// A package's advisories.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AdvisoriesOut {
    /// `checked`, or `unknown` when no database could be had (never a pass).
    pub status: &'static str,
    /// Why unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The database: its source and when it was built.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The advisories that affect the release (allowed ones included).
    pub matches: Vec<AdvisoryOut>,
}

/// One advisory that affects a release.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AdvisoryOut {
    /// The advisory's id (`MAL-…`, `PYSEC-…`, `GHSA-…`).
    pub id: String,
    /// Its other ids.
    pub aliases: Vec<String>,
    /// `known-malware` or `vulnerability`.
    pub rule: RuleId,
    /// One line.
    pub summary: String,
    /// The versions that fix it.
    pub fixed: Vec<String>,
    /// The nearest fix on the release's major line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nearest_fix: Option<String>,
    /// Whether an `[[allow]]` entry suppresses it.
    pub allowed: bool,
}

impl AdvisoryOut {
    fn from_finding(f: &Finding) -> Self {
        let ev = |label: &str| {
            f.evidence
                .iter()
                .find(|e| e.label == label)
                .map(|e| e.value.clone())
        };
        let list = |label: &str| -> Vec<String> {
            ev(label)
                .map(|v| v.split(", ").map(str::to_string).collect())
                .unwrap_or_default()
        };
        Self {
            id: ev("advisory").unwrap_or_default(),
            aliases: list("aliases"),
            rule: f.rule,
            summary: ev("summary").unwrap_or_default(),
            fixed: list("fixed"),
            nearest_fix: ev("nearest-fix"),
            allowed: f.suppressed.is_some(),
        }
    }
}

/// A package's PEP 740 provenance.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProvenanceOut {
    /// `full` (every pinned file attested), `partial`, `none`, `unknown` (the index cannot say) or
    /// `not-applicable`.
    pub state: &'static str,
    /// Why unknown or not applicable, or which files could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The Trusted Publishers of the pinned files (`GitHub pypa/sampleproject release.yml`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<String>,
    /// Per pinned file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ProvenanceFileOut>,
}

/// One pinned file's provenance.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProvenanceFileOut {
    /// The file name.
    pub filename: String,
    /// `attested`, `none` or `unknown`.
    pub state: &'static str,
    /// Its publishers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<String>,
    /// `verified (...)`, `invalid: ...`, `unverifiable: ...` or `not checked ...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
}

/// Whether a package's archives were scanned.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScanOut {
    /// `scanned`, `unknown` or `not-applicable`.
    pub status: &'static str,
    /// The archives scanned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub archives: Vec<String>,
    /// Why unknown or not applicable; for `scanned`, the archives left out (too large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether a package was checked against the index.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IndexCheck {
    /// `checked`, `unknown` (the index could not answer) or `not-applicable`.
    pub status: &'static str,
    /// Why it is unknown or not applicable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl IndexCheck {
    /// From the release checks' status.
    pub fn from_status(status: &crate::checks::release::IndexStatus) -> Self {
        use crate::checks::release::IndexStatus;
        match status {
            IndexStatus::Checked => Self {
                status: "checked",
                reason: None,
            },
            IndexStatus::Unknown(r) => Self {
                status: "unknown",
                reason: Some(r.clone()),
            },
            IndexStatus::NotApplicable(r) => Self {
                status: "not-applicable",
                reason: Some((*r).to_string()),
            },
        }
    }
}

/// A package source.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SourceOut {
    /// registry | git | url | path | directory | editable | virtual
    pub kind: crate::package::SourceKind,
    /// The URL or path, as written.
    pub url: Option<String>,
    /// Git: the requested reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Git: the resolved commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// One pinned file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ArtifactOut {
    /// File name, when known.
    pub filename: Option<String>,
    /// sdist | wheel | other
    pub kind: crate::package::ArtifactKind,
    /// The URL, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The sha256, when pinned.
    pub sha256: Option<String>,
    /// Other hashes (`md5:...`), when pinned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_hashes: Vec<String>,
    /// Upload time, when the lockfile records it.
    pub upload_time: Option<String>,
    /// Size in bytes, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A finding in the report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FindingOut {
    /// Rule id.
    pub rule: crate::finding::RuleId,
    /// info | low | medium | high | critical
    pub severity: Severity,
    /// low | medium | high
    pub confidence: crate::finding::Confidence,
    /// Package name, if any.
    pub package: Option<String>,
    /// Package version, if any.
    pub version: Option<String>,
    /// One sentence.
    pub message: String,
    /// Where it points.
    pub location: LocationOut,
    /// Supporting facts.
    pub evidence: Vec<crate::finding::Evidence>,
    /// Null, or the allow entry that suppressed it.
    pub suppressed: Option<SuppressedOut>,
}

/// A finding's location.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LocationOut {
    /// The lockfile or archive on disk.
    pub file: String,
    /// 1-based line in `file`.
    pub line: Option<u32>,
    /// Archive file name, for findings inside an archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Member path inside the archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Line inside the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_line: Option<u32>,
}

/// An allow entry that matched.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SuppressedOut {
    /// The entry's reason.
    pub reason: String,
    /// The entry's expiry.
    pub expires: Option<String>,
}

/// Counts and the verdict.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Summary {
    /// Packages in the report.
    pub packages: usize,
    /// Findings that count (not suppressed).
    pub findings: usize,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Packages that could not be checked against the index, whose archives could not be scanned, or whose advisories could not be looked up.
    pub unknown: usize,
    /// Counts of findings that count, by severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Counts of findings that count, by rule.
    pub by_rule: BTreeMap<String, usize>,
    /// `pass` or `fail`.
    pub verdict: Verdict,
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing at or above `--fail-on`.
    Pass,
    /// At least one finding at or above `--fail-on`.
    Fail,
}

/// Renders a path for reports: as given, with `/` separators.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Hides credentials in a URL (`https://user:token@host` -> `https://user:***@host`,
/// `https://token@host` -> `https://***@host`, secret query parameters) so
/// reports never carry secrets that came from `${VAR}` expansion or a
/// lockfile: [`crate::redact::url`], the one redaction point.
pub fn redact_url(url: &str) -> String {
    crate::redact::url(url)
}

fn timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl PackageOut {
    /// Converts a package.
    pub fn from_package(p: &Package, status: &crate::checks::release::IndexStatus) -> Self {
        Self {
            name: p.name.to_string(),
            version: p.version.as_ref().map(|v| v.as_str().to_string()),
            source: SourceOut {
                kind: p.source.kind,
                url: p.source.url.as_deref().map(redact_url),
                reference: p.source.reference.clone(),
                commit: p.source.commit.clone(),
            },
            lockfile: display_path(&p.origin.file),
            line: p.origin.line,
            markers: p.markers.clone(),
            extras: p.extras.clone(),
            groups: p.groups.clone(),
            requirement: p.requirement.clone(),
            artifacts: p
                .artifacts
                .iter()
                .map(|a| ArtifactOut {
                    filename: a.filename.clone(),
                    kind: a.kind,
                    url: a.url.as_deref().map(redact_url),
                    sha256: a.sha256().map(str::to_string),
                    other_hashes: a
                        .hashes
                        .iter()
                        .filter(|h| h.algorithm != "sha256")
                        .map(ToString::to_string)
                        .collect(),
                    upload_time: a.upload_time.map(timestamp),
                    size: a.size,
                })
                .collect(),
            upload_time: p.earliest_upload().map(timestamp),
            attestation_identities: p.attestation_identities.clone(),
            index: IndexCheck::from_status(status),
            scan: None,
            provenance: None,
            advisories: None,
        }
    }
}

impl FindingOut {
    /// Converts a finding.
    pub fn from_finding(f: &Finding) -> Self {
        Self {
            rule: f.rule,
            severity: f.severity,
            confidence: f.confidence,
            package: f.package.as_ref().map(ToString::to_string),
            version: f.version.clone(),
            message: f.message.clone(),
            location: LocationOut {
                file: display_path(&f.location.file),
                line: f.location.line,
                archive: f.location.archive.clone(),
                path: f.location.member.clone(),
                path_line: f.location.member_line,
            },
            evidence: f.evidence.clone(),
            suppressed: f.suppressed.as_ref().map(|s| SuppressedOut {
                reason: s.reason.clone(),
                expires: s.expires.clone(),
            }),
        }
    }
}

/// Everything a run produced, before rendering.
#[derive(Debug, Clone)]
pub struct RunResult<'a> {
    /// The files read with what they contributed.
    pub inputs: Vec<Input>,
    /// Files skipped by discovery.
    pub skipped: Vec<SkippedInput>,
    /// All packages.
    pub packages: &'a [Package],
    /// The index status of each package (same order as `packages`).
    pub statuses: &'a [crate::checks::release::IndexStatus],
    /// The scan status of each package (same order), when archives were scanned.
    pub scans: Option<&'a [crate::checks::archives::ScanStatus]>,
    /// The provenance status of each package (same order), when checked.
    pub provenance: Option<&'a [crate::checks::provenance::ProvenanceStatus]>,
    /// How the advisory checks went (`None`: not run).
    pub advisories: Option<&'a crate::advisories::RunStatus>,
    /// All findings, already sorted.
    pub findings: &'a [Finding],
    /// With `--diff-base`: the change (findings on other packages are not counted).
    pub diff: Option<&'a crate::diff::Diff>,
    /// Settings.
    pub settings: Settings,
    /// The evaluation time.
    pub as_of: jiff::Timestamp,
    /// The real time.
    pub now: jiff::Timestamp,
}

impl Report {
    /// Builds the report and decides the verdict.
    pub fn build(run: RunResult<'_>) -> Self {
        let not_asked = crate::checks::release::IndexStatus::NotApplicable("not checked");
        let mut packages: Vec<PackageOut> = run
            .packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut out =
                    PackageOut::from_package(p, run.statuses.get(i).unwrap_or(&not_asked));
                out.scan = run.scans.and_then(|s| s.get(i)).map(|s| ScanOut {
                    status: s.status,
                    archives: s.archives.clone(),
                    reason: s.reason.clone(),
                });
                out.provenance = run
                    .provenance
                    .and_then(|s| s.get(i))
                    .map(|s| ProvenanceOut {
                        state: s.state,
                        reason: s.reason.clone(),
                        publishers: s.publishers.clone(),
                        files: s
                            .files
                            .iter()
                            .map(|f| ProvenanceFileOut {
                                filename: f.filename.clone(),
                                state: f.state,
                                publishers: f.publishers.clone(),
                                verification: f.verification.clone(),
                            })
                            .collect(),
                    });
                out.advisories = run
                    .advisories
                    .filter(|_| {
                        p.source.kind == crate::package::SourceKind::Registry && p.version.is_some()
                    })
                    .map(|a| AdvisoriesOut {
                        status: a.status,
                        reason: a.reason.clone(),
                        database: a.database.clone(),
                        matches: run
                            .findings
                            .iter()
                            .filter(|f| {
                                matches!(f.rule, RuleId::KnownMalware | RuleId::Vulnerability)
                                    && f.package.as_ref() == Some(&p.name)
                                    && f.version.as_deref()
                                        == p.version.as_ref().map(|v| v.as_str())
                            })
                            .map(AdvisoryOut::from_finding)
                            .collect(),
                    });
                out
            })
            .collect();
        packages.sort_by(|a, b| {
            (&a.name, &a.version, &a.lockfile, a.line).cmp(&(
                &b.name,
                &b.version,
                &b.lockfile,
                b.line,
            ))
        });
        let mut findings: Vec<FindingOut> =
            run.findings.iter().map(FindingOut::from_finding).collect();
        // With a diff, findings on a package the change leaves as it was
        // are set aside, and so is its unknown status.
        let unchanged = |lockfile: &str, name: &str, version: Option<&str>| {
            run.diff.is_some_and(|d| {
                !d.changed(lockfile, name, version)
                    && packages.iter().any(|p| {
                        p.lockfile == lockfile && p.name == name && p.version.as_deref() == version
                    })
            })
        };
        let mut already_present = Vec::new();
        if run.diff.is_some() {
            let (set_aside, kept): (Vec<FindingOut>, Vec<FindingOut>) =
                findings.into_iter().partition(|f| {
                    f.package
                        .as_deref()
                        .is_some_and(|name| unchanged(&f.location.file, name, f.version.as_deref()))
                });
            findings = kept;
            already_present = set_aside;
        }
        let mut by_severity = BTreeMap::new();
        let mut by_rule = BTreeMap::new();
        let mut counted = 0;
        let mut suppressed = 0;
        let mut fail = false;
        for f in &findings {
            if f.suppressed.is_some() {
                suppressed += 1;
                continue;
            }
            counted += 1;
            *by_severity.entry(f.severity).or_insert(0) += 1;
            *by_rule.entry(f.rule.to_string()).or_insert(0) += 1;
            fail |= f.severity >= run.settings.fail_on;
        }
        // Unknown is not pass: a package the index could not answer for,
        // whose archives could not be scanned in full, or whose advisories
        // could not be looked up.
        let is_unknown = |p: &PackageOut| {
            p.index.status == "unknown"
                || p.scan.as_ref().is_some_and(|s| s.status == "unknown")
                || p.advisories.as_ref().is_some_and(|a| a.status == "unknown")
        };
        let unknown = packages
            .iter()
            .filter(|p| is_unknown(p) && !unchanged(&p.lockfile, &p.name, p.version.as_deref()))
            .count();
        let diff = run.diff.map(|d| DiffOut {
            base: d.base.clone(),
            summary: change_summary(&d.changes),
            changes: d
                .changes
                .iter()
                .map(|c| {
                    let to = c.to.as_deref();
                    let fails = findings.iter().any(|f| {
                        f.suppressed.is_none()
                            && f.severity >= run.settings.fail_on
                            && f.location.file == c.lockfile
                            && f.package.as_deref() == Some(c.name.as_str())
                            && f.version.as_deref() == to
                    });
                    let unknown = packages.iter().any(|p| {
                        p.lockfile == c.lockfile
                            && p.name == c.name
                            && p.version.as_deref() == to
                            && is_unknown(p)
                    });
                    ChangeOut {
                        kind: c.kind,
                        name: c.name.clone(),
                        from: c.from.clone(),
                        to: c.to.clone(),
                        lockfile: c.lockfile.clone(),
                        line: c.line,
                        verdict: (c.kind != crate::diff::ChangeKind::Removed).then_some(if fails {
                            "fail"
                        } else if unknown {
                            "unknown"
                        } else {
                            "pass"
                        }),
                    }
                })
                .collect(),
            already_present,
        });
        fail |= run.settings.fail_on_unknown && unknown > 0;
        Self {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "customs",
                version: env!("CARGO_PKG_VERSION"),
            },
            generated_at: timestamp(run.now),
            as_of: timestamp(run.as_of),
            settings: run.settings,
            inputs: run.inputs,
            skipped: run.skipped,
            summary: Summary {
                packages: packages.len(),
                findings: counted,
                suppressed,
                unknown,
                by_severity,
                by_rule,
                verdict: if fail { Verdict::Fail } else { Verdict::Pass },
            },
            packages,
            findings,
            diff,
        }
    }
}

/// `3 added, 2 upgraded, 1 removed`: each kind of change with its count.
pub fn change_summary(changes: &[crate::diff::Change]) -> String {
    let mut counts: BTreeMap<crate::diff::ChangeKind, usize> = BTreeMap::new();
    for c in changes {
        *counts.entry(c.kind).or_insert(0) += 1;
    }
    if counts.is_empty() {
        return "no change".into();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why the run fails, one line per blocking package: its most severe
/// blocking finding (rule, what was found, where it runs) and what is new
/// since the previous release. Sorted by package.
pub(crate) fn blocking_lines(report: &Report) -> Vec<String> {
    use std::fmt::Write as _;
    let mut top: BTreeMap<String, &FindingOut> = BTreeMap::new();
    for f in &report.findings {
        if f.suppressed.is_some() || f.severity < report.settings.fail_on {
            continue;
        }
        let who = match (&f.package, &f.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            (Some(p), None) => p.to_string(),
            _ => continue,
        };
        let better = top.get(&who).is_none_or(|t| f.severity > t.severity);
        if better {
            top.insert(who, f);
        }
    }
    top.into_iter()
        .map(|(who, f)| {
            let label = |l: &str| {
                f.evidence
                    .iter()
                    .find(|e| e.label == l)
                    .map(|e| e.value.clone())
            };
            let mut line = format!("{who}: {} ({}): {}", f.rule, f.severity, f.message);
            if let Some(member) = &f.location.path {
                let _ = write!(line, " [{member}");
                if let Some(l) = f.location.path_line {
                    let _ = write!(line, ":{l}");
                }
                line.push(']');
            }
            if let Some(runs) = label("where").or_else(|| label("runs")) {
                let _ = write!(line, "; runs {runs}");
            }
            if let Some(v) = label("new-since")
                && !f.message.contains("new since")
            {
                let _ = write!(line, "; new since {v}");
            }
            line
        })
        .collect()
}

/// One line on provenance: how many releases are fully, partly or not attested,
/// and why the rest are unknown (the first reason; a mirror gives one for all).
pub(crate) fn provenance_line(report: &Report) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut reason = None;
    for p in report.packages.iter().filter_map(|p| p.provenance.as_ref()) {
        if p.state == "not-applicable" {
            continue;
        }
        *counts.entry(p.state).or_default() += 1;
        if p.state == "unknown" && reason.is_none() {
            reason = p.reason.as_deref();
        }
    }
    if counts.is_empty() {
        return None;
    }
    let parts: Vec<String> = ["full", "partial", "none", "unknown"]
        .iter()
        .filter_map(|s| counts.get(s).map(|n| format!("{n} {s}")))
        .collect();
    Some(format!(
        "provenance (PEP 740): {}{}",
        parts.join(", "),
        reason.map(|r| format!(" ({r})")).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn credentials_never_reach_reports() {
        assert_eq!(
            redact_url("https://u:s3cr3t@index.example/simple"),
            "https://u:***@index.example/simple"
        );
        assert_eq!(
            redact_url("https://t0ken@index.example/simple"),
            "https://***@index.example/simple"
        );
        assert_eq!(
            redact_url("git+ssh://git@git.example/r.git"),
            "git+ssh://***@git.example/r.git"
        );
        assert_eq!(
            redact_url("https://index.example/a@b"),
            "https://index.example/a@b"
        );
        assert_eq!(redact_url("./wheels"), "./wheels");
    }
}
