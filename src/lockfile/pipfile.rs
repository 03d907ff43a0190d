//! `Pipfile.lock` (pipenv): JSON with `_meta`, `default`, `develop` and any
//! custom package categories (`[pretty]` in the Pipfile is `"pretty"` here).
//!
//! serde_json keeps no spans, so a small scanner finds the line of each
//! package key at the right nesting level (inside `default` / `develop`),
//! never by a global text search that a string value could fool.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::{IndexRecord, LineIndex, Lockfile, LockfileError};
use crate::package::{Artifact, Hash, Origin, Package, PackageName, Source, SourceKind, Version};

#[derive(Debug, Deserialize)]
struct LockWire {
    #[serde(rename = "_meta")]
    meta: MetaWire,
    /// `default`, `develop` and custom categories: every other top-level key.
    #[serde(flatten)]
    sections: BTreeMap<String, serde_json::Value>,
}

/// A package category and its entries by package key.
type Category = (String, BTreeMap<String, EntryWire>);

/// The package categories, `default` and `develop` first, then custom ones
/// (every other top-level object). A malformed entry is an error at its own line.
fn categories(
    path: &Path,
    wire: &LockWire,
    line_of: &dyn Fn(&str, &str) -> u32,
) -> Result<Vec<Category>, LockfileError> {
    let mut names: Vec<&String> = wire
        .sections
        .keys()
        .filter(|k| !k.starts_with('_'))
        .collect();
    names.sort_by_key(|k| (k.as_str() != "default", k.as_str() != "develop", k.as_str()));
    let mut out = Vec::new();
    for name in names {
        // Every top-level object but `_meta` is a category; a malformed entry
        // in one is an error at its line, never a silent skip.
        let Some(map) = wire.sections[name].as_object() else {
            continue;
        };
        let mut entries = BTreeMap::new();
        for (key, value) in map {
            let entry: EntryWire = serde_json::from_value(value.clone()).map_err(|e| {
                LockfileError::new(
                    path,
                    Some(line_of(name, key)),
                    format!("invalid entry `{key}` in `{name}`: {e}"),
                )
            })?;
            entries.insert(key.clone(), entry);
        }
        out.push((name.clone(), entries));
    }
    Ok(out)
}

#[derive(Debug, Default, Deserialize)]
struct MetaWire {
    #[serde(default)]
    sources: Vec<SourceWire>,
    #[serde(rename = "pipfile-spec")]
    pipfile_spec: Option<serde_json::Number>,
    requires: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct SourceWire {
    name: Option<String>,
    url: String,
}

#[derive(Debug, Deserialize)]
struct EntryWire {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    markers: Option<String>,
    index: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    file: Option<String>,
    #[serde(default)]
    editable: bool,
}

/// Parses a Pipfile.lock.
pub fn parse(path: &Path, content: &str) -> Result<Lockfile, LockfileError> {
    let wire: LockWire = serde_json::from_str(content).map_err(|e| {
        LockfileError::new(
            path,
            u32::try_from(e.line()).ok().filter(|l| *l > 0),
            format!("invalid Pipfile.lock JSON: {e}"),
        )
    })?;
    let lines = key_lines(content);
    let index = LineIndex::new(content);
    let mut lock = Lockfile::default();
    if let Some(spec) = &wire.meta.pipfile_spec {
        lock.options.insert("pipfile-spec".into(), spec.to_string());
    }
    if let Some(py) = wire
        .meta
        .requires
        .as_ref()
        .and_then(|r| r.get("python_version"))
    {
        lock.options.insert(
            "python-version".into(),
            py.as_str().unwrap_or_default().to_string(),
        );
    }
    let sources: HashMap<&str, &str> = wire
        .meta
        .sources
        .iter()
        .filter_map(|s| Some((s.name.as_deref()?, s.url.as_str())))
        .collect();
    lock.indexes = wire
        .meta
        .sources
        .iter()
        .map(|s| IndexRecord {
            url: s.url.clone(),
            role: "source".into(),
        })
        .collect();
    let line_of =
        |section: &str, key: &str| index.line_of(lines.get(&(section, key)).copied().unwrap_or(0));
    for (section, entries) in categories(path, &wire, &line_of)? {
        let section = section.as_str();
        for (raw_name, e) in &entries {
            let offset = lines
                .get(&(section, raw_name.as_str()))
                .copied()
                .unwrap_or(0);
            let line = index.line_of(offset);
            let name = PackageName::new(raw_name)
                .map_err(|err| LockfileError::new(path, Some(line), err.to_string()))?;
            let version = e
                .version
                .as_deref()
                .map(|v| {
                    v.trim()
                        .trim_start_matches("===")
                        .trim_start_matches("==")
                        .trim()
                })
                .filter(|v| !v.is_empty() && *v != "*")
                .map(Version::new);
            let mut pkg = Package::new(
                name,
                version,
                Origin {
                    file: path.to_path_buf(),
                    line,
                },
            );
            pkg.groups.push(section.to_string());
            pkg.markers.clone_from(&e.markers);
            pkg.extras.clone_from(&e.extras);
            pkg.source = if let Some(git) = &e.git {
                let mut s = Source::new(SourceKind::Git, Some(git.clone()));
                s.reference.clone_from(&e.reference);
                s.commit = e
                    .reference
                    .clone()
                    .filter(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()));
                if e.editable {
                    s.kind = SourceKind::Editable;
                }
                s
            } else if let Some(p) = &e.path {
                let kind = SourceKind::local(p, e.editable);
                Source::new(kind, Some(p.clone()))
            } else if let Some(f) = &e.file {
                Source::new(SourceKind::Url, Some(f.clone()))
            } else {
                let url = e
                    .index
                    .as_deref()
                    .and_then(|i| sources.get(i))
                    .map(|u| (*u).to_string());
                pkg.index_url.clone_from(&url);
                Source::new(SourceKind::Registry, url)
            };
            for h in &e.hashes {
                let hash = Hash::parse(h).ok_or_else(|| {
                    LockfileError::new(
                        path,
                        Some(line),
                        format!("invalid hash `{h}`; expected `sha256:<hex>`"),
                    )
                })?;
                pkg.artifacts.push(Artifact::from_hash(hash));
            }
            lock.packages.push(pkg);
        }
    }
    lock.packages.sort_by_key(|p| p.origin.line);
    Ok(lock)
}

/// Byte offsets of the keys directly inside each top-level object
/// (`default`, `develop`, custom categories), by (category, key), found by a
/// small JSON scanner (strings and escapes respected). Only called on text
/// serde_json already accepted.
fn key_lines(text: &str) -> HashMap<(&str, &str), usize> {
    let bytes = text.as_bytes();
    let mut out = HashMap::new();
    // Stack of containers: (is_object, expecting_key).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut top_key: Option<&str> = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                stack.push((true, true));
                i += 1;
            }
            b'[' => {
                stack.push((false, false));
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                if stack.len() == 1 {
                    top_key = None;
                }
                i += 1;
            }
            b',' => {
                if let Some(last) = stack.last_mut() {
                    last.1 = last.0;
                }
                i += 1;
            }
            b':' => {
                if let Some(last) = stack.last_mut() {
                    last.1 = false;
                }
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                let s = text.get(start + 1..i.min(bytes.len())).unwrap_or("");
                i += 1;
                let expecting_key = stack.last().is_some_and(|t| t.0 && t.1);
                if expecting_key {
                    match stack.len() {
                        1 => top_key = Some(s),
                        2 => {
                            if let Some(section) = top_key {
                                out.insert((section, s), start);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"{
    "_meta": {
        "hash": {"sha256": "00"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.11"},
        "sources": [{"name": "pypi", "url": "https://index.example/simple", "verify_ssl": true}]
    },
    "default": {
        "asgiref": {
            "hashes": ["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
            "index": "pypi",
            "markers": "python_version >= '3.8'",
            "version": "==3.8.1"
        },
        "tool": {"git": "https://git.example/tool.git", "ref": "0123456789abcdef0123456789abcdef01234567"},
        "local": {"editable": true, "path": "."}
    },
    "develop": {
        "pytest": {"hashes": [], "version": "==8.2.0", "note": "\"asgiref\": { is not a key here"}
    }
}"#;

    #[test]
    fn sections_sources_and_lines() {
        let lock = parse(Path::new("Pipfile.lock"), LOCK).unwrap();
        let got: Vec<_> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.source.kind,
                    p.origin.line,
                    p.groups[0].as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("asgiref", SourceKind::Registry, 9),
                ("tool", SourceKind::Git, 15),
                ("local", SourceKind::Editable, 16),
                ("pytest", SourceKind::Registry, 19),
            ]
            .into_iter()
            .map(|(a, b, c)| (a, b, c, if a == "pytest" { "develop" } else { "default" }))
            .collect::<Vec<_>>()
        );
        assert_eq!(lock.packages[0].version.as_ref().unwrap().as_str(), "3.8.1");
        assert_eq!(
            lock.packages[0].index_url.as_deref(),
            Some("https://index.example/simple")
        );
        assert_eq!(
            lock.packages[1].source.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
    }

    #[test]
    fn errors() {
        let e = parse(
            Path::new("Pipfile.lock"),
            "{\n  \"_meta\": {},\n  \"default\": {\n    \"a\": {\"version\": 3}\n  }\n}",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("invalid entry `a` in `default`"), "{e}");
        assert!(parse(Path::new("Pipfile.lock"), "{").is_err());
        assert!(parse(Path::new("Pipfile.lock"), "[]").is_err());
    }
}
