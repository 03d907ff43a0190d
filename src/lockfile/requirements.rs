//! Parser for pip requirements files (being written).

use std::path::Path;

use super::{Lockfile, LockfileError, ParseOptions};

/// Parses the file.
pub fn parse(
    path: &Path,
    _content: &str,
    _options: &ParseOptions,
) -> Result<Lockfile, LockfileError> {
    Err(LockfileError::new(
        path,
        None,
        "this format is not supported yet",
    ))
}
