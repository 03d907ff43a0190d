//! The command line (clap derive). Parsing only: `app.rs` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::finding::Severity;

/// Stops malicious or risky Python dependencies before they are installed.
#[derive(Debug, Parser)]
#[command(name = "customs", version, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit lockfiles and requirements files (a directory: discover the lockfiles in it).
    Audit(Box<AuditArgs>),
    /// Check names before anyone installs them (typosquat, unclaimed, brand-new); with
    /// `==VERSION` also the release checks.
    Check(Box<CheckArgs>),
    /// Statically scan local sdists and wheels (the format comes from the bytes, not the name).
    Scan(Box<ScanArgs>),
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. `cooldown`.
        rule: String,
    },
    /// List every rule with its default severity and a one-line summary.
    Rules {
        /// Print the full rule reference as Markdown (the source of `docs/rules.md`).
        #[arg(long)]
        markdown: bool,
    },
    /// The advisory database (OSV malicious-package and vulnerability records).
    Advisories {
        /// What to do with it.
        #[command(subcommand)]
        action: AdvisoriesCommand,
    },
    /// Print a JSON Schema (`customs schema report`).
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
}

/// `customs advisories …`.
#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Fetch the OSV export now and rebuild the database (for CI caches and
    /// air-gapped copies); a failed or damaged download keeps the old one.
    Update(AdvisoriesArgs),
    /// Say which database is there, from where, and how old.
    Status(AdvisoriesArgs),
}

/// Where the advisory database comes from and where it is kept.
#[derive(Debug, Clone, Args)]
pub struct AdvisoriesArgs {
    /// The OSV export to use: a URL or a local zip (a mirror, an internal
    /// copy) [default: OSV's export for the Python package index].
    #[arg(long, value_name = "PATH|URL", env = "CUSTOMS_ADVISORY_DB")]
    pub advisory_db: Option<String>,
    /// Cache location [default: the platform cache directory].
    #[arg(long, value_name = "DIR", env = "CUSTOMS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Seconds before the download gives up.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub timeout: u64,
    /// The time to measure the database's age from (RFC 3339 or a date;
    /// for tests) [default: now].
    #[arg(long, value_name = "TIME", env = "CUSTOMS_AS_OF")]
    pub as_of: Option<String>,
}

/// The schemas `customs schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// The JSON report (`--format json`), version 1.
    Report,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for terminals.
    Table,
    /// The versioned JSON report.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub workflow commands (annotations).
    Github,
    /// A Markdown summary (for `$GITHUB_STEP_SUMMARY`).
    Markdown,
}

/// Options shared by the commands that report findings.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json_file: Option<PathBuf>,
    /// Also write SARIF to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif_file: Option<PathBuf>,
    /// Also write the Markdown summary to this file.
    #[arg(long, value_name = "FILE")]
    pub summary_file: Option<PathBuf>,
    /// Lowest severity that fails the run (exit 1) [default: high, or the config's `fail-on`].
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// A package that could not be checked (offline miss, index error) fails the run.
    #[arg(long)]
    pub fail_on_unknown: bool,
    /// Evaluate as if now were this RFC 3339 time.
    #[arg(long, value_name = "TIMESTAMP", env = "CUSTOMS_AS_OF")]
    pub as_of: Option<String>,
    /// No network: use the cache; what cannot be answered is reported as unknown.
    #[arg(long)]
    pub offline: bool,
    /// Neither read nor write the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Cache location [default: the platform cache directory].
    #[arg(long, value_name = "DIR", env = "CUSTOMS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// The Simple index URL (`https://host/simple`); also PIP_INDEX_URL, UV_INDEX_URL, UV_DEFAULT_INDEX.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Seconds before one request to the index gives up.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Cooldown window (`7 days`, `36 hours`, `P7D`) or an absolute cutoff date/time.
    #[arg(long, value_name = "DURATION")]
    pub cooldown: Option<String>,
    /// Explicit config file (`customs.toml`, or a `pyproject.toml` with `[tool.customs]`).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Use no config file.
    #[arg(long)]
    pub no_config: bool,
    /// Skip downloading and scanning archives.
    #[arg(long)]
    pub no_scan: bool,
    /// Scan every wheel a release pins, not only the sdist, pure-Python wheels and one binary
    /// wheel per OS family.
    #[arg(long)]
    pub scan_all_wheels: bool,
    /// Scan a release's sdist even when a pure-Python wheel of it is locked (installers take the
    /// wheel and never build the sdist, so by default it is not scanned).
    #[arg(long)]
    pub scan_sdists: bool,
    /// Read wheels larger than SIZE (e.g. `100MB`, `1GiB`) by HTTP range requests: only the
    /// central directory, the members the scanner reads and the first bytes of the others are
    /// downloaded. Each member read is verified by the wheel's RECORD and its CRC instead of the
    /// whole file by its sha256; a wheel without RECORD, or disagreeing with it, or a server
    /// without range support, is read whole. Off by default.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, env = "CUSTOMS_RANGE_READS_OVER")]
    pub range_reads_over: Option<u64>,
    /// Skip the provenance checks (PEP 740 attestations): no Simple API or Integrity API requests.
    #[arg(long)]
    pub no_provenance: bool,
    /// The OSV advisory export (a URL or a local zip) [default: OSV's export for the Python index].
    #[arg(long, value_name = "PATH|URL", env = "CUSTOMS_ADVISORY_DB")]
    pub advisory_db: Option<String>,
    /// Skip the advisory checks (known malware, known vulnerabilities).
    #[arg(
        long,
        env = "CUSTOMS_NO_ADVISORIES",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub no_advisories: bool,
    /// Refresh the cached advisory database when it is older than this many hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub advisory_max_age: u64,
    /// A Sigstore trusted root (trusted_root.json) to verify attestations against, instead of the
    /// public-good root built into customs.
    #[arg(long, value_name = "FILE", env = "CUSTOMS_TRUSTED_ROOT")]
    pub trusted_root: Option<PathBuf>,
    /// An earlier JSON report: only findings not in it fail the run.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
}

/// `customs scan`.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Archives, or directories whose archives are scanned.
    #[arg(value_name = "FILE|DIR", required = true)]
    pub paths: Vec<PathBuf>,
    /// Reporting options.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `customs check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Names, optionally pinned: `requests`, `requests==2.32.3`.
    #[arg(value_name = "NAME[==VERSION]", required = true)]
    pub names: Vec<String>,
    /// Reporting options.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// `customs audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Lockfiles, requirements files or directories (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read FILE in FORMAT (uv, poetry, pdm, pipfile, pylock, requirements)
    /// instead of the format its name or content suggests; repeatable.
    #[arg(long = "format-of", value_name = "FILE=FORMAT")]
    pub format_of: Vec<String>,
    /// Judge only what the change since the git revision REF brings (the base of a pull
    /// request): packages added, upgraded, downgraded or re-pointed. Findings on packages left as
    /// they were are listed as already present, not counted.
    #[arg(long, value_name = "REF", env = "CUSTOMS_DIFF_BASE")]
    pub diff_base: Option<String>,
    /// Audit an installed environment: a virtual environment, a site-packages directory or an
    /// unpacked container filesystem (found from its layout; its interpreter is never run). Its
    /// distributions get the index and advisory checks and its installed files are scanned in
    /// place (instead of downloading archives).
    #[arg(long, value_name = "PATH")]
    pub env: Option<PathBuf>,
    /// Reporting options.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// A size: bytes, or a number with `KB`, `MB`, `GB` (powers of 1000) or
/// `KiB`, `MiB`, `GiB` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` is not a size unit (use B, KB, MB, GB, KiB, MiB or GiB)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 100MB, 1GiB, 5000000)"))?;
    let bytes = value * factor;
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("`{text}` is not a size between 1 byte and 1 PB"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_with_decimal_and_binary_units() {
        assert_eq!(parse_size("5000000"), Ok(5_000_000));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1.5 GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("64kib"), Ok(65_536));
        assert!(parse_size("ten MB").is_err());
        assert!(parse_size("10 parsecs").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("").is_err());
    }
}
