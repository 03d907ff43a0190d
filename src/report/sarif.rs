//! `--format sarif`: SARIF 2.1.0 for code scanning, hand-rolled and minimal.
//!
//! Every rule customs knows is listed in `tool.driver.rules` with its docs and
//! a `security-severity`; results point at the real lockfile line, carry a
//! logical location `name@version` and a stable `partialFingerprints` entry.

use serde::Serialize;

use super::{FindingOut, Report};
use crate::checks::{self, RuleMeta};
use crate::finding::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: ToolOut<'a>,
    results: Vec<ResultOut>,
    column_kind: &'a str,
    /// The advisories results cite, each with its help URI.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    taxonomies: Vec<Taxonomy>,
}

/// An external taxonomy: the advisories (OSV ids) results refer to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Taxonomy {
    name: &'static str,
    information_uri: &'static str,
    taxa: Vec<Taxon>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Taxon {
    id: String,
    help_uri: String,
    short_description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaxonRef {
    id: String,
    index: usize,
    tool_component: ComponentRef,
}

#[derive(Serialize)]
struct ComponentRef {
    name: &'static str,
    index: usize,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    rules: Vec<RuleOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleOut {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<LocationOut>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SuppressionOut>,
    /// The advisory behind a `known-malware` or `vulnerability` result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    taxa: Vec<TaxonRef>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationOut {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "customs/v1")]
    customs: String,
}

#[derive(Serialize)]
struct SuppressionOut {
    kind: &'static str,
    justification: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    severity: Severity,
    confidence: crate::finding::Confidence,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<String>,
}

/// SARIF level for a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score) for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

fn rule_out(m: &RuleMeta) -> RuleOut {
    RuleOut {
        id: m.id.to_string(),
        name: m
            .id
            .as_str()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect(),
        short_description: Text {
            text: m.summary.to_string(),
        },
        full_description: Text {
            text: section(m.docs, "## What it does")
                .unwrap_or(m.summary)
                .to_string(),
        },
        help: Help {
            text: section(m.docs, "## How to fix")
                .unwrap_or(m.summary)
                .to_string(),
            markdown: m.docs.to_string(),
        },
        default_configuration: Configuration {
            level: level(m.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(m.severity).to_string(),
            tags: vec!["security", "supply-chain"],
        },
    }
}

/// The text of a `## Heading` section of a rule's docs.
fn section<'a>(docs: &'a str, heading: &str) -> Option<&'a str> {
    let start = docs.find(heading)? + heading.len();
    let rest = &docs[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// The advisory a finding cites and its link, from its evidence.
fn advisory_of(f: &FindingOut) -> Option<(&str, &str)> {
    let ev = |label: &str| {
        f.evidence
            .iter()
            .find(|e| e.label == label)
            .map(|e| e.value.as_str())
    };
    Some((ev("advisory")?, ev("url")?))
}

/// The advisories the findings cite, once each, sorted by id.
fn advisory_taxonomy(findings: &[FindingOut]) -> Vec<Taxonomy> {
    let mut taxa: Vec<Taxon> = Vec::new();
    for f in findings {
        let Some((id, url)) = advisory_of(f) else {
            continue;
        };
        if taxa.iter().any(|t| t.id == id) {
            continue;
        }
        let summary = f
            .evidence
            .iter()
            .find(|e| e.label == "summary")
            .map_or(id, |e| e.value.as_str());
        taxa.push(Taxon {
            id: id.to_string(),
            help_uri: url.to_string(),
            short_description: Text {
                text: summary.to_string(),
            },
        });
    }
    taxa.sort_by(|a, b| a.id.cmp(&b.id));
    if taxa.is_empty() {
        return Vec::new();
    }
    vec![Taxonomy {
        name: ADVISORIES,
        information_uri: "https://osv.dev",
        taxa,
    }]
}

/// The name of the advisory taxonomy.
const ADVISORIES: &str = "OSV";

fn result_out(f: &FindingOut, taxonomies: &[Taxonomy]) -> ResultOut {
    let rule_index = checks::ALL.iter().position(|r| r.id == f.rule).unwrap_or(0);
    let mut message = f.message.clone();
    let advisory = advisory_of(f);
    if let Some((_, url)) = advisory {
        message.push_str(&format!(" (advisory: {url})"));
    }
    let taxa = advisory
        .and_then(|(id, _)| {
            let index = taxonomies.first()?.taxa.iter().position(|t| t.id == id)?;
            Some(vec![TaxonRef {
                id: id.to_string(),
                index,
                tool_component: ComponentRef {
                    name: ADVISORIES,
                    index: 0,
                },
            }])
        })
        .unwrap_or_default();
    if let (Some(archive), Some(path)) = (&f.location.archive, &f.location.path) {
        message.push_str(&format!(" (in {archive}: {path}"));
        if let Some(line) = f.location.path_line {
            message.push_str(&format!(":{line}"));
        }
        message.push(')');
    }
    let logical_locations = f
        .package
        .as_ref()
        .map(|p| {
            let name = match &f.version {
                Some(v) => format!("{p}@{v}"),
                None => p.clone(),
            };
            vec![LogicalLocation {
                fully_qualified_name: name.clone(),
                name,
                kind: "module",
            }]
        })
        .unwrap_or_default();
    ResultOut {
        rule_id: f.rule.to_string(),
        rule_index,
        level: level(f.severity),
        message: Text { text: message },
        locations: vec![LocationOut {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&f.location.file),
                },
                region: f.location.line.map(|l| Region {
                    start_line: l.max(1),
                }),
            },
            logical_locations,
        }],
        partial_fingerprints: Fingerprints {
            customs: crate::policy::fingerprint(
                f.rule.as_str(),
                f.package.as_deref(),
                f.version.as_deref(),
                f.location.path.as_deref(),
                &f.message,
            ),
        },
        suppressions: f
            .suppressed
            .as_ref()
            .map(|s| {
                vec![SuppressionOut {
                    kind: "external",
                    justification: s.reason.clone(),
                }]
            })
            .unwrap_or_default(),
        taxa,
        properties: ResultProperties {
            severity: f.severity,
            confidence: f.confidence,
            evidence: f
                .evidence
                .iter()
                .map(|e| format!("{}: {}", e.label, e.value))
                .collect(),
        },
    }
}

/// A relative URI for a path: `./` dropped, backslashes turned, spaces escaped.
fn uri(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.replace('%', "%25").replace(' ', "%20")
}

/// Renders the report as SARIF 2.1.0.
pub fn render(report: &Report) -> String {
    let taxonomies = advisory_taxonomy(&report.findings);
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: ToolOut {
                driver: Driver {
                    name: "customs",
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    rules: checks::ALL.iter().map(|m| rule_out(m)).collect(),
                },
            },
            results: report
                .findings
                .iter()
                .map(|f| result_out(f, &taxonomies))
                .collect(),
            column_kind: "unicodeCodePoints",
            taxonomies,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise SARIF: {e}\"}}"));
    out.push('\n');
    out
}
