//! The advisory checks: each locked release from an index against the
//! advisory database, one finding per advisory (records that alias each
//! other are one), `known-malware` for a malicious-package advisory and
//! `vulnerability` for the rest.

use crate::advisories::db::{Database, DbError};
use crate::advisories::osv::{Record, merge_aliases};
use crate::finding::{Finding, RuleId, Severity};
use crate::package::{Package, SourceKind};

/// Findings for every package the database names.
pub fn check(packages: &[Package], db: &Database) -> Result<Vec<Finding>, DbError> {
    let mut out = Vec::new();
    for pkg in packages
        .iter()
        .filter(|p| p.source.kind == SourceKind::Registry)
    {
        let Some(version) = pkg.version.as_ref().map(|v| v.as_str().to_string()) else {
            continue;
        };
        let name = pkg.name.as_str();
        let records = db.records_for(name)?;
        let hits: Vec<&Record> = records
            .iter()
            .filter(|r| r.affects(name, &version))
            .collect();
        for group in merge_aliases(&hits) {
            let group: Vec<&Record> = group.iter().map(|&i| hits[i]).collect();
            out.push(finding(pkg, name, &version, &group));
        }
    }
    Ok(out)
}

/// One advisory (a group of aliased records) about one release.
fn finding(pkg: &Package, name: &str, version: &str, group: &[&Record]) -> Finding {
    let malware = group.iter().any(|r| r.is_malware());
    // The id shown: a malicious-package id first, else the first record's.
    let lead = group
        .iter()
        .find(|r| r.id.starts_with("MAL-"))
        .or(group.first())
        .map_or("", |r| r.id.as_str());
    let mut ids: Vec<&str> = group.iter().flat_map(|r| r.ids()).collect();
    ids.sort_unstable();
    ids.dedup();
    let aliases: Vec<&str> = ids.iter().copied().filter(|i| *i != lead).collect();
    let summary = group
        .iter()
        .find_map(|r| r.summary.clone().filter(|s| !s.trim().is_empty()))
        .or_else(|| {
            group.iter().find_map(|r| {
                r.details
                    .as_ref()
                    .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                    .map(|l| l.trim().chars().take(200).collect())
            })
        })
        .unwrap_or_else(|| "no summary given".into());
    let mut fixed: Vec<String> = group.iter().flat_map(|r| r.fixed_versions(name)).collect();
    fixed.sort();
    fixed.dedup();
    let nearest = group.iter().find_map(|r| r.nearest_fix(name, version));
    let link = group
        .iter()
        .flat_map(|r| &r.references)
        .find(|r| r.kind == "ADVISORY")
        .map_or_else(
            || format!("https://osv.dev/vulnerability/{lead}"),
            |r| r.url.clone(),
        );
    let (rule, severity, message) = if malware {
        (
            RuleId::KnownMalware,
            Severity::Critical,
            format!(
                "{} {version} is known malware ({lead}): {summary}. Remove it and rotate the secrets of every machine that installed it; do not upgrade",
                pkg.name
            ),
        )
    } else {
        let severity = group
            .iter()
            .map(|r| r.severity(name))
            .max()
            .unwrap_or(Severity::Medium);
        let fix = match &nearest {
            Some(v) => format!("fixed in {v}"),
            None if fixed.is_empty() => "no fixed version is published".to_string(),
            None => format!("fixed versions: {}", fixed.join(", ")),
        };
        let shown = std::iter::once(lead)
            .chain(aliases.iter().copied())
            .collect::<Vec<_>>()
            .join(", ");
        (
            RuleId::Vulnerability,
            severity,
            format!(
                "{} {version} has a known vulnerability ({shown}): {summary}; {fix}",
                pkg.name
            ),
        )
    };
    let mut f = Finding::for_package(rule, pkg)
        .severity(severity)
        .evidence("advisory", lead.to_string());
    if !aliases.is_empty() {
        f = f.evidence("aliases", aliases.join(", "));
    }
    f = f.evidence("summary", summary);
    if !fixed.is_empty() {
        f = f.evidence("fixed", fixed.join(", "));
    }
    if let Some(n) = nearest {
        f = f.evidence("nearest-fix", n);
    }
    f.evidence("url", link).message(message)
}
