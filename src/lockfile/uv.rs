//! `uv.lock` (and PEP 723 script locks, `script.py.lock`).
//!
//! The wire types mirror the file as uv writes it (lock `version` 1, any
//! `revision`); `[[distribution]]` is the pre-release alias of `[[package]]`.
//! Unknown keys are ignored so newer uv versions still parse; wrong types are
//! errors with the line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{IndexRecord, LineIndex, Lockfile, LockfileError, toml_error};
use crate::package::{Artifact, Hash, Source, SourceKind};

/// The newest lock `version` whose shape customs knows.
const KNOWN_VERSION: i64 = 1;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LockWire {
    version: Option<Spanned<i64>>,
    revision: Option<i64>,
    requires_python: Option<String>,
    #[serde(default)]
    options: OptionsWire,
    #[serde(default)]
    package: Vec<Spanned<PackageWire>>,
    /// Pre-release name of `package`.
    #[serde(default)]
    distribution: Vec<Spanned<PackageWire>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct OptionsWire {
    exclude_newer: Option<Spanned<String>>,
    exclude_newer_span: Option<String>,
    resolution_mode: Option<String>,
    prerelease_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PackageWire {
    name: Spanned<String>,
    version: Option<String>,
    source: Option<SourceWire>,
    sdist: Option<FileWire>,
    #[serde(default)]
    wheels: Vec<FileWire>,
    resolution_markers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct SourceWire {
    registry: Option<String>,
    git: Option<String>,
    url: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileWire {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
    upload_time: Option<toml::Value>,
}

/// Parses a uv lock.
pub fn parse(path: &Path, content: &str) -> Result<Lockfile, LockfileError> {
    let wire: LockWire = toml::from_str(content).map_err(|e| toml_error(path, content, &e))?;
    let lines = LineIndex::new(content);
    let mut lock = Lockfile::default();

    match &wire.version {
        Some(v) if *v.get_ref() > KNOWN_VERSION => {
            return Err(LockfileError::new(
                path,
                Some(lines.line_of(v.span().start)),
                format!(
                    "uv.lock version {} is newer than customs understands (up to {KNOWN_VERSION})",
                    v.get_ref()
                ),
            )
            .with_hint("upgrade customs, or re-lock with a uv release that writes version 1"));
        }
        Some(_) => {}
        None if !content.trim().is_empty()
            && (!wire.package.is_empty() || !wire.distribution.is_empty()) =>
        {
            return Err(LockfileError::new(
                path,
                Some(1),
                "missing the top-level `version` key of a uv.lock",
            )
            .with_hint("is this really a uv.lock? name the file after its format"));
        }
        None => {}
    }
    if let Some(v) = &wire.version {
        lock.options
            .insert("version".into(), v.get_ref().to_string());
    }
    if let Some(r) = wire.revision {
        lock.options.insert("revision".into(), r.to_string());
    }
    if let Some(rp) = &wire.requires_python {
        lock.options.insert("requires-python".into(), rp.clone());
    }
    if let Some(en) = &wire.options.exclude_newer {
        lock.options
            .insert("exclude-newer".into(), en.get_ref().clone());
        lock.exclude_newer = Some(en.get_ref().trim().parse().map_err(|e| {
            LockfileError::new(
                path,
                Some(lines.line_of(en.span().start)),
                format!("`exclude-newer` is not an RFC 3339 timestamp: {e}"),
            )
        })?);
    }
    if let Some(span) = &wire.options.exclude_newer_span {
        lock.options
            .insert("exclude-newer-span".into(), span.clone());
    }
    if let Some(m) = &wire.options.resolution_mode {
        lock.options.insert("resolution-mode".into(), m.clone());
    }
    if let Some(m) = &wire.options.prerelease_mode {
        lock.options.insert("prerelease-mode".into(), m.clone());
    }

    let mut indexes = BTreeMap::new();
    for entry in wire.package.iter().chain(wire.distribution.iter()) {
        let line = lines.header_line(content, entry.span().start);
        let p = entry.get_ref();
        let mut pkg = super::toml_package(path, &lines, &p.name, p.version.as_deref(), line)?;
        pkg.source = match &p.source {
            Some(s) => source(s).ok_or_else(|| {
                LockfileError::new(
                    path,
                    Some(line),
                    "`source` has none of registry, git, url, path, directory, editable, virtual",
                )
            })?,
            None => Source::default_registry(),
        };
        if pkg.source.kind == SourceKind::Registry {
            pkg.index_url.clone_from(&pkg.source.url);
            if let Some(u) = &pkg.source.url {
                indexes.insert(u.clone(), ());
            }
        }
        if let Some(markers) = &p.resolution_markers
            && !markers.is_empty()
        {
            pkg.markers = Some(markers.join(" or "));
        }
        if let Some(sdist) = &p.sdist {
            pkg.artifacts.push(artifact(path, line, sdist, true)?);
        }
        for wheel in &p.wheels {
            pkg.artifacts.push(artifact(path, line, wheel, false)?);
        }
        lock.packages.push(pkg);
    }
    lock.indexes = indexes
        .into_keys()
        .map(|url| IndexRecord {
            url,
            role: "registry".into(),
        })
        .collect();
    Ok(lock)
}

fn source(s: &SourceWire) -> Option<Source> {
    if let Some(url) = &s.registry {
        return Some(Source::new(SourceKind::Registry, Some(url.clone())));
    }
    if let Some(git) = &s.git {
        return Some(git_source(git));
    }
    let pairs = [
        (&s.url, SourceKind::Url),
        (&s.path, SourceKind::Path),
        (&s.directory, SourceKind::Directory),
        (&s.editable, SourceKind::Editable),
        (&s.virtual_, SourceKind::Virtual),
    ];
    pairs
        .into_iter()
        .find_map(|(v, kind)| v.as_ref().map(|u| Source::new(kind, Some(u.clone()))))
}

/// Splits uv's `https://host/repo?rev=main#<sha>` into URL, reference and commit.
pub(crate) fn git_source(raw: &str) -> Source {
    let (rest, commit) = match raw.split_once('#') {
        Some((r, c)) => (r, Some(c.to_string()).filter(|c| !c.is_empty())),
        None => (raw, None),
    };
    let (url, query) = match rest.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (rest, None),
    };
    let reference = query.and_then(|q| {
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            matches!(k, "rev" | "tag" | "branch").then(|| v.to_string())
        })
    });
    let mut s = Source::new(SourceKind::Git, Some(url.to_string()));
    s.reference = reference;
    s.commit = commit;
    s
}

fn artifact(path: &Path, line: u32, f: &FileWire, sdist: bool) -> Result<Artifact, LockfileError> {
    let location = f.url.as_deref().or(f.path.as_deref());
    let filename = f
        .filename
        .clone()
        .or_else(|| location.and_then(filename_from_url));
    let mut a = match filename {
        Some(name) => Artifact::named(name),
        None => Artifact {
            filename: None,
            kind: crate::package::ArtifactKind::Other,
            url: None,
            hashes: Vec::new(),
            upload_time: None,
            size: None,
        },
    };
    if a.filename.is_none() || a.kind == crate::package::ArtifactKind::Other {
        a.kind = if sdist {
            crate::package::ArtifactKind::Sdist
        } else {
            crate::package::ArtifactKind::Wheel
        };
    }
    a.url = location.map(str::to_string);
    if let Some(h) = &f.hash {
        a.hashes.push(Hash::parse(h).ok_or_else(|| {
            LockfileError::new(
                path,
                Some(line),
                format!("invalid hash `{h}`; expected `sha256:<hex>`"),
            )
        })?);
    }
    a.size = f.size;
    if let Some(t) = &f.upload_time {
        a.upload_time = Some(super::pylock::timestamp(t).ok_or_else(|| {
            LockfileError::new(
                path,
                Some(line),
                format!("invalid `upload-time` {t:?}; expected an RFC 3339 time"),
            )
        })?);
    }
    Ok(a)
}

/// The last path segment of a URL or path, percent-decoded, without query or fragment.
pub(crate) fn filename_from_url(url: &str) -> Option<String> {
    let no_frag = url.split(['#', '?']).next().unwrap_or(url);
    let seg = no_frag.rsplit(['/', '\\']).next()?;
    if seg.is_empty() {
        return None;
    }
    Some(super::text::percent_decode(seg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Lockfile {
        parse(Path::new("uv.lock"), text).unwrap()
    }

    const LOCK: &str = r#"version = 1
revision = 3
requires-python = ">=3.9"
resolution-markers = [
    "python_full_version >= '3.10'",
    "python_full_version < '3.10'",
]

[options]
exclude-newer = "2026-09-01T00:00:00Z"
exclude-newer-span = "P7D"

[[package]]
name = "Django"
version = "5.2.1"
source = { registry = "https://index.example/simple" }
sdist = { url = "https://files.example/packages/django-5.2.1.tar.gz", hash = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", size = 100, upload-time = "2026-05-07T14:00:00.123Z" }
wheels = [
    { url = "https://files.example/packages/django-5.2.1-py3-none-any.whl", hash = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", size = 50, upload-time = "2026-05-07T13:59:00Z" },
]

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://index.example/simple" }
resolution-markers = ["python_full_version < '3.10'"]

[[package]]
name = "numpy"
version = "2.3.0"
source = { registry = "https://index.example/simple" }
resolution-markers = ["python_full_version >= '3.10'"]

[[package]]
name = "member"
source = { editable = "packages/member" }

[[package]]
name = "lib"
version = "0.1.0"
source = { git = "https://git.example/org/lib?rev=v0.1#0123456789abcdef0123456789abcdef01234567" }

[[package]]
name = "root"
version = "0.1.0"
source = { virtual = "." }
"#;

    #[test]
    fn registry_git_editable_virtual_and_markers() {
        let lock = p(LOCK);
        let names: Vec<_> = lock
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_ref().map(|v| v.as_str()),
                    p.origin.line,
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("django", Some("5.2.1"), 13),
                ("numpy", Some("2.0.2"), 22),
                ("numpy", Some("2.3.0"), 28),
                ("member", None, 34),
                ("lib", Some("0.1.0"), 38),
                ("root", Some("0.1.0"), 43),
            ]
        );
        let django = &lock.packages[0];
        assert_eq!(django.artifacts.len(), 2);
        assert_eq!(
            django.artifacts[0].filename.as_deref(),
            Some("django-5.2.1.tar.gz")
        );
        assert_eq!(
            django.artifacts[0].kind,
            crate::package::ArtifactKind::Sdist
        );
        assert_eq!(
            django.earliest_upload().unwrap().to_string(),
            "2026-05-07T13:59:00Z"
        );
        assert_eq!(
            django.index_url.as_deref(),
            Some("https://index.example/simple")
        );
        assert_eq!(lock.packages[3].source.kind, SourceKind::Editable);
        let git = &lock.packages[4].source;
        assert_eq!(git.kind, SourceKind::Git);
        assert_eq!(git.url.as_deref(), Some("https://git.example/org/lib"));
        assert_eq!(git.reference.as_deref(), Some("v0.1"));
        assert_eq!(
            git.commit.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(lock.packages[5].source.kind, SourceKind::Virtual);
        assert_eq!(lock.options["exclude-newer-span"], "P7D");
        assert_eq!(
            lock.exclude_newer.unwrap().to_string(),
            "2026-09-01T00:00:00Z"
        );
        assert!(
            lock.packages[1]
                .markers
                .as_deref()
                .unwrap()
                .contains("< '3.10'")
        );
    }

    #[test]
    fn distribution_alias_no_revision_and_empty() {
        let lock = p(
            "version = 1\n\n[[distribution]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = { registry = \"https://index.example/simple\" }\n",
        );
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.packages[0].origin.line, 3);
        assert!(!lock.options.contains_key("revision"));
        assert!(p("").packages.is_empty());
        assert!(
            p("version = 1\nrequires-python = \">=3.12\"\n")
                .packages
                .is_empty()
        );
    }

    #[test]
    fn errors_carry_lines() {
        let e = parse(Path::new("uv.lock"), "version = 1\n[[package]]\nname = 3\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        let e = parse(Path::new("uv.lock"), "version = 2\n").unwrap_err();
        assert!(e.message.contains("newer"), "{e}");
        let e = parse(Path::new("uv.lock"), "version = 1\n[[package]]\nname = \"a\"\nsource = { registry = \"x\" }\nsdist = { hash = \"md5:zz\" }\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = parse(
            Path::new("uv.lock"),
            "version = 1\n[[package]]\nname = \"a b\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(parse(Path::new("uv.lock"), "version = 1\n[[package]\n").is_err());
    }

    #[test]
    fn filenames_from_urls() {
        assert_eq!(
            filename_from_url("https://h/a/b/x-1.0.tar.gz#sha256=00").as_deref(),
            Some("x-1.0.tar.gz")
        );
        assert_eq!(
            filename_from_url("../wheels/x%2B1-1.0-py3-none-any.whl").as_deref(),
            Some("x+1-1.0-py3-none-any.whl")
        );
        assert_eq!(filename_from_url("https://h/"), None);
        assert_eq!(crate::lockfile::text::percent_decode("%"), "%");
        assert_eq!(crate::lockfile::text::percent_decode("a%2"), "a%2");
        assert_eq!(crate::lockfile::text::percent_decode("a%+1"), "a%+1");
    }
}
