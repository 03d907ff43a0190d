//! `poetry.lock`, every format Poetry has written:
//! pre-1.0 (`[metadata.hashes]`: name -> bare sha256 list), 1.1
//! (`[metadata.files]`: name -> `{file, hash}` list, keys not normalised),
//! 2.0 and 2.1 (per-package `files`, `groups`, `markers` as a string or a table
//! keyed by group). Sources: legacy (a named index), git, directory, file, url.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{IndexRecord, LineIndex, Lockfile, LockfileError, toml_error};
use crate::package::{Artifact, Hash, PackageName, Source, SourceKind};

#[derive(Debug, Deserialize)]
struct LockWire {
    #[serde(default)]
    package: Vec<Spanned<PackageWire>>,
    #[serde(default)]
    metadata: MetadataWire,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MetadataWire {
    lock_version: Option<String>,
    python_versions: Option<String>,
    /// Poetry 1.1: name -> files.
    #[serde(default)]
    files: BTreeMap<String, Vec<FileWire>>,
    /// Before Poetry 1.0: name -> bare sha256 digests.
    #[serde(default)]
    hashes: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: Spanned<String>,
    version: Option<String>,
    category: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    markers: Option<MarkersWire>,
    #[serde(default)]
    files: Vec<FileWire>,
    source: Option<SourceWire>,
    #[serde(default)]
    develop: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MarkersWire {
    One(String),
    ByGroup(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
struct FileWire {
    file: String,
    hash: String,
}

#[derive(Debug, Deserialize)]
struct SourceWire {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

/// Parses a poetry.lock.
pub fn parse(path: &Path, content: &str) -> Result<Lockfile, LockfileError> {
    let wire: LockWire = toml::from_str(content).map_err(|e| toml_error(path, content, &e))?;
    let lines = LineIndex::new(content);
    let mut lock = Lockfile::default();
    let meta = &wire.metadata;
    lock.options.insert(
        "lock-version".into(),
        meta.lock_version
            .clone()
            .unwrap_or_else(|| "1.0 or earlier".into()),
    );
    if let Some(py) = &meta.python_versions {
        lock.options.insert("python-versions".into(), py.clone());
    }
    // Old formats key files by name as written; match by normalised name.
    let mut legacy_files: BTreeMap<PackageName, Vec<Artifact>> = BTreeMap::new();
    for (name, files) in &meta.files {
        let n = PackageName::new(name)
            .map_err(|e| LockfileError::new(path, None, format!("[metadata.files]: {e}")))?;
        let entry = legacy_files.entry(n).or_default();
        for f in files {
            entry.push(file_artifact(path, None, f)?);
        }
    }
    for (name, digests) in &meta.hashes {
        let n = PackageName::new(name)
            .map_err(|e| LockfileError::new(path, None, format!("[metadata.hashes]: {e}")))?;
        let entry = legacy_files.entry(n).or_default();
        for d in digests {
            let hash = Hash::sha256(d).or_else(|| Hash::parse(d)).ok_or_else(|| {
                LockfileError::new(
                    path,
                    None,
                    format!("[metadata.hashes]: invalid digest `{d}`"),
                )
            })?;
            entry.push(Artifact::from_hash(hash));
        }
    }
    let mut name_counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in &wire.package {
        if let Ok(n) = PackageName::new(p.get_ref().name.get_ref()) {
            *name_counts.entry(n.to_string()).or_default() += 1;
        }
    }
    let mut indexes = BTreeMap::new();
    for entry in &wire.package {
        let p = entry.get_ref();
        let line = lines.header_line(content, entry.span().start);
        let mut pkg = super::toml_package(path, &lines, &p.name, p.version.as_deref(), line)?;
        pkg.groups = if p.groups.is_empty() {
            p.category.iter().cloned().collect()
        } else {
            p.groups.clone()
        };
        pkg.markers = p.markers.as_ref().map(|m| match m {
            MarkersWire::One(s) => s.clone(),
            MarkersWire::ByGroup(by) => by
                .iter()
                .map(|(g, m)| format!("{g}: {m}"))
                .collect::<Vec<_>>()
                .join("; "),
        });
        pkg.source = match &p.source {
            None => Source::default_registry(),
            Some(s) => source(path, line, s, p.develop)?,
        };
        if pkg.source.kind == SourceKind::Registry {
            pkg.index_url.clone_from(&pkg.source.url);
            if let (Some(url), Some(s)) = (&pkg.source.url, &p.source) {
                indexes.insert(url.clone(), s.reference.clone());
            }
        }
        for f in &p.files {
            pkg.artifacts.push(file_artifact(path, Some(line), f)?);
        }
        if p.files.is_empty()
            && let Some(files) = legacy_files.get(&pkg.name)
        {
            let shared = name_counts.get(pkg.name.as_str()).copied().unwrap_or(0) > 1;
            let version = pkg
                .version
                .as_ref()
                .map(|v| v.as_str().to_string())
                .unwrap_or_default();
            pkg.artifacts.extend(
                files
                    .iter()
                    .filter(|a| {
                        !shared
                            || a.filename
                                .as_deref()
                                .is_none_or(|f| f.contains(&format!("-{version}")))
                    })
                    .cloned(),
            );
        }
        lock.packages.push(pkg);
    }
    lock.indexes = indexes
        .into_iter()
        .map(|(url, name)| IndexRecord {
            url,
            role: name.map_or_else(|| "source".to_string(), |n| format!("source {n}")),
        })
        .collect();
    Ok(lock)
}

fn source(path: &Path, line: u32, s: &SourceWire, develop: bool) -> Result<Source, LockfileError> {
    let url = s.url.clone();
    Ok(match s.kind.as_str() {
        "legacy" => Source::new(SourceKind::Registry, url),
        "git" => {
            let mut src = Source::new(SourceKind::Git, url);
            src.reference.clone_from(&s.reference);
            src.commit.clone_from(&s.resolved_reference);
            src
        }
        "directory" => Source::new(
            if develop {
                SourceKind::Editable
            } else {
                SourceKind::Directory
            },
            url,
        ),
        "file" => Source::new(SourceKind::Path, url),
        "url" => Source::new(SourceKind::Url, url),
        other => {
            return Err(LockfileError::new(
                path,
                Some(line),
                format!(
                    "unknown source type `{other}`; expected legacy, git, directory, file or url"
                ),
            ));
        }
    })
}

fn file_artifact(path: &Path, line: Option<u32>, f: &FileWire) -> Result<Artifact, LockfileError> {
    let mut a = Artifact::named(f.file.clone());
    a.hashes.push(Hash::parse(&f.hash).ok_or_else(|| {
        LockfileError::new(
            path,
            line,
            format!("invalid hash `{}` for {}", f.hash, f.file),
        )
    })?);
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V21: &str = r#"# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "Django"
version = "5.1.4"
description = ""
optional = false
python-versions = ">=3.10"
groups = ["main"]
markers = {main = "python_version >= \"3.10\"", dev = "sys_platform == \"linux\""}
files = [
    {file = "Django-5.1.4-py3-none-any.whl", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
]

[package.source]
type = "legacy"
url = "https://index.example/simple"
reference = "internal"

[[package]]
name = "mylib"
version = "0.1.0"
description = ""
optional = false
python-versions = "*"
groups = ["dev"]
files = []
develop = true

[package.source]
type = "directory"
url = "../mylib"

[[package]]
name = "gitdep"
version = "1.0"
description = ""
optional = false
python-versions = "*"
groups = ["main"]
files = []

[package.source]
type = "git"
url = "https://git.example/gitdep.git"
reference = "main"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "00"
"#;

    #[test]
    fn poetry_2_1() {
        let lock = parse(Path::new("poetry.lock"), V21).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.source.kind,
                    p.origin.line,
                    p.groups.clone(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("django", SourceKind::Registry, 3, vec!["main".to_string()]),
                ("mylib", SourceKind::Editable, 20, vec!["dev".to_string()]),
                ("gitdep", SourceKind::Git, 34, vec!["main".to_string()]),
            ]
        );
        assert!(
            lock.packages[0]
                .markers
                .as_deref()
                .unwrap()
                .starts_with("dev: ")
        );
        assert_eq!(
            lock.packages[0].artifacts[0].sha256(),
            Some("a".repeat(64).as_str())
        );
        assert_eq!(lock.indexes[0].role, "source internal");
        assert_eq!(
            lock.packages[2].source.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
    }

    #[test]
    fn poetry_1_1_metadata_files_with_unnormalised_keys() {
        let text = "[[package]]\nname = \"typing-extensions\"\nversion = \"4.0.0\"\ncategory = \"main\"\noptional = false\npython-versions = \">=3.6\"\n\n[metadata]\nlock-version = \"1.1\"\npython-versions = \"^3.8\"\ncontent-hash = \"00\"\n\n[metadata.files]\ntyping_extensions = [\n    {file = \"typing_extensions-4.0.0-py3-none-any.whl\", hash = \"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"},\n]\n";
        let lock = parse(Path::new("poetry.lock"), text).unwrap();
        assert_eq!(lock.packages[0].artifacts.len(), 1);
        assert_eq!(lock.packages[0].groups, vec!["main"]);
        assert_eq!(lock.options["lock-version"], "1.1");
    }

    #[test]
    fn pre_1_0_metadata_hashes() {
        let text = "[[package]]\ncategory = \"main\"\nname = \"six\"\nversion = \"1.12.0\"\noptional = false\npython-versions = \"*\"\n\n[metadata]\ncontent-hash = \"00\"\npython-versions = \"*\"\n\n[metadata.hashes]\nsix = [\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\", \"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\"]\n";
        let lock = parse(Path::new("poetry.lock"), text).unwrap();
        assert_eq!(lock.packages[0].artifacts.len(), 2);
        assert_eq!(lock.packages[0].artifacts[0].filename, None);
        assert_eq!(lock.options["lock-version"], "1.0 or earlier");
    }

    #[test]
    fn errors() {
        let e = parse(Path::new("poetry.lock"), "[[package]]\nname = \"x\"\nversion = \"1\"\n[package.source]\ntype = \"svn\"\nurl = \"u\"\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
        let e = parse(
            Path::new("poetry.lock"),
            "[[package]]\nname = \"x\"\nfiles = [{file = \"x.whl\", hash = \"nope\"}]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("invalid hash"), "{e}");
    }
}
