//! Orchestration: the only place that reads the clock and the environment.
//!
//! lockfile -> packages -> (index -> checks) -> findings -> policy -> report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;

use std::time::Duration;

use crate::checks::{
    self, archives::ScanSettings, archives::ScanStatus, cooldown::Cooldown,
    provenance::ProvenanceSettings, provenance::ProvenanceStatus, release::IndexStatus,
    release::ReleaseSettings,
};
use crate::cli::{AuditArgs, Cli, Command, OutputFormat, ReportArgs};
use crate::finding::{Finding, Severity, sort_findings};
use crate::index::{ClientConfig, IndexClient, IndexUrl};
use crate::lockfile::{self, Format, ParseOptions};
use crate::package::{Package, PackageName, SourceKind};
use crate::policy::{self, Config};
use crate::report::{self, Input, Report, RunResult, Settings, SkippedInput};

mod advisories;
mod check;
mod online;
mod output;
mod scan;

use check::check;
use online::release_checks;
pub use output::write_atomic;
use output::{FinishArgs, finish};
use scan::scan;

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
        Command::Check(args) => check(&args),
        Command::Scan(args) => scan(&args),
        Command::Explain { rule } => explain(&rule),
        Command::Advisories { action } => advisories::run(&action),
        Command::Rules { markdown } => Ok(Outcome {
            stdout: if markdown {
                checks::reference_markdown()
            } else {
                rules_list()
            },
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
    if let Ok(id) = rule.parse::<crate::finding::RuleId>() {
        let meta = checks::meta(id);
        let mut stdout = meta.docs.trim_end().to_string();
        stdout.push_str(&format!(
            "\n\nDefault severity: {}. Confidence: {}.\n",
            meta.severity,
            meta.confidence.as_str()
        ));
        return Ok(Outcome {
            stdout,
            ..Outcome::default()
        });
    }
    // A scan indicator of rules/*.toml.
    let rules = crate::scan::rules::rules().map_err(anyhow::Error::msg)?;
    let Some(ind) = rules.indicators.iter().find(|i| i.id == rule) else {
        bail!(
            "unknown rule `{rule}`\n  hint: `customs rules` lists the rule ids and the scan indicators"
        );
    };
    let mut stdout = format!(
        "# {} (scan indicator, {:?})\n\n{}.\n\nAn indicator is never a finding alone: the scanner combines indicators by file and by where\nthe file runs (see `customs explain exfiltration`, `obfuscated-exec`, `download-exec`, `install-hook`).\n\nPattern (ASCII regex): {}\n",
        ind.id,
        ind.kind,
        ind.description,
        ind.regex.as_str().trim_start_matches("(?-u)")
    );
    if !ind.not_after.is_empty() {
        stdout.push_str(&format!(
            "Not just after: {}\n",
            String::from_utf8_lossy(&ind.not_after)
        ));
    }
    for m in &ind.matches {
        stdout.push_str(&format!("matches:        {m}\n"));
    }
    for m in &ind.non_matches {
        stdout.push_str(&format!("does not match: {m}\n"));
    }
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
    if let Ok(rules) = crate::scan::rules::rules() {
        out.push_str("\nscan indicators (rules/*.toml; combined into the scan findings above):\n");
        let w = rules
            .indicators
            .iter()
            .map(|i| i.id.len())
            .max()
            .unwrap_or(0);
        for i in &rules.indicators {
            out.push_str(&format!("{:<w$}  {}\n", i.id, i.description));
        }
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

/// The settings of a run, after the command line, the config and the environment.
struct RunSettings {
    fail_on: Severity,
    fail_on_unknown: bool,
    cooldown: Cooldown,
    user_index: Option<String>,
    /// The `.netrc` text (`NETRC`, else `~/.netrc`), if any.
    netrc: Option<String>,
    /// uv's `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD` variables.
    uv_index_env: BTreeMap<String, String>,
    /// Named indexes (`UV_INDEX=name=url`, `[[tool.uv.index]]` of a
    /// pyproject.toml beside a lockfile): (name, URL), for uv's per-index
    /// credential variables.
    named_indexes: Vec<(String, String)>,
    /// Index URLs the user configured (command line, environment, config).
    trusted_indexes: Vec<String>,
}

fn load_config(args: &ReportArgs) -> Result<Config> {
    if args.no_config {
        return Ok(Config::default());
    }
    if let Some(path) = &args.config {
        return Ok(policy::config::load(path)?);
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(policy::config::discover(&cwd)?.unwrap_or_default())
}

fn resolve_settings(args: &ReportArgs, config: &Config) -> Result<RunSettings> {
    let cooldown_text = args.cooldown.clone().or_else(|| config.cooldown.clone());
    let cooldown = match &cooldown_text {
        None => Cooldown::default(),
        Some(t) => checks::cooldown::parse(t).map_err(|e| {
            let from = if args.cooldown.is_some() {
                "--cooldown".to_string()
            } else {
                config.path.as_ref().map_or("config".into(), |p| format!("`cooldown` in {}", p.display()))
            };
            anyhow::anyhow!("invalid {from}: {e}\n  hint: use a duration such as `7 days`, `36 hours` or `P7D`, or a date such as 2026-09-01")
        })?,
    };
    let env_index = ["PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()));
    let user_index = args
        .index_url
        .clone()
        .or(env_index)
        .or_else(|| config.index_url.clone());
    if let Some(u) = &user_index {
        IndexUrl::parse(u).map_err(|e| anyhow::anyhow!("invalid index URL: {e}\n  hint: give the Simple index URL, e.g. https://host/simple"))?;
    }
    // Every secret of the environment is known to the redaction point before
    // anything can print it.
    // The indexes the user configured (not a lockfile or a pyproject.toml a
    // pull request can change): only their hosts get uv's per-index secrets.
    let mut trusted_indexes: Vec<String> = Vec::new();
    let mut named_indexes = Vec::new();
    for k in [
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_INDEX",
        "UV_EXTRA_INDEX_URL",
    ] {
        if let Ok(v) = std::env::var(k) {
            for entry in v.split_whitespace() {
                let (name, url) = split_named_index(entry);
                crate::redact::register_url(url);
                trusted_indexes.push(url.to_string());
                if let Some(name) = name {
                    named_indexes.push((name.to_string(), url.to_string()));
                }
            }
        }
    }
    if let Some(u) = &user_index {
        crate::redact::register_url(u);
        trusted_indexes.push(u.clone());
    }
    let uv_index_env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| {
            k.starts_with("UV_INDEX_") && (k.ends_with("_USERNAME") || k.ends_with("_PASSWORD"))
        })
        .collect();
    for (k, v) in &uv_index_env {
        if k.ends_with("_PASSWORD") {
            crate::redact::register(v);
        }
    }
    let netrc = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| etcetera::home_dir().ok().map(|h| h.join(".netrc")))
        .and_then(|p| std::fs::read_to_string(p).ok());
    Ok(RunSettings {
        fail_on: args.fail_on.or(config.fail_on).unwrap_or(Severity::High),
        fail_on_unknown: args.fail_on_unknown || config.fail_on_unknown.unwrap_or(false),
        cooldown,
        user_index,
        netrc,
        uv_index_env,
        named_indexes,
        trusted_indexes,
    })
}

/// `name=https://host/simple` (uv's `UV_INDEX` entries) or a bare URL. A
/// password may contain `=` (base64): only a left side that is not part of a
/// URL is a name.
fn split_named_index(entry: &str) -> (Option<&str>, &str) {
    match entry.split_once('=') {
        Some((name, url)) if !name.contains([':', '/', '@']) && url.contains("://") => {
            (Some(name), url)
        }
        _ => (None, entry),
    }
}

/// `[[tool.uv.index]]` entries (name, URL) of the pyproject.toml beside `lockfile`.
fn named_indexes(lockfile: &Path) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Pyproject {
        tool: Option<Tool>,
    }
    #[derive(serde::Deserialize)]
    struct Tool {
        uv: Option<Uv>,
    }
    #[derive(serde::Deserialize)]
    struct Uv {
        #[serde(default)]
        index: Vec<Named>,
    }
    #[derive(serde::Deserialize)]
    struct Named {
        name: Option<String>,
        url: String,
    }
    let dir = lockfile.parent().unwrap_or(Path::new("."));
    let Ok(text) = std::fs::read_to_string(dir.join("pyproject.toml")) else {
        return Vec::new();
    };
    let Ok(doc) = toml::from_str::<Pyproject>(&text) else {
        return Vec::new();
    };
    doc.tool
        .and_then(|t| t.uv)
        .map(|uv| {
            uv.index
                .into_iter()
                .filter_map(|i| Some((i.name?, i.url)))
                .collect()
        })
        .unwrap_or_default()
}

/// The offline name checks of every registry package.
fn name_checks(packages: &[Package], config: &Config) -> Vec<Finding> {
    let top = crate::names::top();
    packages
        .iter()
        .filter(|p| p.source.kind == SourceKind::Registry)
        .filter_map(|p| checks::typosquat::check(p, top, &config.typosquat_allow))
        .collect()
}

fn audit(args: &AuditArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let mut settings = resolve_settings(r, &config)?;
    let options = ParseOptions {
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
    };
    let mut messages = Vec::new();
    if let Some(p) = &config.path {
        messages.push(format!("config: {}", p.display()));
    }
    // An environment alone: no lockfile is looked for.
    let targets = if args.env.is_some() && args.paths.is_empty() {
        Targets {
            files: Vec::new(),
            skipped: Vec::new(),
        }
    } else {
        resolve_targets(&args.paths, &mut messages)?
    };
    let mut packages: Vec<Package> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut inputs = Vec::new();
    let mut diff: Option<crate::diff::Diff> = None;
    let overrides = format_overrides(&args.format_of)?;
    let mut used = vec![false; overrides.len()];
    for (path, discovered) in &targets.files {
        let forced = overrides
            .iter()
            .position(|(p, _)| same_file(p, path))
            .map(|i| {
                used[i] = true;
                lockfile::Detection::by_user(overrides[i].1)
            });
        let (detection, lock) = lockfile::parse_file(path, forced.or(discovered.clone()), &options)
            .map_err(anyhow::Error::new)?;
        let format = detection.format;
        let why = match &detection.basis {
            lockfile::detect::Basis::Name => String::new(),
            lockfile::detect::Basis::User => " (as --format-of says)".to_string(),
            lockfile::detect::Basis::Content(what) => format!(
                " (by its content: {what}; override with --format-of {}=FORMAT)",
                report::display_path(path)
            ),
        };
        messages.push(format!(
            "read {} as {format}{why}: {} package{}",
            report::display_path(path),
            lock.packages.len(),
            if lock.packages.len() == 1 { "" } else { "s" }
        ));
        inputs.push(Input {
            path: report::display_path(path),
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
        for url in lock
            .indexes
            .iter()
            .map(|i| i.url.as_str())
            .chain(lock.packages.iter().filter_map(|p| p.index_url.as_deref()))
        {
            crate::redact::register_url(url);
        }
        for (name, url) in named_indexes(path) {
            crate::redact::register_url(&url);
            settings.named_indexes.push((name, url));
        }
        if let Some(reference) = &args.diff_base {
            let d = diff.get_or_insert_with(|| crate::diff::Diff {
                base: reference.clone(),
                ..crate::diff::Diff::default()
            });
            diff_file(
                d,
                path,
                format,
                &lock,
                &options,
                &mut messages,
                &mut findings,
            )?;
        }
        packages.extend(lock.packages);
        findings.extend(lock.findings);
    }
    if let Some(i) = used.iter().position(|u| !u) {
        bail!(
            "--format-of names {}, which this run does not read\n  hint: name the file as a PATH too, or check its spelling",
            overrides[i].0.display()
        );
    }
    let mut report_args = r.clone();
    if let Some(root) = &args.env {
        let installed = crate::env::read(root).map_err(anyhow::Error::new)?;
        messages.push(format!(
            "read the environment {}: {}",
            report::display_path(root),
            crate::env::describe(&installed)
        ));
        packages.extend(installed.packages);
        findings.extend(installed.findings);
        // What is installed was scanned in place: no archive is downloaded
        // (unless lockfiles are audited in the same run).
        if targets.files.is_empty() {
            report_args.no_scan = true;
        }
    }
    if let Some(d) = &diff {
        messages.push(format!(
            "change since {}: {}",
            d.base,
            report::change_summary(&d.changes)
        ));
    }
    let outcome = release_checks(
        &packages,
        &report_args,
        &settings,
        &config,
        as_of,
        &mut messages,
    )?;
    findings.extend(outcome.findings);
    finish(FinishArgs {
        args: r,
        config: &config,
        settings: &settings,
        inputs,
        skipped: targets.skipped,
        packages: &packages,
        statuses: &outcome.statuses,
        scans: outcome.scans.as_deref(),
        provenance: outcome.provenance.as_deref(),
        advisories: outcome.advisories.as_ref(),
        findings,
        diff: diff.as_ref(),
        as_of,
        now,
        messages,
    })
}

/// The change of one lockfile and of each file it includes (`-r`), each
/// compared with itself at the base revision: packages are keyed by the
/// file that declares them.
fn diff_file(
    d: &mut crate::diff::Diff,
    path: &Path,
    format: Format,
    lock: &lockfile::Lockfile,
    options: &ParseOptions,
    messages: &mut Vec<String>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let reference = d.base.clone();
    let mut files: Vec<(PathBuf, Format)> = vec![(path.to_path_buf(), format)];
    files.extend(
        lock.includes
            .iter()
            .map(|p| (p.clone(), Format::Requirements)),
    );
    for (file, format) in files {
        let shown = report::display_path(&file);
        if d.files.contains(&shown) {
            continue;
        }
        let own = |p: &&Package| report::display_path(&p.origin.file) == shown;
        let now: Vec<Package> = lock.packages.iter().filter(own).cloned().collect();
        let base = match crate::diff::packages_at(&file, &reference, format, options) {
            Ok(Some(all)) => Some(all.iter().filter(own).cloned().collect::<Vec<_>>()),
            Ok(None) => {
                messages.push(format!(
                    "{shown} did not exist at {reference}: every package in it is new"
                ));
                None
            }
            // A revision git does not know is the user's error.
            Err(e @ crate::diff::DiffError::Revision { .. }) => return Err(anyhow::Error::new(e)),
            // A base that cannot be read (an include renamed since, a file
            // that did not parse then): every package of it is judged.
            Err(e) => {
                messages.push(format!(
                    "warning: {shown} cannot be compared with {reference} ({e}): every package in it is judged"
                ));
                None
            }
        };
        let (changes, repointed) = crate::diff::compare(&shown, base.as_deref(), &now, &reference);
        d.changes.extend(changes);
        d.files.push(shown);
        findings.extend(repointed);
    }
    Ok(())
}

/// Parses `--format-of FILE=FORMAT` values.
fn format_overrides(values: &[String]) -> Result<Vec<(PathBuf, Format)>> {
    values
        .iter()
        .map(|v| {
            let (file, format) = v.rsplit_once('=').with_context(|| {
                format!("invalid --format-of `{v}`\n  hint: write FILE=FORMAT, e.g. --format-of prod.lock=uv")
            })?;
            let format = lockfile::detect::parse_format(format).with_context(|| {
                format!("invalid --format-of `{v}`: unknown format `{format}`\n  hint: one of uv, poetry, pdm, pipfile, pylock, requirements")
            })?;
            Ok((PathBuf::from(file), format))
        })
        .collect()
}

/// Whether two paths name the same file (as written, or once resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

/// Files to read, each with its format when discovery decided it.
struct Targets {
    files: Vec<(PathBuf, Option<lockfile::Detection>)>,
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
            files.extend(
                found
                    .files
                    .into_iter()
                    .map(|(p, f)| (p, Some(lockfile::Detection::by_name(f)))),
            );
        } else if path.exists() {
            files.push((path.clone(), None));
        } else {
            bail!("{}: no such file or directory", path.display());
        }
    }
    Ok(Targets { files, skipped })
}
