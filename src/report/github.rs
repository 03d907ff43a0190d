//! `--format github`: workflow commands that GitHub turns into annotations.
//!
//! GitHub shows at most 10 annotations of each kind per step, so only the 10
//! most important findings that count are annotated; a closing notice points
//! to the job summary for the rest.

use std::fmt::Write;

use super::{FindingOut, Report, Verdict};
use crate::finding::Severity;

/// How many findings get an annotation.
pub const MAX_ANNOTATIONS: usize = 10;

/// Escapes the message part of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// The findings that count, most important first (severity, confidence, then report order).
pub fn most_important(report: &Report) -> Vec<&FindingOut> {
    let mut active: Vec<&FindingOut> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    active.sort_by_key(|f| std::cmp::Reverse((f.severity, f.confidence)));
    active
}

/// Renders the annotations.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let active = most_important(report);
    for f in active.iter().take(MAX_ANNOTATIONS) {
        let subject = match (&f.package, &f.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            (Some(p), None) => p.clone(),
            _ => String::new(),
        };
        let title = if subject.is_empty() {
            format!("customs {}", f.rule)
        } else {
            format!("customs {}: {subject}", f.rule)
        };
        let mut props = format!("file={}", escape_property(&f.location.file));
        if let Some(line) = f.location.line {
            let _ = write!(props, ",line={line}");
        }
        let _ = write!(props, ",title={}", escape_property(&title));
        let mut message = f.message.clone();
        if let (Some(archive), Some(path)) = (&f.location.archive, &f.location.path) {
            let _ = write!(message, "\n{archive}: {path}");
            if let Some(l) = f.location.path_line {
                let _ = write!(message, ":{l}");
            }
        }
        let _ = writeln!(
            out,
            "::{} {props}::{}",
            command(f.severity),
            escape_data(&message)
        );
    }
    if active.len() > MAX_ANNOTATIONS {
        let _ = writeln!(
            out,
            "::notice title=customs::{}",
            escape_data(&format!(
                "{} more finding(s) are not annotated (GitHub shows at most {MAX_ANNOTATIONS} per step); see the job summary",
                active.len() - MAX_ANNOTATIONS
            ))
        );
    }
    let verdict = match report.summary.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
    };
    let _ = writeln!(
        out,
        "customs: {verdict}: {} package(s), {} finding(s), {} suppressed",
        report.summary.packages, report.summary.findings, report.summary.suppressed
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(escape_data("50%\r\nx"), "50%25%0D%0Ax");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
