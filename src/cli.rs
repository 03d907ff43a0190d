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
    Audit(AuditArgs),
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. `cooldown`.
        rule: String,
    },
    /// List every rule with its default severity and a one-line summary.
    Rules,
    /// Print a JSON Schema (`customs schema report`).
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
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
    /// Lowest severity that fails the run (exit 1).
    #[arg(long, value_enum, default_value = "high", value_name = "SEVERITY")]
    pub fail_on: Severity,
    /// Evaluate as if now were this RFC 3339 time.
    #[arg(long, value_name = "TIMESTAMP", env = "CUSTOMS_AS_OF")]
    pub as_of: Option<String>,
    /// No network: use the cache; what cannot be answered is reported as unknown.
    #[arg(long)]
    pub offline: bool,
}

/// `customs audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Lockfiles, requirements files or directories (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Reporting options.
    #[command(flatten)]
    pub report: ReportArgs,
}
