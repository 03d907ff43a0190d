//! Lockfile parsing: one file per format, each a wire type mirroring the file
//! and validated into the shared [`Package`] model, plus directory discovery.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::finding::Finding;
use crate::package::Package;

pub mod detect;
pub mod discover;
pub mod pdm;
pub mod pipfile;
pub mod poetry;
pub mod pylock;
pub mod requirements;
pub mod text;
pub mod uv;

pub use detect::{Detection, detect};
pub use discover::{Discovery, Skipped, discover};
pub use text::{LineIndex, decode};

/// The largest lockfile customs reads (a 10,000-package uv.lock is ~20 MB).
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// The formats customs reads.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `uv.lock` (and PEP 723 script locks, `script.py.lock`).
    UvLock,
    /// `poetry.lock`.
    PoetryLock,
    /// pip requirements files.
    Requirements,
    /// PEP 751 `pylock.toml` / `pylock.<name>.toml`.
    Pylock,
    /// `pdm.lock`.
    PdmLock,
    /// `Pipfile.lock`.
    PipfileLock,
    /// Names given on the command line (`customs check`), not a file.
    Names,
    /// A distribution archive (`customs scan`).
    Archive,
}

impl Format {
    /// The name used in reports and `--format`-like hints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UvLock => "uv-lock",
            Self::PoetryLock => "poetry-lock",
            Self::Requirements => "requirements",
            Self::Pylock => "pylock",
            Self::PdmLock => "pdm-lock",
            Self::PipfileLock => "pipfile-lock",
            Self::Names => "names",
            Self::Archive => "archive",
        }
    }

    /// Recognises a lockfile by its file name; `None` for names customs does
    /// not know (the content decides then: [`detect`]).
    pub fn from_filename(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "uv.lock" => Some(Self::UvLock),
            "poetry.lock" => Some(Self::PoetryLock),
            "pdm.lock" => Some(Self::PdmLock),
            "pipfile.lock" => Some(Self::PipfileLock),
            "pylock.toml" => Some(Self::Pylock),
            _ if lower.starts_with("pylock.") && lower.ends_with(".toml") => Some(Self::Pylock),
            // PEP 723 script locks: `script.py.lock`.
            _ if lower.ends_with(".py.lock") => Some(Self::UvLock),
            _ if is_requirements_name(&lower) => Some(Self::Requirements),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a lowercase file name looks like a pip requirements file.
pub fn is_requirements_name(lower: &str) -> bool {
    (lower.starts_with("requirements") || lower.ends_with("requirements.txt"))
        && (lower.ends_with(".txt") || lower.ends_with(".pip"))
        || lower.starts_with("constraints") && lower.ends_with(".txt")
}

/// What a parser learned from one file.
#[derive(Debug, Clone, Default)]
pub struct Lockfile {
    /// The packages, in file order.
    pub packages: Vec<Package>,
    /// Findings the inventory itself makes (`unpinned-requirement`).
    pub findings: Vec<Finding>,
    /// Indexes the file records (requirements `--index-url`, uv sources, poetry sources...).
    pub indexes: Vec<IndexRecord>,
    /// Other files this one read (requirements `-r`/`-c`).
    pub includes: Vec<PathBuf>,
    /// Lockfile-level options worth reporting (`exclude-newer`, `requires-python`...).
    pub options: BTreeMap<String, String>,
    /// uv's `exclude-newer`: the resolver ignored anything uploaded after this.
    pub exclude_newer: Option<Timestamp>,
}

/// An index URL a lockfile records.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct IndexRecord {
    /// The URL as written (after `${VAR}` expansion).
    pub url: String,
    /// `index-url`, `extra-index-url`, `find-links`, `source` (poetry), ...
    pub role: String,
}

/// Parser options that come from the environment (read only in `app.rs`).
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Environment variables for `${VAR}` expansion in requirements files.
    pub env: BTreeMap<String, String>,
}

/// A lockfile could not be read or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LockfileError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What went wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
}

impl LockfileError {
    /// An error at a line of a file.
    pub fn new(path: &Path, line: Option<u32>, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            line,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for LockfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Reads a file with a size cap and decodes it (UTF-8 with or without BOM, UTF-16 with BOM).
pub fn read_text(path: &Path) -> Result<String, LockfileError> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| LockfileError::new(path, None, format!("cannot open: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| LockfileError::new(path, None, format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(LockfileError::new(
            path,
            None,
            "is a directory, expected a file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LockfileError::new(path, None, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(LockfileError::new(
            path,
            None,
            format!(
                "is larger than {} MiB; customs does not read lockfiles this large",
                MAX_FILE_SIZE / 1024 / 1024
            ),
        ));
    }
    decode(&bytes).map_err(|message| LockfileError::new(path, None, message))
}

/// Parses one file in the given format.
pub fn parse(
    path: &Path,
    format: Format,
    content: &str,
    options: &ParseOptions,
) -> Result<Lockfile, LockfileError> {
    let mut lock = match format {
        Format::UvLock => uv::parse(path, content),
        Format::PoetryLock => poetry::parse(path, content),
        Format::Requirements => requirements::parse(path, content, options),
        Format::Pylock => pylock::parse(path, content),
        Format::PdmLock => pdm::parse(path, content),
        Format::PipfileLock => pipfile::parse(path, content),
        Format::Names | Format::Archive => Err(LockfileError::new(
            path,
            None,
            "names are not a file format",
        )),
    }?;
    crate::finding::sort_findings(&mut lock.findings);
    Ok(lock)
}

/// Reads, detects and parses a file: `format` is given when discovery or the
/// user decided it, else [`detect`] decides from the name and the content.
pub fn parse_file(
    path: &Path,
    format: Option<Detection>,
    options: &ParseOptions,
) -> Result<(Detection, Lockfile), LockfileError> {
    let content = read_text(path)?;
    let detection = format.unwrap_or_else(|| detect(path, &content));
    if matches!(detection.basis, detect::Basis::Content(_))
        && detection.format == Format::Requirements
        && detect::unknown_toml(&content)
    {
        return Err(LockfileError::new(
            path,
            None,
            "is a TOML document, but not a lockfile format customs recognises",
        )
        .with_hint(
            "name the format: --format-of FILE=uv|poetry|pdm|pylock (or use the tool's canonical file name)",
        ));
    }
    let lock = parse(path, detection.format, &content, options)?;
    Ok((detection, lock))
}

/// A package from a TOML lockfile entry at its header `line`; an invalid name
/// is an error at the name's own line.
pub(crate) fn toml_package(
    path: &Path,
    lines: &LineIndex,
    name: &toml::Spanned<String>,
    version: Option<&str>,
    line: u32,
) -> Result<Package, LockfileError> {
    let name = crate::package::PackageName::new(name.get_ref()).map_err(|e| {
        LockfileError::new(path, Some(lines.line_of(name.span().start)), e.to_string())
    })?;
    Ok(Package::new(
        name,
        version.map(crate::package::Version::new),
        crate::package::Origin {
            file: path.to_path_buf(),
            line,
        },
    ))
}

/// Converts a TOML deserialisation error into a [`LockfileError`] with a line.
pub(crate) fn toml_error(path: &Path, content: &str, err: &toml::de::Error) -> LockfileError {
    let line = err
        .span()
        .map(|span| LineIndex::new(content).line_of(span.start));
    // The toml crate's message repeats the snippet; keep its first line.
    let message = err
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim();
    LockfileError::new(path, line, format!("invalid TOML: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_map_to_formats() {
        for (name, want) in [
            ("uv.lock", Some(Format::UvLock)),
            ("poetry.lock", Some(Format::PoetryLock)),
            ("Pipfile.lock", Some(Format::PipfileLock)),
            ("pdm.lock", Some(Format::PdmLock)),
            ("pylock.toml", Some(Format::Pylock)),
            ("pylock.dev.toml", Some(Format::Pylock)),
            ("script.py.lock", Some(Format::UvLock)),
            ("requirements.txt", Some(Format::Requirements)),
            ("requirements-dev.txt", Some(Format::Requirements)),
            ("dev-requirements.txt", Some(Format::Requirements)),
            ("constraints.txt", Some(Format::Requirements)),
            ("README.md", None),
            ("pyproject.toml", None),
        ] {
            assert_eq!(Format::from_filename(name), want, "{name}");
        }
    }
}

#[cfg(test)]
mod no_panic {
    //! Property tests: no parser panics on arbitrary or mutated input
    //! (the fuzz targets in `fuzz/` run the same for longer).
    use super::*;
    use proptest::prelude::*;

    const SEEDS: &[(Format, &str)] = &[
        (
            Format::UvLock,
            include_str!("../testdata/lockfiles/uv/workspace/uv.lock"),
        ),
        (
            Format::PoetryLock,
            include_str!("../testdata/lockfiles/poetry/sources/poetry.lock"),
        ),
        (
            Format::Requirements,
            include_str!("../testdata/lockfiles/requirements/edge/requirements.txt"),
        ),
        (
            Format::Pylock,
            include_str!("../testdata/lockfiles/pylock/edge/pylock.toml"),
        ),
        (
            Format::PdmLock,
            include_str!("../testdata/lockfiles/pdm/v3/pdm.lock"),
        ),
        (
            Format::PipfileLock,
            include_str!("../testdata/lockfiles/pipfile/django-app/Pipfile.lock"),
        ),
    ];

    fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> String {
        let mut bytes = seed.as_bytes().to_vec();
        for &(pos, op, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = pos % bytes.len();
            match op % 3 {
                0 => bytes[at] = byte,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, byte),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn mutated_lockfiles_never_panic(
            which in 0usize..SEEDS.len(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>(), prop_oneof![Just(b'['), Just(b'"'), Just(b'\n'), Just(b'='), Just(b'\\'), Just(b'{'), any::<u8>()]), 1..12),
        ) {
            let (format, seed) = SEEDS[which];
            let text = mutate(seed, &edits);
            let _ = parse(Path::new("mutated"), format, &text, &ParseOptions::default());
        }

        #[test]
        fn arbitrary_text_never_panics(which in 0usize..SEEDS.len(), text in ".{0,400}") {
            let _ = parse(Path::new("random"), SEEDS[which].0, &text, &ParseOptions::default());
        }
    }
}
