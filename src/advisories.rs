//! Known bad releases: advisories in the OSV format (malicious packages and
//! vulnerabilities), matched against locked releases offline.

pub mod db;
pub mod osv;

use std::path::{Path, PathBuf};

use sha2::Digest;

/// OSV's export of every advisory for the Python package index (the
/// default of `--advisory-db`).
pub const DEFAULT_EXPORT: &str = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip";

/// The most bytes an export may have (the whole PyPI export is some tens of
/// MiB).
pub const MAX_EXPORT: usize = 1 << 30;

/// Where the database built from `source` is kept under the cache root: one
/// directory per source, so a mirror never replaces the default's copy.
pub fn dir_for(cache_root: &Path, source: &str) -> PathBuf {
    let digest = sha2::Sha256::digest(source.as_bytes());
    cache_root
        .join("advisories")
        .join(hex::encode(&digest[..8]))
}

/// Whether `source` names a file on this machine (not a URL).
pub fn is_local(source: &str) -> bool {
    !(source.starts_with("https://") || source.starts_with("http://"))
}

/// How the advisory checks of a run went (`packages[].advisories`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStatus {
    /// `checked`, or `unknown` when no database could be had.
    pub status: &'static str,
    /// Why unknown.
    pub reason: Option<String>,
    /// The database used: its source and when it was built.
    pub database: Option<String>,
}
