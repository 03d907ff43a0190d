//! customs: stops malicious or risky Python dependencies before they are installed.
//!
//! ```text
//! paths / auto-discovery
//!    │  lockfile::parse            one file per format, wire types -> validated model
//!    ▼
//! Vec<Package>  {name, version, source, artifacts[], origin: file+line}
//!    │  index (PyPI JSON / Simple / Integrity APIs, disk cache, retries, offline)
//!    ▼
//! release facts {files: filename, upload_time, sha256, yanked, provenance}
//!    │  checks                     each check: one file, static metadata and docs
//!    ▼
//! Vec<Finding> {rule, severity, confidence, package, location, message, evidence}
//!    │  policy (config, allow-list, clock)
//!    ▼
//! report::{table, json, ...}  -> stdout, --output
//!    ▼
//! exit code 0 pass / 1 policy violated / 2 tool error
//! ```

pub mod advisories;
pub mod app;
pub mod checks;
pub mod cli;
pub mod diff;
pub mod env;
pub mod finding;
pub mod index;
pub mod lockfile;
pub mod names;
pub mod package;
pub mod policy;
pub mod provenance;
pub mod redact;
pub mod report;
pub mod scan;
