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
        for f in shown {
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
