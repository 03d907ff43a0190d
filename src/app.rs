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
    Ok(RunSettings {
        fail_on: args.fail_on.or(config.fail_on).unwrap_or(Severity::High),
        fail_on_unknown: args.fail_on_unknown || config.fail_on_unknown.unwrap_or(false),
        cooldown,
        user_index,
    })
}

/// The index to ask for a package: its recorded index, unless that is the
/// public default and the user named a mirror; else the user's; else the default.
fn index_for(pkg: &Package, user: Option<&IndexUrl>, default: &IndexUrl) -> IndexUrl {
    let recorded = pkg
        .index_url
        .as_deref()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .and_then(|u| IndexUrl::parse(u).ok());
    match (recorded, user) {
        (Some(r), Some(u)) if r == *default => u.clone(),
        (Some(r), _) => r,
        (None, Some(u)) => u.clone(),
        (None, None) => default.clone(),
    }
}

fn cache_root(args: &ReportArgs) -> Option<PathBuf> {
    if args.no_cache {
        return None;
    }
    if let Some(d) = &args.cache_dir {
        return Some(d.clone());
    }
    use etcetera::BaseStrategy;
    etcetera::choose_base_strategy()
        .ok()
        .map(|b| b.cache_dir().join("customs"))
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

/// `customs check NAME[==VERSION]...`: the name checks, and with a version the
/// release checks, for names nobody has locked yet.
fn check(args: &crate::cli::CheckArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let settings = resolve_settings(r, &config)?;
    let origin_file = PathBuf::from("<command line>");
    let mut packages = Vec::with_capacity(args.names.len());
    for (i, raw) in args.names.iter().enumerate() {
        let (name, version) = match raw.split_once("==") {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (raw.trim(), None),
        };
        let name =
            PackageName::new(name).map_err(|e| anyhow::anyhow!("argument {}: {e}", i + 1))?;
        if version.is_some_and(str::is_empty) {
            bail!(
                "argument {}: `{raw}` has an empty version\n  hint: write NAME or NAME==VERSION",
                i + 1
            );
        }
        packages.push(Package::new(
            name,
            version.map(crate::package::Version::new),
            crate::package::Origin {
                file: origin_file.clone(),
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            },
        ));
    }
    let mut messages = Vec::new();
    let outcome = release_checks(&packages, r, &settings, &config, as_of, &mut messages)?;
    let mut findings = outcome.findings;
    findings.extend(name_checks(&packages, &config));
    let inputs = vec![Input {
        path: report::display_path(&origin_file),
        format: Format::Names,
        packages: packages.len(),
        indexes: Vec::new(),
        includes: Vec::new(),
        options: BTreeMap::new(),
    }];
    finish(FinishArgs {
        args: r,
        config: &config,
        settings: &settings,
        inputs,
        skipped: Vec::new(),
        packages: &packages,
        statuses: &outcome.statuses,
        scans: outcome.scans.as_deref(),
        provenance: outcome.provenance.as_deref(),
        findings,
        as_of,
        now,
        messages,
    })
}

/// The largest archive `customs scan` reads.
const MAX_ARCHIVE: u64 = 1024 * 1024 * 1024;

fn archive_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot list the directory", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.is_file())
                .filter(|f| {
                    let n = f.to_string_lossy().to_ascii_lowercase();
                    [".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip", ".tar"]
                        .iter()
                        .any(|s| n.ends_with(s))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no archives (.whl, .tar.gz, .tgz, .tar.bz2, .zip) in this directory",
                    p.display()
                );
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

/// Splits `name-version.tar.gz` / `name-version-tags.whl` into name and version.
fn archive_identity(filename: &str) -> (String, Option<String>) {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        let mut parts = filename.split('-');
        let name = parts.next().unwrap_or(filename).to_string();
        return (name, parts.next().map(str::to_string));
    }
    let stem = [".tar.gz", ".tgz", ".tar.bz2", ".zip", ".tar"]
        .iter()
        .find(|s| lower.ends_with(*s))
        .map_or(filename, |s| &filename[..filename.len() - s.len()]);
    match stem.rsplit_once('-') {
        Some((n, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => {
            (n.to_string(), Some(v.to_string()))
        }
        _ => (stem.to_string(), None),
    }
}

/// `customs scan FILE|DIR...`.
fn scan(args: &crate::cli::ScanArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let settings = resolve_settings(r, &config)?;
    let limits = crate::scan::Limits::default();
    let mut packages = Vec::new();
    let mut findings = Vec::new();
    let mut inputs = Vec::new();
    for path in archive_paths(&args.paths)? {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_ARCHIVE {
            bail!(
                "{}: larger than {} MiB; customs does not scan archives this large",
                path.display(),
                MAX_ARCHIVE >> 20
            );
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (name, version) = archive_identity(&filename);
        let name = PackageName::new(&name).or_else(|_| PackageName::new("unknown"))?;
        let mut pkg = Package::new(
            name,
            version.as_deref().map(crate::package::Version::new),
            crate::package::Origin {
                file: path.clone(),
                line: 1,
            },
        );
        pkg.source =
            crate::package::Source::new(SourceKind::Path, Some(report::display_path(&path)));
        let mut artifact = crate::package::Artifact::named(filename.clone());
        artifact.size = Some(bytes.len() as u64);
        if let Some(h) = crate::package::Hash::sha256(&hex::encode(sha2::Digest::finalize(
            sha2::Digest::chain_update(sha2::Sha256::default(), &bytes),
        ))) {
            artifact.hashes.push(h);
        }
        pkg.artifacts.push(artifact);
        let result = crate::scan::scan_bytes(&filename, &bytes, &limits)?;
        for (member, f) in result.findings {
            let mut b = Finding::for_package(f.rule, &pkg)
                .severity(f.severity)
                .confidence(f.confidence)
                .location(crate::finding::Location {
                    file: path.clone(),
                    line: None,
                    archive: Some(filename.clone()),
                    member,
                    member_line: f.line,
                });
            for (label, value) in f.evidence {
                b = b.evidence(label, value);
            }
            findings.push(b.message(f.message));
        }
        inputs.push(Input {
            path: report::display_path(&path),
            format: Format::Archive,
            packages: 1,
            indexes: Vec::new(),
            includes: Vec::new(),
            options: [
                ("members".to_string(), result.members.to_string()),
                ("complete".to_string(), (!result.incomplete).to_string()),
                ("rules-version".to_string(), crate::scan::rules::version()),
            ]
            .into_iter()
            .collect(),
        });
        packages.push(pkg);
    }
    let statuses = vec![IndexStatus::NotApplicable("a local archive"); packages.len()];
    finish(FinishArgs {
        args: r,
        config: &config,
        settings: &settings,
        inputs,
        skipped: Vec::new(),
        packages: &packages,
        statuses: &statuses,
        scans: None,
        provenance: None,
        findings,
        as_of,
        now,
        messages: Vec::new(),
    })
}

/// What the index checks produced: findings, and per package the index
/// status, the scan status (`None` with `--no-scan`) and the provenance status
/// (`None` with `--no-provenance`).
struct IndexOutcome {
    findings: Vec<Finding>,
    statuses: Vec<IndexStatus>,
    scans: Option<Vec<ScanStatus>>,
    provenance: Option<Vec<ProvenanceStatus>>,
}

/// Asks the index about every checkable package and runs the release checks.
fn release_checks(
    packages: &[Package],
    args: &ReportArgs,
    settings: &RunSettings,
    config: &Config,
    as_of: Timestamp,
    messages: &mut Vec<String>,
) -> Result<IndexOutcome> {
    let default = IndexUrl::parse(crate::index::DEFAULT_INDEX_URL).map_err(anyhow::Error::msg)?;
    let user = settings
        .user_index
        .as_deref()
        .map(IndexUrl::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut by_key: BTreeMap<(IndexUrl, PackageName), Vec<crate::package::Version>> =
        BTreeMap::new();
    for p in packages
        .iter()
        .filter(|p| p.source.kind == SourceKind::Registry)
    {
        let versions = by_key
            .entry((index_for(p, user.as_ref(), &default), p.name.clone()))
            .or_default();
        versions.extend(p.version.clone());
    }
    let wanted: Vec<(IndexUrl, PackageName, Vec<crate::package::Version>)> =
        by_key.into_iter().map(|((i, n), v)| (i, n, v)).collect();
    let client = IndexClient::new(ClientConfig {
        timeout: Duration::from_secs(args.timeout.max(1)),
        offline: args.offline,
        cache_root: cache_root(args),
        ..ClientConfig::default()
    })?;
    let bar = progress_bar(wanted.len());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answers = if wanted.is_empty() {
        BTreeMap::new()
    } else {
        let tick = || {
            if let Some(b) = &bar {
                b.inc(1);
            }
        };
        runtime.block_on(crate::index::ask_all(&client, wanted, &tick))
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let indexes: Vec<IndexUrl> = packages
        .iter()
        .map(|p| index_for(p, user.as_ref(), &default))
        .collect();
    let keyed: Vec<Option<&crate::index::Answer>> = packages
        .iter()
        .zip(&indexes)
        .map(|(p, i)| answers.get(&(i.clone(), p.name.clone())))
        .collect();
    let release_settings = ReleaseSettings {
        as_of,
        cooldown: settings.cooldown.clone(),
        cooldown_exempt: config.cooldown_exempt.clone(),
    };
    let mut findings = Vec::new();
    let mut statuses = Vec::with_capacity(packages.len());
    for p in packages {
        let key = (index_for(p, user.as_ref(), &default), p.name.clone());
        let (f, status) = checks::release::check(p, answers.get(&key), &release_settings);
        findings.extend(f);
        statuses.push(status);
    }
    let unknown = statuses
        .iter()
        .filter(|s| matches!(s, IndexStatus::Unknown(_)))
        .count();
    if unknown > 0 {
        messages.push(format!(
            "warning: {unknown} package(s) could not be checked against the index (see index-unavailable){}",
            if settings.fail_on_unknown { "; --fail-on-unknown makes this fail the run" } else { "" }
        ));
    }
    let provenance = if args.no_provenance {
        None
    } else {
        let verifier = match &args.trusted_root {
            Some(path) => crate::provenance::Verifier::from_file(path)?,
            None => crate::provenance::Verifier::embedded()?,
        };
        let settings = ProvenanceSettings {
            verifier: std::sync::Arc::new(verifier),
            require: config.require_attestations.clone(),
        };
        let (f, s) = runtime.block_on(checks::provenance::check_all(
            &client, packages, &indexes, &keyed, &settings,
        ));
        findings.extend(f);
        let unverifiable = s
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| {
                f.verification
                    .as_deref()
                    .is_some_and(|v| v.starts_with("unverifiable"))
            })
            .count();
        if unverifiable > 0 {
            messages.push(format!(
                "warning: {unverifiable} attested file(s) could not be verified with {} (see packages[].provenance in the JSON report)",
                settings.verifier.source()
            ));
        }
        Some(s)
    };
    if args.no_scan {
        return Ok(IndexOutcome {
            findings,
            statuses,
            scans: None,
            provenance,
        });
    }
    let scan_settings = ScanSettings {
        all_wheels: args.scan_all_wheels,
        cache_root: cache_root(args),
    };
    let (scan_findings, scans) = runtime.block_on(checks::archives::scan_all(
        &client,
        packages,
        &keyed,
        &scan_settings,
    ));
    findings.extend(scan_findings);
    let unscanned = scans.iter().filter(|s| s.status == "unknown").count();
    if unscanned > 0 {
        messages.push(format!(
            "warning: the archives of {unscanned} package(s) could not be scanned (see packages[].scan in the JSON report)"
        ));
    }
    Ok(IndexOutcome {
        findings,
        statuses,
        scans: Some(scans),
        provenance,
    })
}

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if len < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} asking the index {pos}/{len} {wide_bar}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn audit(args: &AuditArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let settings = resolve_settings(r, &config)?;
    let options = ParseOptions {
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
    };
    let mut messages = Vec::new();
    if let Some(p) = &config.path {
        messages.push(format!("config: {}", p.display()));
    }
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
    let outcome = release_checks(&packages, r, &settings, &config, as_of, &mut messages)?;
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
        findings,
        as_of,
        now,
        messages,
    })
}

struct FinishArgs<'a> {
    args: &'a ReportArgs,
    config: &'a Config,
    settings: &'a RunSettings,
    inputs: Vec<Input>,
    skipped: Vec<SkippedInput>,
    packages: &'a [Package],
    statuses: &'a [IndexStatus],
    scans: Option<&'a [ScanStatus]>,
    provenance: Option<&'a [ProvenanceStatus]>,
    findings: Vec<Finding>,
    as_of: Timestamp,
    now: Timestamp,
    messages: Vec<String>,
}

/// Policy, baseline, report, extra outputs, exit code: shared by every command.
fn finish(f: FinishArgs<'_>) -> Result<Outcome> {
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
        findings: &findings,
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
fn baseline(path: &Path) -> Result<std::collections::HashSet<String>> {
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

fn render(report: &Report, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => report::json::render(report),
        OutputFormat::Table => report::table::render(report, terminal_width()),
        OutputFormat::Sarif => report::sarif::render(report),
        OutputFormat::Github => report::github::render(report),
        OutputFormat::Markdown => report::markdown::render(report),
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
