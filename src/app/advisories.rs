//! `customs advisories update` and `customs advisories status`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use jiff::Timestamp;

use super::Outcome;
use crate::advisories::{self, db};
use crate::cli::{AdvisoriesArgs, AdvisoriesCommand, ReportArgs};
use crate::finding::Finding;
use crate::index::{ClientConfig, IndexClient};
use crate::package::Package;

/// Runs an `advisories` subcommand.
pub(super) fn run(command: &AdvisoriesCommand) -> Result<Outcome> {
    match command {
        AdvisoriesCommand::Update(args) => update(args),
        AdvisoriesCommand::Status(args) => status(args),
    }
}

fn source(args: &AdvisoriesArgs) -> String {
    args.advisory_db
        .clone()
        .unwrap_or_else(|| advisories::DEFAULT_EXPORT.to_string())
}

fn dir(args: &AdvisoriesArgs, source: &str) -> Result<PathBuf> {
    let root = match &args.cache_dir {
        Some(d) => d.clone(),
        None => super::online::default_cache_root()
            .map_err(|e| anyhow!("no cache directory on this machine: {e}"))?,
    };
    Ok(advisories::dir_for(&root, source))
}

fn now(args: &AdvisoriesArgs) -> Result<Timestamp> {
    match &args.as_of {
        Some(s) => super::parse_instant(s).with_context(|| format!("invalid --as-of `{s}`")),
        None => Ok(Timestamp::now()),
    }
}

/// Reads the export `source` (a URL through `client`, or a local file),
/// builds the database and writes it into `dir`, replacing the old one only
/// when the new one is whole. `previous_etag`: the ETag of the copy in
/// `dir`, if its source gave one (the export is then asked for only if
/// changed).
pub(super) fn refresh(
    client: &IndexClient,
    runtime: &tokio::runtime::Runtime,
    source: &str,
    dir: &Path,
    built_at: Timestamp,
    previous_etag: Option<&str>,
) -> Result<Refreshed> {
    let shown = crate::redact::url(source);
    let (bytes, etag) = if advisories::is_local(source) {
        let bytes = std::fs::read(source)
            .with_context(|| format!("cannot read the advisory export {source}"))?;
        (bytes, None)
    } else {
        let fetched = runtime
            .block_on(client.download_if_changed(source, advisories::MAX_EXPORT, previous_etag))
            .map_err(|e| anyhow!("cannot download the advisory export: {e}"))?;
        match fetched {
            Some(got) => got,
            None => {
                db::mark_current(dir, &built_at.to_string())?;
                return Ok(Refreshed::Unchanged);
            }
        }
    };
    let mut built = db::build(&bytes, &shown, &built_at.to_string())?;
    built.index.etag = etag;
    built.write(dir)?;
    Ok(Refreshed::Built(built))
}

/// What a refresh did.
pub(super) enum Refreshed {
    /// A new database.
    Built(db::Built),
    /// The source answered that the export had not changed.
    Unchanged,
}

/// The advisory findings of an audit or a check: the cached database of
/// `--advisory-db` (refreshed when older than `--advisory-max-age` hours,
/// unless offline), matched against `packages`. A database that cannot be
/// had is said in a warning: every package's advisories are then unknown,
/// never passed in silence.
pub(super) fn findings(
    packages: &[Package],
    args: &ReportArgs,
    configured: Option<&str>,
    client: &IndexClient,
    runtime: &tokio::runtime::Runtime,
    messages: &mut Vec<String>,
) -> (Vec<Finding>, Option<advisories::RunStatus>) {
    if args.no_advisories {
        return (Vec::new(), None);
    }
    // The command line (or its variable) first, then `advisory-db` in the
    // configuration, then OSV's export.
    let source = args
        .advisory_db
        .clone()
        .or_else(|| configured.map(str::to_string))
        .unwrap_or_else(|| advisories::DEFAULT_EXPORT.to_string());
    let shown = crate::redact::url(&source);
    let unknown = "every package's advisories are unknown";
    let unknown_because = |reason: String| advisories::RunStatus {
        status: "unknown",
        reason: Some(reason),
        database: None,
    };
    let Some(root) = super::online::cache_root(args) else {
        messages.push(format!(
            "warning: advisories: the database lives in the cache, and --no-cache is set: {unknown}"
        ));
        return (
            Vec::new(),
            Some(unknown_because(
                "--no-cache: the database lives in the cache".into(),
            )),
        );
    };
    let dir = advisories::dir_for(&root, &source);
    let now = Timestamp::now();
    let age_hours = |d: &db::Database| {
        d.index
            .current_since()
            .parse::<Timestamp>()
            .ok()
            .map(|b| now.duration_since(b).as_secs() / 3600)
    };
    let cached = db::Database::open(&dir).ok();
    let stale = cached.as_ref().is_none_or(|d| {
        age_hours(d).is_none_or(|h| h < 0 || h.unsigned_abs() >= args.advisory_max_age)
    });
    let kept = match &cached {
        Some(d) => format!("using the copy built {}", d.index.built),
        None => unknown.to_string(),
    };
    let mut refresh_error = None;
    // A source that could not be reached is not asked again for an hour:
    // an audit behind a firewall would otherwise wait for its retries on
    // every run.
    let failed_at = last_failure(&dir).filter(|t| now.duration_since(*t).as_secs() < 3600);
    if stale && !args.offline {
        if let Some(t) = failed_at {
            messages.push(format!(
                "warning: advisories: the refresh from {shown} failed at {t}; it is tried again an hour later (`customs advisories update` now); {kept}"
            ));
            refresh_error = Some(format!("the refresh from {shown} failed at {t}"));
        } else if let Err(e) = refresh(
            client,
            runtime,
            &source,
            &dir,
            now,
            cached.as_ref().and_then(|d| d.index.etag.as_deref()),
        ) {
            messages.push(format!(
                "warning: advisories: cannot refresh from {shown}: {e:#}; {kept}"
            ));
            refresh_error = Some(format!("cannot refresh from {shown}: {e:#}"));
            let _ = std::fs::create_dir_all(&dir)
                .and_then(|()| std::fs::write(dir.join(FAILED), now.to_string()));
        } else {
            let _ = std::fs::remove_file(dir.join(FAILED));
        }
    }
    let db = match db::Database::open(&dir) {
        Ok(d) => d,
        Err(e) => {
            let reason = if args.offline && !dir.join("index.json").exists() {
                let r = format!("offline and no database for {shown} in the cache");
                messages.push(format!(
                    "warning: advisories: {r} (run `customs advisories update`); {unknown}"
                ));
                r
            } else if dir.join("index.json").exists() {
                messages.push(format!("warning: advisories: {e}; {unknown}"));
                e.to_string()
            } else {
                refresh_error.unwrap_or_else(|| format!("no database for {shown}"))
            };
            return (Vec::new(), Some(unknown_because(reason)));
        }
    };
    if args.offline
        && let Some(h) = age_hours(&db)
    {
        messages.push(format!(
            "advisories: offline, using the database built {} ({h} hours old)",
            db.index.built
        ));
    }
    match crate::checks::advisories::check(packages, &db) {
        Ok(f) => (
            f,
            Some(advisories::RunStatus {
                status: "checked",
                reason: None,
                database: Some(format!("{} (built {})", db.index.source, db.index.built)),
            }),
        ),
        Err(e) => {
            messages.push(format!("warning: advisories: {e}; {unknown}"));
            (Vec::new(), Some(unknown_because(e.to_string())))
        }
    }
}

/// The file that records when a refresh last failed.
const FAILED: &str = "refresh-failed";

/// When a refresh of the database in `dir` last failed, if it did.
fn last_failure(dir: &Path) -> Option<Timestamp> {
    std::fs::read_to_string(dir.join(FAILED))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Fetches the export, builds the database and replaces the old one only
/// when the new one is whole.
fn update(args: &AdvisoriesArgs) -> Result<Outcome> {
    let source = source(args);
    let shown = crate::redact::url(&source);
    let client = IndexClient::new(ClientConfig {
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..ClientConfig::default()
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let dir = dir(args, &source)?;
    let previous_etag = db::Database::open(&dir).ok().and_then(|d| d.index.etag);
    let refreshed = refresh(
        &client,
        &runtime,
        &source,
        &dir,
        now(args)?,
        previous_etag.as_deref(),
    )?;
    let _ = std::fs::remove_file(dir.join(FAILED));
    let stdout = match refreshed {
        Refreshed::Built(built) => format!(
            "advisories: {} records read from {shown}, {} about {} packages on the index kept in {}\n",
            built.index.records,
            built.index.kept,
            built.index.names.len(),
            dir.display()
        ),
        Refreshed::Unchanged => format!(
            "advisories: {shown} has not changed since the copy in {}\n",
            dir.display()
        ),
    };
    Ok(Outcome {
        stdout,
        ..Outcome::default()
    })
}

/// Says which database is there and how old it is; none is not an error
/// (an audit then reports every package's advisories as unknown).
fn status(args: &AdvisoriesArgs) -> Result<Outcome> {
    let source = source(args);
    let shown = crate::redact::url(&source);
    let dir = dir(args, &source)?;
    if !dir.join("index.json").exists() {
        return Ok(Outcome {
            stdout: format!(
                "advisories: none for {shown} in {} (run `customs advisories update`)\n",
                dir.display()
            ),
            ..Outcome::default()
        });
    }
    let opened = db::Database::open(&dir)?;
    let age = opened
        .index
        .current_since()
        .parse::<Timestamp>()
        .ok()
        .map(|built| {
            let hours = now(args)
                .map(|n| n.duration_since(built).as_secs() / 3600)
                .unwrap_or(0);
            if hours >= 48 {
                format!("{} days old", hours / 24)
            } else {
                format!("{hours} hours old")
            }
        })
        .unwrap_or_else(|| "of unknown age".into());
    Ok(Outcome {
        stdout: format!(
            "advisories: {} records from {} (built {}, {age}), {} kept about {} packages, in {}\n",
            opened.index.records,
            opened.index.source,
            opened.index.built,
            opened.index.kept,
            opened.index.names.len(),
            dir.display()
        ),
        ..Outcome::default()
    })
}
