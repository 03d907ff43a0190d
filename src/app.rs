//! Orchestration: the only place that reads the clock and the environment.
//!
//! lockfile -> packages -> (index -> checks) -> findings -> policy -> report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;

use crate::cli::{AuditArgs, Cli, Command, OutputFormat, ReportArgs};
use crate::finding::{Finding, sort_findings};
use crate::lockfile::{self, Format, ParseOptions};
use crate::package::Package;
use crate::report::{self, Input, Report, RunResult, Settings, SkippedInput};

/// What a run produced: text for stdout, notes for stderr, an exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The report (empty when written to `--output`).
    pub stdout: String,
    /// Messages for stderr (files read, files skipped, warnings).
    pub messages: Vec<String>,
    /// 0 pass, 1 policy violated.
    pub code: u8,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Audit(args) => audit(&args),
        Command::Explain { rule } => explain(&rule),
        Command::Rules => Ok(Outcome {
            stdout: rules_list(),
            ..Outcome::default()
        }),
        Command::Schema {
            which: crate::cli::SchemaKind::Report,
        } => Ok(Outcome {
            stdout: report::json::schema(),
            ..Outcome::default()
        }),
    }
}

fn explain(rule: &str) -> Result<Outcome> {
    let id: crate::finding::RuleId = rule
        .parse()
        .context("hint: `customs rules` lists the rule ids")?;
    let meta = crate::checks::meta(id);
    let mut stdout = meta.docs.trim_end().to_string();
    stdout.push_str(&format!(
        "\n\nDefault severity: {}. Confidence: {}.\n",
        meta.severity,
        meta.confidence.as_str()
    ));
    Ok(Outcome {
        stdout,
        ..Outcome::default()
    })
}

fn rules_list() -> String {
    let width = crate::checks::ALL
        .iter()
        .map(|r| r.id.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for r in crate::checks::ALL {
        out.push_str(&format!(
            "{:<width$}  {:<8}  {}\n",
            r.id.as_str(),
            r.severity.as_str(),
            r.summary
        ));
    }
    out
}

/// Reads the evaluation time: `--as-of` / `CUSTOMS_AS_OF`, else the real clock.
fn as_of(args: &ReportArgs, now: Timestamp) -> Result<Timestamp> {
    match &args.as_of {
        None => Ok(now),
        Some(s) => parse_instant(s).with_context(|| {
            format!("invalid --as-of `{s}`\n  hint: use an RFC 3339 time such as 2026-09-18T00:00:00Z, or a date such as 2026-09-18")
        }),
    }
}

/// Parses an RFC 3339 timestamp or a plain date (midnight UTC).
pub fn parse_instant(s: &str) -> Result<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    let date: jiff::civil::Date = s.parse().context("not a timestamp or a date")?;
    Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}

fn audit(args: &AuditArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let as_of = as_of(&args.report, now)?;
    let options = ParseOptions {
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
    };
    let mut messages = Vec::new();
    let targets = resolve_targets(&args.paths, &mut messages)?;
    let mut packages: Vec<Package> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut inputs = Vec::new();
    for target in &targets.files {
        let (format, lock) =
            lockfile::parse_file(&target.0, target.1, &options).map_err(anyhow::Error::new)?;
        messages.push(format!(
            "read {} as {format}: {} package{}",
            report::display_path(&target.0),
            lock.packages.len(),
            if lock.packages.len() == 1 { "" } else { "s" }
        ));
        inputs.push(Input {
            path: report::display_path(&target.0),
            format,
            packages: lock.packages.len(),
            indexes: lock
                .indexes
                .iter()
                .map(|i| lockfile::IndexRecord {
                    url: report::redact_url(&i.url),
                    role: i.role.clone(),
                })
                .collect(),
            includes: lock
                .includes
                .iter()
                .map(|p| report::display_path(p))
                .collect(),
            options: lock.options.clone(),
        });
        packages.extend(lock.packages);
        findings.extend(lock.findings);
    }
    sort_findings(&mut findings);
    let settings = Settings {
        fail_on: args.report.fail_on,
        offline: args.report.offline,
    };
    let report = Report::build(RunResult {
        inputs,
        skipped: targets.skipped,
        packages: &packages,
        findings: &findings,
        settings,
        as_of,
        now,
    });
    let code = match report.summary.verdict {
        report::Verdict::Pass => 0,
        report::Verdict::Fail => 1,
    };
    let rendered = render(&report, args.report.format);
    let stdout = write_output(args.report.output.as_deref(), rendered)?;
    Ok(Outcome {
        stdout,
        messages,
        code,
    })
}

fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => report::json::render(report),
        OutputFormat::Table => report::table::render(report, terminal_width()),
    }
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

/// Writes the report to `--output` (returning nothing for stdout) or returns it.
fn write_output(output: Option<&Path>, rendered: String) -> Result<String> {
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

/// Files to read, each with its format when discovery decided it.
struct Targets {
    files: Vec<(PathBuf, Option<Format>)>,
    skipped: Vec<SkippedInput>,
}

fn resolve_targets(paths: &[PathBuf], messages: &mut Vec<String>) -> Result<Targets> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if path.is_dir() {
            let found = lockfile::discover(path).map_err(anyhow::Error::new)?;
            for s in &found.skipped {
                messages.push(format!(
                    "skipped {}: {}",
                    report::display_path(&s.path),
                    s.reason
                ));
                skipped.push(SkippedInput {
                    path: report::display_path(&s.path),
                    reason: s.reason.clone(),
                });
            }
            if found.files.is_empty() {
                bail!(
                    "{}: no lockfile or requirements file found\n  hint: customs reads uv.lock, poetry.lock, pylock.toml, pdm.lock, Pipfile.lock and requirements*.txt; name a file to read it whatever its name",
                    path.display()
                );
            }
            files.extend(found.files.into_iter().map(|(p, f)| (p, Some(f))));
        } else if path.exists() {
            files.push((path.clone(), None));
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    Ok(Targets { files, skipped })
}
