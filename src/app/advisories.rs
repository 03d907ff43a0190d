//! `customs advisories update` and `customs advisories status`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use jiff::Timestamp;

use super::Outcome;
use crate::advisories::{self, db};
use crate::cli::{AdvisoriesArgs, AdvisoriesCommand};
use crate::index::{ClientConfig, IndexClient};

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
        None => {
            use etcetera::BaseStrategy;
            etcetera::choose_base_strategy()
                .map_err(|e| anyhow!("no cache directory on this machine: {e}"))?
                .cache_dir()
                .join("customs")
        }
    };
    Ok(advisories::dir_for(&root, source))
}

fn now(args: &AdvisoriesArgs) -> Result<Timestamp> {
    match &args.as_of {
        Some(s) => super::parse_instant(s).with_context(|| format!("invalid --as-of `{s}`")),
        None => Ok(Timestamp::now()),
    }
}

/// Fetches the export, builds the database and replaces the old one only
/// when the new one is whole.
fn update(args: &AdvisoriesArgs) -> Result<Outcome> {
    let source = source(args);
    let shown = crate::redact::url(&source);
    let bytes = if advisories::is_local(&source) {
        std::fs::read(&source)
            .with_context(|| format!("cannot read the advisory export {source}"))?
    } else {
        let client = IndexClient::new(ClientConfig {
            timeout: Duration::from_secs(args.timeout.max(1)),
            ..ClientConfig::default()
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime
            .block_on(client.download(&source, advisories::MAX_EXPORT))
            .map_err(|e| anyhow!("cannot download the advisory export: {e}"))?
    };
    let built = db::build(&bytes, &shown, &now(args)?.to_string())?;
    let dir = dir(args, &source)?;
    built.write(&dir)?;
    Ok(Outcome {
        stdout: format!(
            "advisories: {} records read from {shown}, {} about {} packages on the index kept in {}\n",
            built.index.records,
            built.index.kept,
            built.index.names.len(),
            dir.display()
        ),
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
        .built
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
