//! `--format table`: for people at a terminal. Plain text (no colour), so it
//! reads the same with `NO_COLOR`, in logs and in pipes.

use std::fmt::Write;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{Report, Verdict};

/// Renders the report as a table with a summary line.
pub fn render(report: &Report, width: Option<u16>) -> String {
    let mut out = String::new();
    let files = report.inputs.len();
    let _ = writeln!(
        out,
        "{} package{} from {} file{}",
        report.summary.packages,
        plural(report.summary.packages),
        files,
        plural(files),
    );
    for input in &report.inputs {
        let _ = writeln!(
            out,
            "  {} ({}, {} packages)",
            input.path, input.format, input.packages
        );
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "  skipped {}: {}", skipped.path, skipped.reason);
    }
    // Many packages the index could not answer for, for the same reason (an
    // offline run, a dead mirror), read better as one row per reason.
    let unavailable: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "index-unavailable" && f.suppressed.is_none())
        .collect();
    let collapse = unavailable.len() > 3;
    // Info findings are for the record (JSON, SARIF); the table keeps to what needs a look.
    let hidden_info = report
        .findings
        .iter()
        .filter(|f| f.severity == crate::finding::Severity::Info)
        .count();
    let shown: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity > crate::finding::Severity::Info)
        .filter(|f| !(collapse && f.rule.as_str() == "index-unavailable" && f.suppressed.is_none()))
        .collect();
    let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    if collapse {
        for f in &unavailable {
            let reason = f
                .evidence
                .iter()
                .find(|e| e.label == "reason")
                .map_or("unknown reason", |e| e.value.as_str());
            *reasons.entry(reason).or_default() += 1;
        }
    }
    if shown.is_empty() && reasons.is_empty() {
        let _ = writeln!(out, "\nNo findings.");
    } else {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(["severity", "rule", "package", "where", "message"]);
        if let Some(w) = width {
            table.set_width(w);
        }
        for row in top_per_package(shown) {
            let f = match row {
                Row::Finding(f) => f,
                Row::More(package, n, worst) => {
                    table.add_row([
                        String::new(),
                        String::new(),
                        package,
                        String::new(),
                        format!(
                            "{n} more finding{} (at most {worst}): see --format json",
                            plural(n)
                        ),
                    ]);
                    continue;
                }
            };
            let package = match (&f.package, &f.version) {
                (Some(p), Some(v)) => format!("{p} {v}"),
                (Some(p), None) => p.clone(),
                _ => String::new(),
            };
            let mut place = f.location.file.clone();
            if let Some(line) = f.location.line {
                let _ = write!(place, ":{line}");
            }
            if let Some(member) = &f.location.path {
                let _ = write!(place, "\n{member}");
                if let Some(line) = f.location.path_line {
                    let _ = write!(place, ":{line}");
                }
            }
            let mut message = f.message.clone();
            if let Some(s) = &f.suppressed {
                let _ = write!(message, "\n(allowed: {})", s.reason);
            }
            table.add_row([
                f.severity.to_string(),
                f.rule.to_string(),
                package,
                place,
                message,
            ]);
        }
        for (reason, n) in &reasons {
            table.add_row([
                "medium".to_string(),
                "index-unavailable".to_string(),
                format!("{n} packages"),
                String::new(),
                format!("could not be checked against the index: {reason}"),
            ]);
        }
        let _ = writeln!(out, "\n{table}");
    }
    if hidden_info > 0 {
        let _ = writeln!(
            out,
            "{hidden_info} info finding{} not shown (see --format json)",
            plural(hidden_info)
        );
    }
    if let Some(line) = super::provenance_line(report) {
        let _ = writeln!(out, "{line}");
    }
    let counts: Vec<String> = report
        .summary
        .by_severity
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let verdict = match report.summary.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {} finding{}{}{} (failing at {} and above)",
        report.summary.findings,
        plural(report.summary.findings),
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        if report.summary.suppressed > 0 {
            format!(", {} suppressed", report.summary.suppressed)
        } else {
            String::new()
        },
        report.settings.fail_on,
    );
    for line in super::blocking_lines(report) {
        let _ = writeln!(out, "  blocked: {line}");
    }
    out
}

/// Rows per package in the table; JSON, SARIF and the annotations keep all.
const PER_PACKAGE: usize = 3;

/// A row of the findings table.
enum Row<'r> {
    Finding(&'r super::FindingOut),
    /// A package's findings past [`PER_PACKAGE`]: the package, how many,
    /// the most severe of them.
    More(String, usize, crate::finding::Severity),
}

/// The findings grouped by package (the package with the most severe
/// finding first), at most [`PER_PACKAGE`] of each, most severe first, each
/// group closed by a row saying how many more there are.
fn top_per_package(shown: Vec<&super::FindingOut>) -> Vec<Row<'_>> {
    let key = |f: &super::FindingOut| match (&f.package, &f.version) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => p.to_string(),
        _ => String::new(),
    };
    let mut groups: Vec<(String, Vec<&super::FindingOut>)> = Vec::new();
    for f in shown {
        let k = key(f);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, list)) => list.push(f),
            None => groups.push((k, vec![f])),
        }
    }
    for (_, list) in &mut groups {
        list.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    groups.sort_by_key(|(_, list)| std::cmp::Reverse(list.first().map(|f| f.severity)));
    let mut rows = Vec::new();
    for (k, list) in groups {
        // Findings about no package (the configuration) are all shown.
        let cap = if k.is_empty() {
            usize::MAX
        } else {
            PER_PACKAGE
        };
        let rest = list.len().saturating_sub(cap);
        let worst = list.iter().skip(cap).map(|f| f.severity).max();
        rows.extend(list.into_iter().take(cap).map(Row::Finding));
        if let Some(worst) = worst {
            rows.push(Row::More(k, rest, worst));
        }
    }
    rows
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Confidence, RuleId, Severity};

    fn finding(package: &str, severity: Severity) -> super::super::FindingOut {
        super::super::FindingOut {
            rule: RuleId::BinaryPayload,
            severity,
            confidence: Confidence::High,
            package: Some(package.into()),
            version: Some("1.0".into()),
            message: format!("{package} {severity}"),
            location: super::super::LocationOut {
                file: "uv.lock".into(),
                line: Some(1),
                archive: None,
                path: None,
                path_line: None,
            },
            evidence: Vec::new(),
            suppressed: None,
        }
    }

    #[test]
    fn the_table_shows_the_top_findings_of_each_package_worst_package_first() {
        let many: Vec<_> = [
            Severity::Low,
            Severity::Medium,
            Severity::Low,
            Severity::High,
            Severity::Medium,
        ]
        .into_iter()
        .map(|s| finding("busy", s))
        .collect();
        let quiet = finding("quiet", Severity::Critical);
        let shown: Vec<_> = many.iter().chain([&quiet]).collect();
        let rows: Vec<String> = top_per_package(shown)
            .into_iter()
            .map(|r| match r {
                Row::Finding(f) => f.message.clone(),
                Row::More(p, n, worst) => format!("{p}: {n} more, at most {worst}"),
            })
            .collect();
        assert_eq!(
            rows,
            [
                "quiet critical",
                "busy high",
                "busy medium",
                "busy medium",
                "busy 1.0: 2 more, at most low"
            ]
        );
    }
}
