//! Parser for pylock lockfiles (being written).

use std::path::Path;

use super::{Lockfile, LockfileError};

/// Parses the file.
pub fn parse(path: &Path, _content: &str) -> Result<Lockfile, LockfileError> {
    Err(LockfileError::new(
        path,
        None,
        "this format is not supported yet",
    ))
}
