//! PEP 751 `pylock.toml` / `pylock.<name>.toml`.
//!
//! Inline and expanded tables are the same to TOML; `upload-time` may be a TOML
//! datetime or a string; `attestation-identities` are kept raw for the
//! provenance checks.

use std::path::Path;

use jiff::Timestamp;
use serde::Deserialize;
use toml::Spanned;

use super::{IndexRecord, LineIndex, Lockfile, LockfileError, toml_error};
use crate::package::{Artifact, ArtifactKind, Hash, Source, SourceKind};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PylockWire {
    lock_version: Option<Spanned<String>>,
    created_by: Option<String>,
    requires_python: Option<String>,
    #[serde(default)]
    packages: Vec<Spanned<PackageWire>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: Spanned<String>,
    version: Option<String>,
    marker: Option<String>,
    index: Option<String>,
    vcs: Option<VcsWire>,
    directory: Option<DirectoryWire>,
    archive: Option<FileWire>,
    sdist: Option<FileWire>,
    #[serde(default)]
    wheels: Vec<FileWire>,
    #[serde(default)]
    attestation_identities: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct VcsWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    path: Option<String>,
    requested_revision: Option<String>,
    commit_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct DirectoryWire {
    path: String,
    #[serde(default)]
    editable: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileWire {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    upload_time: Option<toml::Value>,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
}

/// Reads an upload time written as a TOML datetime or an RFC 3339 string.
pub(crate) fn timestamp(v: &toml::Value) -> Option<Timestamp> {
    match v {
        toml::Value::String(s) => crate::package::parse_upload_time(s),
        toml::Value::Datetime(d) => crate::package::parse_upload_time(&d.to_string()),
        _ => None,
    }
}

/// Parses a pylock file.
pub fn parse(path: &Path, content: &str) -> Result<Lockfile, LockfileError> {
    let wire: PylockWire = toml::from_str(content).map_err(|e| toml_error(path, content, &e))?;
    let lines = LineIndex::new(content);
    let mut lock = Lockfile::default();
    match &wire.lock_version {
        Some(v) => {
            let major = v.get_ref().split('.').next().unwrap_or("");
            if major != "1" {
                return Err(LockfileError::new(
                    path,
                    Some(lines.line_of(v.span().start)),
                    format!(
                        "pylock lock-version {} is not supported (customs reads 1.x)",
                        v.get_ref()
                    ),
                ));
            }
            lock.options
                .insert("lock-version".into(), v.get_ref().clone());
        }
        None => {
            return Err(LockfileError::new(
                path,
                Some(1),
                "missing `lock-version`: not a PEP 751 lock file",
            ));
        }
    }
    if let Some(c) = &wire.created_by {
        lock.options.insert("created-by".into(), c.clone());
    }
    if let Some(r) = &wire.requires_python {
        lock.options.insert("requires-python".into(), r.clone());
    }
    let mut indexes = std::collections::BTreeSet::new();
    for entry in &wire.packages {
        let p = entry.get_ref();
        let line = lines.header_line(content, entry.span().start);
        let mut pkg = super::toml_package(path, &lines, &p.name, p.version.as_deref(), line)?;
        pkg.markers.clone_from(&p.marker);
        pkg.source = if let Some(v) = &p.vcs {
            let mut s = Source::new(SourceKind::Git, v.url.clone().or_else(|| v.path.clone()));
            s.reference.clone_from(&v.requested_revision);
            s.commit.clone_from(&v.commit_id);
            // Other VCS kinds (hg, svn, bzr) keep their scheme prefix on the URL.
            if let Some(kind) = &v.kind
                && kind != "git"
            {
                s.url = s.url.map(|u| format!("{kind}+{u}"));
            }
            s
        } else if let Some(d) = &p.directory {
            let kind = if d.editable {
                SourceKind::Editable
            } else {
                SourceKind::Directory
            };
            Source::new(kind, Some(d.path.clone()))
        } else if let Some(a) = &p.archive {
            let kind = if a.url.is_some() {
                SourceKind::Url
            } else {
                SourceKind::Path
            };
            pkg.artifacts
                .push(file(path, line, a, ArtifactKind::Other)?);
            Source::new(kind, a.url.clone().or_else(|| a.path.clone()))
        } else {
            if let Some(i) = &p.index {
                indexes.insert(i.clone());
            }
            pkg.index_url.clone_from(&p.index);
            Source::new(SourceKind::Registry, p.index.clone())
        };
        if let Some(s) = &p.sdist {
            pkg.artifacts
                .push(file(path, line, s, ArtifactKind::Sdist)?);
        }
        for w in &p.wheels {
            pkg.artifacts
                .push(file(path, line, w, ArtifactKind::Wheel)?);
        }
        pkg.attestation_identities = p
            .attestation_identities
            .iter()
            .filter_map(|v| serde_json::to_value(v).ok())
            .collect();
        lock.packages.push(pkg);
    }
    lock.indexes = indexes
        .into_iter()
        .map(|url| IndexRecord {
            url,
            role: "index".into(),
        })
        .collect();
    Ok(lock)
}

fn file(
    path: &Path,
    line: u32,
    f: &FileWire,
    kind: ArtifactKind,
) -> Result<Artifact, LockfileError> {
    let location = f.url.as_deref().or(f.path.as_deref());
    let filename = f
        .name
        .clone()
        .or_else(|| location.and_then(super::uv::filename_from_url));
    let mut a = match filename {
        Some(n) => Artifact::named(n),
        None => Artifact {
            filename: None,
            kind,
            url: None,
            hashes: Vec::new(),
            upload_time: None,
            size: None,
        },
    };
    if kind != ArtifactKind::Other {
        a.kind = kind;
    }
    a.url = location.map(str::to_string);
    a.size = f.size;
    for (algo, digest) in &f.hashes {
        a.hashes
            .push(Hash::parse(&format!("{algo}:{digest}")).ok_or_else(|| {
                LockfileError::new(path, Some(line), format!("invalid {algo} hash `{digest}`"))
            })?);
    }
    if let Some(t) = &f.upload_time {
        a.upload_time = Some(timestamp(t).ok_or_else(|| {
            LockfileError::new(path, Some(line), format!("invalid `upload-time` {t:?}"))
        })?);
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.12"

[[packages]]
name = "attrs"
version = "25.1.0"
index = "https://index.example/simple"
sdist = { url = "https://files.example/attrs-25.1.0.tar.gz", upload-time = 2025-01-25T11:30:10Z, size = 10, hashes = { sha256 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" } }
wheels = [{ name = "attrs-25.1.0-py3-none-any.whl", url = "https://files.example/attrs-25.1.0-py3-none-any.whl", upload-time = "2025-01-25T11:30:12.000Z", hashes = { sha256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" } }]
attestation-identities = [{ kind = "GitHub", repository = "python-attrs/attrs", workflow = "pypi-package.yml" }]

[[packages]]
name = "local"
version = "1.0"

[packages.directory]
path = "./local"
editable = true

[[packages]]
name = "tool"

[packages.vcs]
type = "git"
url = "https://git.example/tool"
requested-revision = "main"
commit-id = "0123456789abcdef0123456789abcdef01234567"

[[packages]]
name = "arch"
version = "2.0"

[packages.archive]
url = "https://files.example/arch-2.0.tar.gz"
hashes = { sha256 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" }
"#;

    #[test]
    fn parses_every_entry_kind() {
        let lock = parse(Path::new("pylock.toml"), LOCK).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.source.kind, p.origin.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("attrs", SourceKind::Registry, 5),
                ("local", SourceKind::Editable, 13),
                ("tool", SourceKind::Git, 21),
                ("arch", SourceKind::Url, 30),
            ]
        );
        let attrs = &lock.packages[0];
        assert_eq!(attrs.artifacts.len(), 2);
        assert_eq!(
            attrs.earliest_upload().unwrap().to_string(),
            "2025-01-25T11:30:10Z"
        );
        assert_eq!(
            attrs.attestation_identities[0]["repository"],
            "python-attrs/attrs"
        );
        assert_eq!(
            lock.packages[2].source.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(
            lock.packages[3].artifacts[0].sha256(),
            Some("c".repeat(64).as_str())
        );
        assert_eq!(lock.indexes.len(), 1);
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        assert!(parse(Path::new("pylock.toml"), "lock-version = \"2.0\"\n").is_err());
        assert!(parse(Path::new("pylock.toml"), "packages = []\n").is_err());
        let e = parse(
            Path::new("pylock.toml"),
            "lock-version = \"1.0\"\n[[packages]]\nname = \"x\"\nsdist = { upload-time = 5 }\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }
}
