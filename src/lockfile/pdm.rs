//! `pdm.lock`: lock_version 3.x (`[metadata.files]` keyed `"name version"`)
//! and 4.x (per-package `files`), groups, and extras entries.
//!
//! pdm writes one extra `[[package]]` entry per extras combination
//! (`name = "django"`, `extras = ["argon2"]`) beside the plain one. They are the
//! same files, so customs merges them into one package (extras unioned, the
//! first entry's line kept) instead of checking the same release twice.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{LineIndex, Lockfile, LockfileError, toml_error};
use crate::package::{Artifact, Hash, Package, PackageName, Source, SourceKind, Version};

#[derive(Debug, Deserialize)]
struct LockWire {
    #[serde(default)]
    metadata: MetadataWire,
    #[serde(default)]
    package: Vec<Spanned<PackageWire>>,
}

#[derive(Debug, Default, Deserialize)]
struct MetadataWire {
    lock_version: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    /// lock_version 3.x: `"name version"` -> files.
    #[serde(default)]
    files: BTreeMap<String, Vec<FileWire>>,
}

#[derive(Debug, Deserialize)]
struct PackageWire {
    name: Spanned<String>,
    version: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    extras: Vec<String>,
    marker: Option<String>,
    #[serde(default)]
    files: Vec<FileWire>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    revision: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    editable: bool,
}

#[derive(Debug, Deserialize)]
struct FileWire {
    file: Option<String>,
    url: Option<String>,
    hash: String,
}

/// Parses a pdm.lock.
pub fn parse(path: &Path, content: &str) -> Result<Lockfile, LockfileError> {
    let wire: LockWire = toml::from_str(content).map_err(|e| toml_error(path, content, &e))?;
    let lines = LineIndex::new(content);
    let mut lock = Lockfile::default();
    if let Some(v) = &wire.metadata.lock_version {
        lock.options.insert("lock-version".into(), v.clone());
    }
    if !wire.metadata.groups.is_empty() {
        lock.options
            .insert("groups".into(), wire.metadata.groups.join(","));
    }
    let mut legacy: BTreeMap<(String, String), Vec<Artifact>> = BTreeMap::new();
    for (key, files) in &wire.metadata.files {
        let (name, version) = key.trim().split_once(' ').ok_or_else(|| {
            LockfileError::new(
                path,
                None,
                format!("[metadata.files] key `{key}` is not `name version`"),
            )
        })?;
        let name =
            PackageName::new(name).map_err(|e| LockfileError::new(path, None, e.to_string()))?;
        let version = Version::new(version);
        let arts = files
            .iter()
            .map(|f| file(path, None, f))
            .collect::<Result<Vec<_>, _>>()?;
        legacy.insert((name.to_string(), version.as_str().to_string()), arts);
    }
    let mut by_key: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for entry in &wire.package {
        let p = entry.get_ref();
        let line = lines.header_line(content, entry.span().start);
        let mut pkg = super::toml_package(path, &lines, &p.name, p.version.as_deref(), line)?;
        let key = (pkg.name.to_string(), p.version.clone());
        if let Some(&i) = by_key.get(&key) {
            // An extras entry of a package already read.
            let existing: &mut Package = &mut lock.packages[i];
            for x in &p.extras {
                if !existing.extras.contains(x) {
                    existing.extras.push(x.clone());
                }
            }
            for g in &p.groups {
                if !existing.groups.contains(g) {
                    existing.groups.push(g.clone());
                }
            }
            continue;
        }
        pkg.groups.clone_from(&p.groups);
        pkg.extras.clone_from(&p.extras);
        pkg.markers.clone_from(&p.marker);
        pkg.source = if let Some(git) = &p.git {
            let mut s = Source::new(
                if p.editable {
                    SourceKind::Editable
                } else {
                    SourceKind::Git
                },
                Some(git.clone()),
            );
            s.reference.clone_from(&p.reference);
            s.commit.clone_from(&p.revision);
            s
        } else if let Some(local) = &p.path {
            let kind = SourceKind::local(local, p.editable);
            Source::new(kind, Some(local.clone()))
        } else if let Some(url) = &p.url {
            Source::new(SourceKind::Url, Some(url.clone()))
        } else {
            Source::default_registry()
        };
        for f in &p.files {
            pkg.artifacts.push(file(path, Some(line), f)?);
        }
        if p.files.is_empty()
            && let Some(arts) = legacy.get(&(key.0.clone(), p.version.clone().unwrap_or_default()))
        {
            pkg.artifacts.extend(arts.iter().cloned());
        }
        by_key.insert(key, lock.packages.len());
        lock.packages.push(pkg);
    }
    Ok(lock)
}

fn file(path: &Path, line: Option<u32>, f: &FileWire) -> Result<Artifact, LockfileError> {
    let name = f
        .file
        .clone()
        .or_else(|| f.url.as_deref().and_then(super::uv::filename_from_url))
        .ok_or_else(|| {
            LockfileError::new(path, line, "a file entry has neither `file` nor `url`")
        })?;
    let mut a = Artifact::named(name);
    a.url.clone_from(&f.url);
    a.hashes.push(
        Hash::parse(&f.hash)
            .ok_or_else(|| LockfileError::new(path, line, format!("invalid hash `{}`", f.hash)))?,
    );
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: &str = r#"# This file is @generated by PDM.
# It is not intended for manual editing.

[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:00"

[[metadata.targets]]
requires_python = ">=3.11"

[[package]]
name = "django"
version = "5.1.4"
requires_python = ">=3.10"
summary = "A high-level Python web framework"
groups = ["default"]
files = [
    {file = "django-5.1.4-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
]

[[package]]
name = "django"
version = "5.1.4"
extras = ["argon2"]
groups = ["default"]
files = [
    {file = "django-5.1.4-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
]

[[package]]
name = "mylib"
version = "0.1.0"
path = "./mylib"
editable = true
groups = ["dev"]

[[package]]
name = "tool"
version = "1.0"
git = "https://git.example/tool.git"
ref = "main"
revision = "0123456789abcdef0123456789abcdef01234567"
groups = ["default"]
"#;

    #[test]
    fn lock_version_4_with_extras_entries_merged() {
        let lock = parse(Path::new("pdm.lock"), V4).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.source.kind,
                    p.origin.line,
                    p.extras.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "django",
                    SourceKind::Registry,
                    13,
                    vec!["argon2".to_string()]
                ),
                ("mylib", SourceKind::Editable, 32, vec![]),
                ("tool", SourceKind::Git, 39, vec![]),
            ]
        );
        assert_eq!(lock.packages[0].artifacts.len(), 1);
        assert_eq!(lock.options["lock-version"], "4.5.0");
    }

    #[test]
    fn lock_version_3_metadata_files() {
        let text = "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsummary = \"\"\n\n[metadata]\nlock_version = \"3.1\"\ncontent_hash = \"00\"\n\n[metadata.files]\n\"six 1.16.0\" = [\n    {url = \"https://files.example/six-1.16.0-py2.py3-none-any.whl\", hash = \"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"},\n]\n";
        let lock = parse(Path::new("pdm.lock"), text).unwrap();
        assert_eq!(lock.packages[0].artifacts.len(), 1);
        assert_eq!(
            lock.packages[0].artifacts[0].filename.as_deref(),
            Some("six-1.16.0-py2.py3-none-any.whl")
        );
    }

    #[test]
    fn errors() {
        let e = parse(
            Path::new("pdm.lock"),
            "[metadata.files]\n\"nospace\" = []\n",
        )
        .unwrap_err();
        assert!(e.message.contains("name version"), "{e}");
        let e = parse(
            Path::new("pdm.lock"),
            "[[package]]\nname = \"x\"\nfiles = [{hash = \"sha256:00\"}]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }
}
