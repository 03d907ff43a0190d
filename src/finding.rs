//! Findings: what a check reports, where, how bad and how sure.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::package::{Package, PackageName};

macro_rules! rule_ids {
    ($($variant:ident => $id:literal,)*) => {
        /// Every rule id customs can report. The ids are a stable contract
        /// (INTERFACE.md): extend, never rename.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId {
            $(
                #[doc = concat!("`", $id, "`")]
                $variant,
            )*
        }

        impl RuleId {
            /// All rule ids, in declaration order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The kebab-case id.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }

        impl FromStr for RuleId {
            type Err = UnknownRule;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($id => Ok(RuleId::$variant),)*
                    _ => Err(UnknownRule(s.to_string())),
                }
            }
        }
    };
}

rule_ids! {
    UnpinnedRequirement => "unpinned-requirement",
    Cooldown => "cooldown",
    UploadTimeUnknown => "upload-time-unknown",
    Yanked => "yanked",
    ReleaseMissing => "release-missing",
    HashMismatch => "hash-mismatch",
    RepointedPin => "repointed-pin",
    RecordMismatch => "record-mismatch",
    UnownedFile => "unowned-file",
    ProjectStatus => "project-status",
    KnownMalware => "known-malware",
    Vulnerability => "vulnerability",
    IndexUnavailable => "index-unavailable",
    Typosquat => "typosquat",
    UnclaimedName => "unclaimed-name",
    NewProject => "new-project",
    ProvenanceMissing => "provenance-missing",
    ProvenanceRegressed => "provenance-regressed",
    PublisherChanged => "publisher-changed",
    ProvenanceInvalid => "provenance-invalid",
    Exfiltration => "exfiltration",
    PthStartupHook => "pth-startup-hook",
    InstallHook => "install-hook",
    ObfuscatedExec => "obfuscated-exec",
    DownloadExec => "download-exec",
    Persistence => "persistence",
    SuspiciousEndpoint => "suspicious-endpoint",
    BinaryPayload => "binary-payload",
    ArchiveAnomaly => "archive-anomaly",
    AllowExpired => "allow-expired",
    AllowUnused => "allow-unused",
}

/// A rule id that customs does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}`")]
pub struct UnknownRule(pub String);

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl schemars::JsonSchema for RuleId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "description": "A stable rule id (`customs rules` lists them).",
            "enum": ids,
        })
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How bad a finding is, if true.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look.
    Low,
    /// Should be reviewed.
    Medium,
    /// Likely a problem; fails a run by default.
    High,
    /// Almost certainly an attack or a broken supply chain.
    Critical,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// One level more severe (critical stays critical).
    pub fn raised(self) -> Self {
        match self {
            Self::Info => Self::Low,
            Self::Low => Self::Medium,
            Self::Medium => Self::High,
            Self::High | Self::Critical => Self::Critical,
        }
    }

    /// One level less severe (info stays info).
    pub fn lowered(self) -> Self {
        match self {
            Self::Critical => Self::High,
            Self::High => Self::Medium,
            Self::Medium => Self::Low,
            Self::Low | Self::Info => Self::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Self::Info),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            other => Err(format!(
                "unknown severity `{other}`; expected info, low, medium, high or critical"
            )),
        }
    }
}

/// How sure the check is that the finding is real.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A weak signal.
    Low,
    /// A plausible signal.
    Medium,
    /// A fact (the index says so) or a strong pattern.
    High,
}

impl Confidence {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// Where a finding points: a lockfile line, or a path and line inside an archive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The lockfile (or scanned archive) on disk.
    pub file: PathBuf,
    /// 1-based line in `file`, when known.
    pub line: Option<u32>,
    /// For archive findings: the archive's file name (as the index names it).
    pub archive: Option<String>,
    /// For archive findings: the member path inside the archive.
    pub member: Option<String>,
    /// For archive findings: the 1-based line inside the member.
    pub member_line: Option<u32>,
}

impl Location {
    /// A line of a file.
    pub fn line(file: impl Into<PathBuf>, line: u32) -> Self {
        Self::in_file(file, Some(line))
    }

    /// A file, at a line when one is known (not inside an archive).
    pub fn in_file(file: impl Into<PathBuf>, line: Option<u32>) -> Self {
        Self {
            file: file.into(),
            line,
            archive: None,
            member: None,
            member_line: None,
        }
    }

    /// The line where a package was declared.
    pub fn of_package(package: &Package) -> Self {
        Self::line(package.origin.file.clone(), package.origin.line)
    }
}

/// One piece of evidence: a labelled value (a URL, a snippet, a date...).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Evidence {
    /// What the value is (`upload-time`, `snippet`, `source`, `sink`, ...).
    pub label: String,
    /// The value.
    pub value: String,
}

impl Evidence {
    /// A labelled value.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// Why a finding does not count: the allow-list entry that matched.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Suppression {
    /// The entry's reason.
    pub reason: String,
    /// The entry's expiry date.
    pub expires: Option<String>,
}

/// A finding: rule, severity, confidence, subject, location, message, evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which rule.
    pub rule: RuleId,
    /// How bad.
    pub severity: Severity,
    /// How sure.
    pub confidence: Confidence,
    /// The package it is about, if any.
    pub package: Option<PackageName>,
    /// The package version as the lockfile wrote it, if any.
    pub version: Option<String>,
    /// One sentence for a person.
    pub message: String,
    /// Where it points.
    pub location: Location,
    /// Supporting facts.
    pub evidence: Vec<Evidence>,
    /// Set when an allow-list entry matched.
    pub suppressed: Option<Suppression>,
}

impl Finding {
    /// Starts a finding about a package, at the package's lockfile line.
    pub fn for_package(rule: RuleId, package: &Package) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                rule,
                severity: crate::checks::meta(rule).severity,
                confidence: Confidence::High,
                package: Some(package.name.clone()),
                version: package.version.as_ref().map(|v| v.as_str().to_string()),
                message: String::new(),
                location: Location::of_package(package),
                evidence: Vec::new(),
                suppressed: None,
            },
        }
    }

    /// Starts a finding at an explicit location (no package, or not at its line).
    pub fn at(rule: RuleId, location: Location) -> FindingBuilder {
        FindingBuilder {
            finding: Finding {
                rule,
                severity: crate::checks::meta(rule).severity,
                confidence: Confidence::High,
                package: None,
                version: None,
                message: String::new(),
                location,
                evidence: Vec::new(),
                suppressed: None,
            },
        }
    }

    /// The deterministic sort key: package, version, rule, location, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.package.as_ref().map(PackageName::as_str),
            self.version.as_deref(),
            self.rule,
            &self.location,
            &self.message,
        )
    }
}

/// Builds a [`Finding`]; a message is required.
#[derive(Debug)]
#[must_use]
pub struct FindingBuilder {
    finding: Finding,
}

impl FindingBuilder {
    /// Overrides the rule's default severity.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.finding.severity = severity;
        self
    }

    /// Sets the confidence (default high).
    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.finding.confidence = confidence;
        self
    }

    /// Sets the subject package and version explicitly.
    pub fn subject(mut self, package: PackageName, version: Option<String>) -> Self {
        self.finding.package = Some(package);
        self.finding.version = version;
        self
    }

    /// Moves the location (e.g. into an archive).
    pub fn location(mut self, location: Location) -> Self {
        self.finding.location = location;
        self
    }

    /// Adds evidence.
    pub fn evidence(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.finding.evidence.push(Evidence::new(label, value));
        self
    }

    /// Sets the message and finishes.
    pub fn message(mut self, message: impl Into<String>) -> Finding {
        self.finding.message = message.into();
        self.finding
    }
}

/// Sorts findings deterministically and removes exact duplicates.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rule_ids_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for id in RuleId::ALL {
            assert!(seen.insert(id.as_str()), "duplicate id {id}");
            assert_eq!(id.as_str().parse::<RuleId>().unwrap(), *id);
            assert!(
                id.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id} is not kebab-case"
            );
        }
        assert!("nope".parse::<RuleId>().is_err());
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Info < Severity::Low);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
