//! The end of every command: policy, baseline, report rendering, files.

use super::*;

pub(super) struct FinishArgs<'a> {
    pub(super) args: &'a ReportArgs,
    pub(super) config: &'a Config,
    pub(super) settings: &'a RunSettings,
    pub(super) inputs: Vec<Input>,
    pub(super) skipped: Vec<SkippedInput>,
    pub(super) packages: &'a [Package],
    pub(super) statuses: &'a [IndexStatus],
    pub(super) scans: Option<&'a [ScanStatus]>,
    pub(super) provenance: Option<&'a [ProvenanceStatus]>,
    pub(super) advisories: Option<&'a crate::advisories::RunStatus>,
    pub(super) findings: Vec<Finding>,
    pub(super) diff: Option<&'a crate::diff::Diff>,
    pub(super) as_of: Timestamp,
    pub(super) now: Timestamp,
    pub(super) messages: Vec<String>,
}

/// Policy, baseline, report, extra outputs, exit code: shared by every command.
pub(super) fn finish(f: FinishArgs<'_>) -> Result<Outcome> {
    let today = f.as_of.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut findings = policy::apply(f.config, f.findings, today);
    if let Some(path) = &f.args.baseline {
        let known = baseline(path)?;
        policy::apply_baseline(&mut findings, &known, &report::display_path(path));
    }
    sort_findings(&mut findings);
    let report = Report::build(RunResult {
        inputs: f.inputs,
        skipped: f.skipped,
        packages: f.packages,
        statuses: f.statuses,
        scans: f.scans,
        provenance: f.provenance,
        advisories: f.advisories,
        findings: &findings,
        diff: f.diff,
        settings: Settings {
            fail_on: f.settings.fail_on,
            fail_on_unknown: f.settings.fail_on_unknown,
            offline: f.args.offline,
            cooldown: f.settings.cooldown.to_string(),
            index_url: report::redact_url(
                f.settings
                    .user_index
                    .as_deref()
                    .unwrap_or(crate::index::DEFAULT_INDEX_URL),
            ),
            config: f.config.path.as_deref().map(report::display_path),
        },
        as_of: f.as_of,
        now: f.now,
    });
    let code = match report.summary.verdict {
        report::Verdict::Pass => 0,
        report::Verdict::Fail => 1,
    };
    for (path, format) in [
        (&f.args.json_file, OutputFormat::Json),
        (&f.args.sarif_file, OutputFormat::Sarif),
        (&f.args.summary_file, OutputFormat::Markdown),
    ] {
        if let Some(path) = path {
            write_atomic(path, render(&report, format).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    let rendered = render(&report, f.args.format);
    let stdout = write_output(f.args.output.as_deref(), rendered)?;
    Ok(Outcome {
        stdout,
        messages: f.messages,
        code,
    })
}

/// The fingerprints of the findings in an earlier JSON report.
pub(super) fn baseline(path: &Path) -> Result<std::collections::HashSet<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a customs JSON report", path.display()))?;
    let findings = doc
        .get("findings")
        .and_then(|f| f.as_array())
        .with_context(|| {
            format!(
                "{}: not a customs JSON report (no `findings`)",
                path.display()
            )
        })?;
    Ok(findings
        .iter()
        .map(|f| {
            let s = |k: &str| f.get(k).and_then(|v| v.as_str());
            policy::fingerprint(
                s("rule").unwrap_or(""),
                s("package"),
                s("version"),
                f.get("location")
                    .and_then(|l| l.get("path"))
                    .and_then(|v| v.as_str()),
                s("message").unwrap_or(""),
            )
        })
        .collect())
}

/// Renders a report in a format; every report customs writes, to stdout or a
/// file, passes the one redaction point on the way out.
pub(super) fn render(report: &Report, format: OutputFormat) -> String {
    let text = match format {
        OutputFormat::Json => report::json::render(report),
        OutputFormat::Table => report::table::render(report, terminal_width()),
        OutputFormat::Sarif => report::sarif::render(report),
        OutputFormat::Github => report::github::render(report),
        OutputFormat::Markdown => report::markdown::render(report),
    };
    crate::redact::scrub(&text)
}

pub(super) fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

/// Writes the report to `--output` (returning nothing for stdout) or returns it.
pub(super) fn write_output(output: Option<&Path>, rendered: String) -> Result<String> {
    match output {
        None => Ok(rendered),
        Some(path) => {
            write_atomic(path, rendered.as_bytes())
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            Ok(String::new())
        }
    }
}

/// Writes a file through a temporary sibling and a rename, so a failed run
/// never leaves half a report behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.customs-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
