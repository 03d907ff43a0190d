//! `--format markdown`: a job summary for `$GITHUB_STEP_SUMMARY` or a PR comment.

use std::fmt::Write;

use super::{FindingOut, Report, Verdict};
use crate::finding::Severity;

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

fn place(f: &FindingOut) -> String {
    let mut p = format!("`{}", f.location.file);
    if let Some(l) = f.location.line {
        let _ = write!(p, ":{l}");
    }
    p.push('`');
    if let Some(path) = &f.location.path {
        let _ = write!(p, " `{path}");
        if let Some(l) = f.location.path_line {
            let _ = write!(p, ":{l}");
        }
        p.push('`');
    }
    p
}

fn subject(f: &FindingOut) -> String {
    match (&f.package, &f.version) {
        (Some(p), Some(v)) => format!("{p} {v}"),
        (Some(p), None) => p.clone(),
        _ => "—".into(),
    }
}

fn findings_table(out: &mut String, findings: &[&FindingOut]) {
    let _ = writeln!(
        out,
        "| severity | rule | package | where | message |\n|---|---|---|---|---|"
    );
    for f in findings {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} |",
            f.severity,
            f.rule,
            cell(&subject(f)),
            cell(&place(f)),
            cell(&f.message)
        );
    }
}

/// Renders the summary.
/// The change since the base revision: its counts, then each changed
/// package with its verdict and lockfile line.
fn change_section(out: &mut String, diff: &super::DiffOut) {
    let _ = writeln!(
        out,
        "**Change since `{}`: {}.**\n",
        cell(&diff.base),
        diff.summary
    );
    if !diff.changes.is_empty() {
        let _ = writeln!(
            out,
            "| change | package | verdict | where |\n|---|---|---|---|"
        );
        for c in &diff.changes {
            let versions = match (&c.from, &c.to) {
                (Some(f), Some(t)) if f != t => format!("{f} → {t}"),
                (_, Some(t)) => t.clone(),
                (Some(f), None) => f.clone(),
                (None, None) => String::new(),
            };
            let verdict = match c.verdict {
                Some("fail") => "❌ fail",
                Some("unknown") => "❔ unknown",
                Some(_) => "✅ pass",
                None => "",
            };
            let _ = writeln!(
                out,
                "| {} | {} {} | {verdict} | `{}:{}` |",
                c.kind.as_str(),
                cell(&c.name),
                cell(&versions),
                cell(&c.lockfile),
                c.line
            );
        }
        out.push('\n');
    }
    if !diff.already_present.is_empty() {
        let _ = writeln!(
            out,
            "{} finding(s) on packages the change leaves as they were: already present, not counted.\n",
            diff.already_present.len()
        );
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let fail_on = report.settings.fail_on;
    let (icon, verdict) = match report.summary.verdict {
        Verdict::Pass => ("✅", "passed"),
        Verdict::Fail => ("❌", "failed"),
    };
    let _ = writeln!(out, "## {icon} customs {verdict}\n");
    if let Some(diff) = &report.diff {
        change_section(&mut out, diff);
    }
    let _ = writeln!(
        out,
        "{} package(s) from {} file(s); {} finding(s) count, {} suppressed; the run fails at **{fail_on}** and above.\n",
        report.summary.packages,
        report.inputs.len(),
        report.summary.findings,
        report.summary.suppressed,
    );

    let blocking = super::blocking_lines(report);
    if !blocking.is_empty() {
        let _ = writeln!(out, "**Blocked:**\n");
        for line in &blocking {
            let _ = writeln!(out, "- {}", cell(line));
        }
        out.push('\n');
    }
    if let Some(line) = super::provenance_line(report) {
        let _ = writeln!(
            out,
            "{}\n",
            line.replacen("provenance (PEP 740)", "Provenance (PEP 740)", 1)
        );
    }

    if !report.summary.by_rule.is_empty() {
        let _ = writeln!(out, "| rule | findings |\n|---|---:|");
        for (rule, n) in &report.summary.by_rule {
            let _ = writeln!(out, "| `{rule}` | {n} |");
        }
        out.push('\n');
    }

    let (blocking, others): (Vec<&FindingOut>, Vec<&FindingOut>) =
        super::github::most_important(report)
            .into_iter()
            .filter(|f| f.severity >= fail_on || f.severity > Severity::Info)
            .partition(|f| f.severity >= fail_on);
    if !blocking.is_empty() {
        let _ = writeln!(out, "### Blocking findings\n");
        findings_table(&mut out, &blocking);
        out.push('\n');
    }
    if !others.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} other finding(s)</summary>\n",
            others.len()
        );
        findings_table(&mut out, &others);
        let _ = writeln!(out, "\n</details>\n");
    }

    let cooling: Vec<&FindingOut> = report
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "cooldown")
        .collect();
    if !cooling.is_empty() {
        let _ = writeln!(out, "### Releases in their cooldown\n");
        let _ = writeln!(out, "| package | eligible from |\n|---|---|");
        for f in cooling {
            let eligible = f
                .evidence
                .iter()
                .find(|e| e.label == "eligible")
                .map_or("—", |e| e.value.as_str());
            let _ = writeln!(out, "| {} | {} |", cell(&subject(f)), cell(eligible));
        }
        out.push('\n');
    }

    let suppressed: Vec<&FindingOut> = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(out, "### Allowed findings\n");
        let _ = writeln!(
            out,
            "| rule | package | reason | expires |\n|---|---|---|---|"
        );
        for f in suppressed {
            let s = f.suppressed.as_ref();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                f.rule,
                cell(&subject(f)),
                cell(s.map_or("", |s| s.reason.as_str())),
                s.and_then(|s| s.expires.as_deref()).unwrap_or("—"),
            );
        }
        out.push('\n');
    }
    out
}
