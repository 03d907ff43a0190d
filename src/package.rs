//! The package model every lockfile parser produces and every check reads.
//!
//! Names are PEP 503 normalised, versions are compared by PEP 440 but keep the
//! string the lockfile wrote, and every package remembers the file and line it
//! came from.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A PEP 503 normalised project name (`Foo_Bar.baz` -> `foo-bar-baz`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackageName(String);

/// Why a string is not a valid distribution name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a valid Python package name: {reason}")]
pub struct InvalidName {
    /// The rejected input.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl PackageName {
    /// Normalises and validates a name as PEP 503 and the core metadata spec
    /// describe it: ASCII letters, digits, `-`, `_` and `.`, starting and ending
    /// with a letter or digit.
    pub fn new(raw: &str) -> Result<Self, InvalidName> {
        let trimmed = raw.trim();
        let invalid = |reason| InvalidName {
            name: raw.chars().take(200).collect(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(invalid("the name is empty"));
        }
        if trimmed.len() > 200 {
            return Err(invalid("the name is longer than 200 characters"));
        }
        let bytes = trimmed.as_bytes();
        if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
            return Err(invalid("it must start and end with a letter or digit"));
        }
        let mut out = String::with_capacity(trimmed.len());
        let mut last_sep = false;
        for c in trimmed.chars() {
            match c {
                'a'..='z' | '0'..='9' => {
                    out.push(c);
                    last_sep = false;
                }
                'A'..='Z' => {
                    out.push(c.to_ascii_lowercase());
                    last_sep = false;
                }
                '-' | '_' | '.' => {
                    if !last_sep {
                        out.push('-');
                    }
                    last_sep = true;
                }
                _ => {
                    return Err(invalid(
                        "only ASCII letters, digits, `-`, `_` and `.` are allowed",
                    ));
                }
            }
        }
        Ok(Self(out))
    }

    /// The normalised form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PackageName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A version as the lockfile wrote it, compared by PEP 440 where it parses.
///
/// `3.2.3-2` equals `3.2.3.post2`; the original string is kept for display.
/// A string that is not PEP 440 (legacy versions exist on PyPI) is kept and
/// compared literally.
#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
    parsed: Option<pep440_rs::Version>,
}

impl Version {
    /// Wraps a version string; never fails.
    pub fn new(raw: &str) -> Self {
        let raw = raw.trim().to_string();
        let parsed = pep440_rs::Version::from_str(&raw).ok();
        Self { raw, parsed }
    }

    /// The string as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The PEP 440 form, if the string is a valid PEP 440 version.
    pub fn pep440(&self) -> Option<&pep440_rs::Version> {
        self.parsed.as_ref()
    }

    /// Whether this is a pre-, dev- or otherwise non-final release.
    pub fn is_prerelease(&self) -> bool {
        self.parsed
            .as_ref()
            .is_some_and(|v| v.any_prerelease() || v.is_dev())
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        match (&self.parsed, &other.parsed) {
            (Some(a), Some(b)) => a == b,
            _ => self.raw == other.raw,
        }
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    /// PEP 440 order; unparsable versions sort before all valid ones, by string.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (&self.parsed, &other.parsed) {
            (Some(a), Some(b)) => a.cmp(b).then_with(|| self.raw.cmp(&other.raw)),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, None) => self.raw.cmp(&other.raw),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Where a package comes from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A package index (PyPI or a mirror).
    Registry,
    /// A git (or other VCS) repository.
    Git,
    /// A direct URL to an archive.
    Url,
    /// A local archive file.
    Path,
    /// A local source tree, installed normally.
    Directory,
    /// A local source tree, installed in editable mode.
    Editable,
    /// A workspace member or project that is not installed itself.
    Virtual,
}

impl SourceKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registry => "registry",
            Self::Git => "git",
            Self::Url => "url",
            Self::Path => "path",
            Self::Directory => "directory",
            Self::Editable => "editable",
            Self::Virtual => "virtual",
        }
    }
}

impl SourceKind {
    /// The kind of a local path: editable, an archive file, or a source tree.
    pub fn local(path: &str, editable: bool) -> Self {
        if editable {
            Self::Editable
        } else if ArtifactKind::from_filename(path) == ArtifactKind::Other {
            Self::Directory
        } else {
            Self::Path
        }
    }
}

/// Parses an upload time: RFC 3339, or a date-time without offset read as UTC
/// (TOML local date-times, the JSON API's `upload_time`).
pub fn parse_upload_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    s.parse::<Timestamp>().ok().or_else(|| {
        s.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// A package's source: kind plus the URL or path the lockfile gives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// The kind of source.
    pub kind: SourceKind,
    /// The index URL, repository URL, archive URL or local path, as written
    /// (registry addresses are reported as the lockfile has them).
    pub url: Option<String>,
    /// For git sources: the requested reference (`?rev=`, `?tag=`, `?branch=`).
    pub reference: Option<String>,
    /// For git sources: the resolved commit.
    pub commit: Option<String>,
}

impl Source {
    /// A source of the given kind with a URL.
    pub fn new(kind: SourceKind, url: Option<String>) -> Self {
        Self {
            kind,
            url,
            reference: None,
            commit: None,
        }
    }

    /// A registry source with no recorded index (the default index applies).
    pub fn default_registry() -> Self {
        Self::new(SourceKind::Registry, None)
    }
}

/// A hash of an artifact, as `algorithm` and lowercase hex digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Hash {
    /// `sha256`, `sha384`, `sha512`, `md5`...
    pub algorithm: String,
    /// Lowercase hex digest.
    pub digest: String,
}

impl Hash {
    /// Parses `algo:hex` or `algo=hex` (both forms appear in lockfiles).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (algorithm, digest) = s.split_once(':').or_else(|| s.split_once('='))?;
        let algorithm = algorithm.trim().to_ascii_lowercase();
        let digest = digest.trim().to_ascii_lowercase();
        if algorithm.is_empty()
            || !algorithm.bytes().all(|b| b.is_ascii_alphanumeric())
            || digest.is_empty()
            || !digest.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return None;
        }
        Some(Self { algorithm, digest })
    }

    /// A sha256 hash from a hex digest (validated: 64 hex digits).
    pub fn sha256(hex: &str) -> Option<Self> {
        let digest = hex.trim().to_ascii_lowercase();
        (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self {
            algorithm: "sha256".into(),
            digest,
        })
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.digest)
    }
}

/// What kind of distribution file an artifact is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// A source distribution.
    Sdist,
    /// A wheel.
    Wheel,
    /// Anything else (eggs, wininst installers) or unknown (a bare hash).
    Other,
}

impl ArtifactKind {
    /// Guesses the kind from a file name.
    pub fn from_filename(filename: &str) -> Self {
        let lower = filename.to_ascii_lowercase();
        if lower.ends_with(".whl") {
            Self::Wheel
        } else if lower.ends_with(".tar.gz")
            || lower.ends_with(".tgz")
            || lower.ends_with(".zip")
            || lower.ends_with(".tar.bz2")
            || lower.ends_with(".tar.xz")
            || lower.ends_with(".tar")
        {
            Self::Sdist
        } else {
            Self::Other
        }
    }
}

/// One file the lockfile pins for a package (or, in requirements files, a bare
/// `--hash` with no file name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Artifact {
    /// The file name, when the lockfile names it.
    pub filename: Option<String>,
    /// Sdist, wheel or other.
    pub kind: ArtifactKind,
    /// The download URL, as written.
    pub url: Option<String>,
    /// Every hash the lockfile gives for this file.
    pub hashes: Vec<Hash>,
    /// The upload time, where the lockfile records it (uv.lock, pylock.toml).
    pub upload_time: Option<Timestamp>,
    /// Size in bytes, where recorded.
    pub size: Option<u64>,
}

impl Artifact {
    /// An artifact with a file name and nothing else yet.
    pub fn named(filename: impl Into<String>) -> Self {
        let filename = filename.into();
        Self {
            kind: ArtifactKind::from_filename(&filename),
            filename: Some(filename),
            url: None,
            hashes: Vec::new(),
            upload_time: None,
            size: None,
        }
    }

    /// An artifact known only by a hash (requirements `--hash`, Pipfile.lock).
    pub fn from_hash(hash: Hash) -> Self {
        Self {
            filename: None,
            kind: ArtifactKind::Other,
            url: None,
            hashes: vec![hash],
            upload_time: None,
            size: None,
        }
    }

    /// The sha256 digest, if the lockfile gives one.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes
            .iter()
            .find(|h| h.algorithm == "sha256")
            .map(|h| h.digest.as_str())
    }
}

/// Where in which file a package was declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The file as the user named it (or as discovered), for display.
    pub file: PathBuf,
    /// 1-based line of the package's entry.
    pub line: u32,
}

/// One locked (or required) package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Normalised name.
    pub name: PackageName,
    /// The pinned version; `None` when the entry pins none (dynamic workspace
    /// members, unpinned requirements, VCS requirements without a version).
    pub version: Option<Version>,
    /// Where it comes from.
    pub source: Source,
    /// The files pinned for it.
    pub artifacts: Vec<Artifact>,
    /// File and line of its entry.
    pub origin: Origin,
    /// PEP 508 environment markers, as written, when the entry has them.
    pub markers: Option<String>,
    /// Extras requested or provided by this entry.
    pub extras: Vec<String>,
    /// Dependency groups / categories (poetry `groups`, Pipfile sections, pdm groups).
    pub groups: Vec<String>,
    /// The index the lockfile recorded for this package, if any.
    pub index_url: Option<String>,
    /// pylock.toml `attestation-identities`, kept raw for the provenance checks.
    pub attestation_identities: Vec<serde_json::Value>,
    /// The version requirement as written when the entry is not pinned with `==`
    /// (`requests>=2`), for messages.
    pub requirement: Option<String>,
}

impl Package {
    /// A registry package with a version at a location; everything else empty.
    pub fn new(name: PackageName, version: Option<Version>, origin: Origin) -> Self {
        Self {
            name,
            version,
            source: Source::default_registry(),
            artifacts: Vec::new(),
            origin,
            markers: None,
            extras: Vec::new(),
            groups: Vec::new(),
            index_url: None,
            attestation_identities: Vec::new(),
            requirement: None,
        }
    }

    /// The earliest upload time among the artifacts the lockfile pins.
    pub fn earliest_upload(&self) -> Option<Timestamp> {
        self.artifacts.iter().filter_map(|a| a.upload_time).min()
    }

    /// Whether the lockfile pins this index file: by file name, else by sha256.
    pub fn pins_file(&self, filename: &str, sha256: Option<&str>) -> bool {
        self.artifacts.iter().any(|a| {
            a.filename.as_deref() == Some(filename)
                || (a.sha256().is_some() && a.sha256() == sha256)
        })
    }

    /// The sha256 the lockfile pins for the file with this name.
    pub fn pinned_sha256(&self, filename: &str) -> Option<&str> {
        self.artifacts
            .iter()
            .find(|a| a.filename.as_deref() == Some(filename))
            .and_then(|a| a.sha256())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_like_pep_503() {
        for (raw, want) in [
            ("Django", "django"),
            ("typing_extensions", "typing-extensions"),
            ("zope.interface", "zope-interface"),
            ("Foo__-.Bar", "foo-bar"),
            ("  requests ", "requests"),
        ] {
            assert_eq!(PackageName::new(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn bad_names_are_rejected() {
        for raw in [
            "",
            "-foo",
            "foo-",
            "foo bar",
            "föö",
            "a/b",
            &"x".repeat(300),
        ] {
            assert!(PackageName::new(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn versions_compare_by_pep_440_and_keep_their_text() {
        let a = Version::new("3.2.3-2");
        let b = Version::new("3.2.3.post2");
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "3.2.3-2");
        assert!(Version::new("1.10") > Version::new("1.9"));
        assert!(Version::new("2.0rc1").is_prerelease());
        assert_eq!(Version::new("not a version"), Version::new("not a version"));
        assert_ne!(Version::new("not a version"), Version::new("1.0"));
    }

    #[test]
    fn hashes_parse_both_separators() {
        let h = Hash::parse("sha256:ABCDEF").unwrap();
        assert_eq!(h.to_string(), "sha256:abcdef");
        assert_eq!(Hash::parse("md5=00ff").unwrap().algorithm, "md5");
        assert!(Hash::parse("sha256:xyz").is_none());
        assert!(Hash::parse("nohash").is_none());
        assert!(Hash::sha256("ab").is_none());
    }
}
