//! One requirement: PEP 508 (`name[extras] specifiers ; markers`, `name @ url`)
//! or pip's legacy forms (VCS URLs with `#egg=`, archive URLs, local paths).

use std::path::Path;

use pep440_rs::Operator;
use pep508_rs::{Requirement, VerbatimUrl, VersionOrUrl};

use super::line::Options;
use super::{Entry, hash_artifacts, origin};
use crate::lockfile::LockfileError;
use crate::package::{Artifact, Hash, Package, PackageName, Source, SourceKind, Version};

const VCS_SCHEMES: &[&str] = &["git+", "hg+", "svn+", "bzr+"];
const ARCHIVE_SUFFIXES: &[&str] = &[
    ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip",
];

pub(super) fn requirement(
    path: &Path,
    number: u32,
    text: &str,
    opts: &Options,
    index_url: Option<&str>,
    editable: bool,
) -> Result<Entry, LockfileError> {
    let err = |msg: String| LockfileError::new(path, Some(number), msg);
    let text = text.trim();
    let hashes = hash_artifacts(path, number, &opts.hashes)?;
    let (body, markers) = split_markers(text);
    if let Some(entry) = legacy(path, number, body, markers, editable)? {
        return Ok(with_hashes(entry, hashes));
    }
    if editable {
        return Err(
            err(format!("`-e {text}` is neither a local path nor a VCS URL")).with_hint(
                "editable installs take `-e ./path` or `-e git+https://host/repo@rev#egg=name`",
            ),
        );
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    precheck(text).map_err(|m| err(format!("invalid requirement `{text}`: {m}")))?;
    // pep508_rs 0.9 panics on a few inputs its own grammar rejects (names and
    // extras ending in `-`); `precheck` rejects those first, and a panic that
    // slips through is still turned into an error, never a crash.
    let parsed = std::panic::catch_unwind(|| Requirement::<VerbatimUrl>::parse(text, dir))
        .map_err(|_| {
            err(format!(
                "invalid requirement `{text}`: the PEP 508 parser rejected it"
            ))
        })?;
    // Only the message: pep508_rs's full Display slices the input by byte
    // offsets and panics inside multi-byte characters (found by fuzzing).
    let req = parsed.map_err(|e| {
        err(format!(
            "invalid requirement `{text}`: {}",
            first_line(&e.message.to_string())
        ))
    })?;
    let name = PackageName::new(req.name.as_ref()).map_err(|e| err(e.to_string()))?;
    let mut pkg = Package::new(name, None, origin(path, number));
    pkg.extras = req.extras.iter().map(ToString::to_string).collect();
    pkg.markers = req.marker.try_to_string();
    let mut entry = match &req.version_or_url {
        None => {
            pkg.index_url = index_url.map(str::to_string);
            pkg.requirement = Some(text.to_string());
            Entry {
                why: format!(
                    "`{}` has no version: any release can be installed",
                    pkg.name
                ),
                package: pkg,
                pinned: false,
            }
        }
        Some(VersionOrUrl::VersionSpecifier(specs)) => {
            pkg.index_url = index_url.map(str::to_string);
            let exact: Vec<_> = specs
                .iter()
                .filter(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual))
                .collect();
            if specs.len() == 1 && exact.len() == 1 {
                let raw = pinned_text(body).unwrap_or_else(|| exact[0].version().to_string());
                pkg.version = Some(Version::new(&raw));
                Entry {
                    package: pkg,
                    pinned: true,
                    why: String::new(),
                }
            } else {
                pkg.requirement = Some(specs.to_string());
                Entry {
                    why: format!("`{}{}` does not pin one version", pkg.name, specs),
                    package: pkg,
                    pinned: false,
                }
            }
        }
        Some(VersionOrUrl::Url(url)) => {
            let given = url
                .given()
                .unwrap_or_else(|| url.raw().as_str())
                .to_string();
            url_entry(pkg, &given)
        }
    };
    entry = with_hashes(entry, hashes);
    Ok(entry)
}

/// Rejects what pep508_rs 0.9 panics on instead of returning an error: names
/// and extras that end in `-`, `_` or `.`, and non-ASCII text.
fn precheck(text: &str) -> Result<(), String> {
    // pep508_rs 0.9 slices its input by byte offsets in places and panics on
    // multi-byte characters; names, versions and markers are ASCII in practice.
    if let Some(c) = text.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "non-ASCII character `{}` in a requirement; write URLs percent-encoded",
            c.escape_debug()
        ));
    }
    let t = text.trim_start();
    let name_len = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(t.len());
    let name = &t[..name_len];
    if name.ends_with(['-', '_', '.']) {
        return Err(format!("the name `{name}` must end with a letter or digit"));
    }
    let rest = t[name_len..].trim_start();
    if let Some(inner) = rest.strip_prefix('[') {
        let inner = inner.split(']').next().unwrap_or(inner);
        for extra in inner.split(',').map(str::trim) {
            let word = extra.split_whitespace().next().unwrap_or("");
            if word.ends_with(['-', '_', '.']) {
                return Err(format!(
                    "the extra `{word}` must end with a letter or digit"
                ));
            }
        }
    }
    Ok(())
}

/// The version exactly as written after `==`/`===` (kept for display: `3.2.3-2`).
fn pinned_text(body: &str) -> Option<String> {
    let pos = body.find("==")?;
    let rest = body[pos..].trim_start_matches('=');
    let v: String = rest
        .trim()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ';')
        .collect();
    (!v.is_empty()).then_some(v)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

fn with_hashes(mut entry: Entry, hashes: Vec<Artifact>) -> Entry {
    if hashes.is_empty() {
        return entry;
    }
    let kind = entry.package.source.kind;
    if matches!(kind, SourceKind::Url | SourceKind::Path)
        && !entry.pinned
        && entry.package.artifacts.len() <= 1
    {
        // A URL requirement pinned by --hash: the hash belongs to that archive.
        if let Some(a) = entry.package.artifacts.first_mut() {
            a.hashes.extend(hashes.into_iter().flat_map(|h| h.hashes));
        } else {
            entry.package.artifacts.extend(hashes);
        }
        entry.pinned = true;
        entry.why.clear();
        return entry;
    }
    entry.package.artifacts.extend(hashes);
    entry
}

/// Splits `body ; markers` (for URLs pip needs whitespace before the `;`).
fn split_markers(text: &str) -> (&str, Option<&str>) {
    let looks_like_url = text.contains("://") || VCS_SCHEMES.iter().any(|s| text.starts_with(s));
    let found = if looks_like_url {
        text.find(" ;").map(|i| (i, 2))
    } else {
        text.find(';').map(|i| (i, 1))
    };
    match found {
        Some((i, len)) => (text[..i].trim(), Some(text[i + len..].trim())),
        None => (text, None),
    }
}

/// pip's forms that are not PEP 508: VCS URLs, bare archive URLs, local paths.
fn legacy(
    path: &Path,
    number: u32,
    body: &str,
    markers: Option<&str>,
    editable: bool,
) -> Result<Option<Entry>, LockfileError> {
    let err = |msg: String| LockfileError::new(path, Some(number), msg);
    if body.contains(" @ ") || (body.contains('@') && !body.contains("://") && !is_pathlike(body)) {
        return Ok(None);
    }
    let is_vcs = VCS_SCHEMES.iter().any(|s| body.starts_with(s));
    let is_url = body.contains("://") || body.starts_with("file:");
    // `-e` takes a path or a VCS URL: a bare word is a path when that
    // directory exists (pip's rule), else the error below.
    let is_path = !is_url
        && !is_vcs
        && (is_pathlike(body) || editable && existing_dir(path, split_local_extras(body).0));
    if !(is_vcs || is_url || is_path) {
        return Ok(None);
    }
    let (location, fragment) = match body.split_once('#') {
        Some((l, f)) => (l, Some(f)),
        None => (body, None),
    };
    let egg = fragment.and_then(|f| {
        f.split('&').find_map(|kv| {
            kv.strip_prefix("egg=")
                .map(|n| n.split('[').next().unwrap_or(n).to_string())
        })
    });
    let fragment_hash = fragment.and_then(|f| {
        f.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Hash::parse(&format!("{k}:{v}"))
        })
    });
    if !is_vcs && (is_path || location.starts_with("file:")) {
        return local_entry(
            path,
            number,
            location,
            egg,
            fragment_hash,
            markers,
            editable,
        )
        .map(Some);
    }
    let filename = crate::lockfile::uv::filename_from_url(location);
    let name = egg.or_else(|| filename.as_deref().and_then(name_from_filename));
    let Some(name) = name else {
        return Err(err(format!("cannot tell the project name of `{body}`"))
            .with_hint("write it as `name @ url`, or add `#egg=name`"));
    };
    let name = PackageName::new(&name).map_err(|e| err(e.to_string()))?;
    let mut pkg = Package::new(name, None, origin(path, number));
    pkg.markers = markers.map(str::to_string);
    if is_vcs {
        return Ok(Some(vcs_entry(pkg, location, editable)));
    }
    let mut entry = url_entry(pkg, location);
    if let Some(h) = fragment_hash {
        if let Some(a) = entry.package.artifacts.first_mut() {
            a.hashes.push(h);
        }
        entry.pinned = true;
        entry.why.clear();
    }
    Ok(Some(entry))
}

/// A local source pip accepts: `.`, `./dir[extra]`, `-e file:.`,
/// `file:///abs/path`, `dist/pkg-1.0-py3-none-any.whl`. It is the project's
/// own code, never checked against the index; its name is the `#egg=` name,
/// the archive's project name, or the directory's name.
fn local_entry(
    path: &Path,
    number: u32,
    location: &str,
    egg: Option<String>,
    fragment_hash: Option<Hash>,
    markers: Option<&str>,
    editable: bool,
) -> Result<Entry, LockfileError> {
    let err = |msg: String| LockfileError::new(path, Some(number), msg);
    let local = location
        .strip_prefix("file://localhost/")
        .map(|rest| format!("/{rest}"))
        .or_else(|| location.strip_prefix("file://").map(str::to_string))
        .or_else(|| location.strip_prefix("file:").map(str::to_string))
        .map_or_else(
            || location.to_string(),
            |l| crate::lockfile::text::percent_decode(&l),
        );
    let (local, extras) = split_local_extras(&local);
    let filename = is_archive(local)
        .then(|| crate::lockfile::uv::filename_from_url(local))
        .flatten();
    let name = egg
        .or_else(|| filename.as_deref().and_then(name_from_filename))
        .or_else(|| local_dir_name(path, local))
        .and_then(|n| PackageName::new(&n).ok().or_else(|| sanitized_name(&n)));
    let name = match name {
        Some(n) => n,
        None => PackageName::new("local-project").map_err(|e| err(e.to_string()))?,
    };
    let mut pkg = Package::new(name, None, origin(path, number));
    pkg.markers = markers.map(str::to_string);
    pkg.extras = extras;
    let kind = if editable {
        SourceKind::Editable
    } else if is_archive(local) {
        SourceKind::Path
    } else {
        SourceKind::Directory
    };
    pkg.source = Source::new(kind, Some(local.to_string()));
    if kind == SourceKind::Path {
        if let Some(f) = &filename {
            let mut a = Artifact::named(f.clone());
            a.url = Some(local.to_string());
            a.hashes.extend(fragment_hash);
            pkg.artifacts.push(a);
        }
        pkg.version = filename
            .as_deref()
            .and_then(version_from_filename)
            .map(|v| Version::new(&v));
    }
    // Local code is the project's own: nothing to pin.
    Ok(Entry {
        package: pkg,
        pinned: true,
        why: String::new(),
    })
}

/// Whether `dir` is an existing directory, relative to the requirements file.
fn existing_dir(requirements: &Path, dir: &str) -> bool {
    let base = requirements.parent().unwrap_or(Path::new(""));
    base.join(dir).is_dir()
}

/// `./dir[a,b]` -> (`./dir`, [a, b]).
fn split_local_extras(local: &str) -> (&str, Vec<String>) {
    if let Some(stripped) = local.strip_suffix(']')
        && let Some((dir, extras)) = stripped.rsplit_once('[')
    {
        let extras = extras
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect();
        return (dir, extras);
    }
    (local, Vec::new())
}

/// The name of a local directory: its last component, or for `.` and `..`
/// the name of the directory they resolve to (from the requirements file's
/// directory, as pip resolves them when run beside it).
fn local_dir_name(requirements: &Path, local: &str) -> Option<String> {
    if let Some(name) = dir_name(local) {
        return Some(name);
    }
    let base = requirements.parent().unwrap_or(Path::new(""));
    let joined = if Path::new(local).is_absolute() {
        std::path::PathBuf::from(local)
    } else {
        base.join(local)
    };
    let resolved = std::fs::canonicalize(&joined).ok()?;
    resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

/// A directory name made into a project name (`My Project` -> `My-Project`).
fn sanitized_name(raw: &str) -> Option<PackageName> {
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    PackageName::new(cleaned.trim_matches(['-', '.', '_'])).ok()
}

/// A VCS requirement: pinned only by a full commit hash.
fn vcs_entry(mut pkg: Package, location: &str, editable: bool) -> Entry {
    let (url, reference) = split_vcs_ref(location);
    let kind = if editable {
        SourceKind::Editable
    } else {
        SourceKind::Git
    };
    let mut source = Source::new(kind, Some(url.to_string()));
    source.commit = reference.clone().filter(|r| is_full_sha(r));
    source.reference = reference;
    let pinned = source.commit.is_some();
    pkg.source = source;
    Entry {
        why: if pinned {
            String::new()
        } else {
            format!(
                "`{}` comes from a VCS reference that is not a full commit hash: it can move",
                pkg.name
            )
        },
        package: pkg,
        pinned,
    }
}

fn url_entry(mut pkg: Package, url: &str) -> Entry {
    if VCS_SCHEMES.iter().any(|s| url.starts_with(s)) {
        return vcs_entry(pkg, url.split('#').next().unwrap_or(url), false);
    }
    let (location, fragment) = match url.split_once('#') {
        Some((l, f)) => (l, Some(f)),
        None => (url, None),
    };
    let local = location.starts_with("file:");
    pkg.source = Source::new(
        if local {
            if is_archive(location) {
                SourceKind::Path
            } else {
                SourceKind::Directory
            }
        } else {
            SourceKind::Url
        },
        Some(location.to_string()),
    );
    let filename = crate::lockfile::uv::filename_from_url(location);
    let mut pinned = local;
    if let Some(f) = filename.filter(|f| is_archive(f)) {
        let mut a = Artifact::named(f.clone());
        a.url = Some(location.to_string());
        if let Some(h) = fragment.and_then(|fr| {
            fr.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Hash::parse(&format!("{k}:{v}"))
            })
        }) {
            a.hashes.push(h);
            pinned = true;
        }
        pkg.version = version_from_filename(&f).map(|v| Version::new(&v));
        pkg.artifacts.push(a);
    }
    Entry {
        why: if pinned {
            String::new()
        } else {
            format!(
                "`{}` comes from a URL with no hash: its content can change",
                pkg.name
            )
        },
        package: pkg,
        pinned,
    }
}

/// `git+https://host/repo@v1.0` -> (`git+https://host/repo`, `v1.0`); the `@`
/// of credentials (`user@host`) is not a reference.
fn split_vcs_ref(location: &str) -> (&str, Option<String>) {
    let path_start = location.find("://").map_or(0, |i| i + 3);
    let after_host = location[path_start..]
        .find('/')
        .map_or(location.len(), |i| path_start + i);
    match location[after_host..].rfind('@') {
        Some(i) => {
            let at = after_host + i;
            (
                &location[..at],
                Some(location[at + 1..].to_string()).filter(|r| !r.is_empty()),
            )
        }
        None => (location, None),
    }
}

fn is_full_sha(r: &str) -> bool {
    (r.len() == 40 || r.len() == 64) && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_pathlike(s: &str) -> bool {
    s.starts_with('.')
        || s.starts_with('/')
        || s.starts_with('~')
        || s.contains('/')
        || s.contains('\\')
        || is_archive(s)
}

fn is_archive(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ARCHIVE_SUFFIXES.iter().any(|suf| lower.ends_with(suf))
}

fn dir_name(p: &str) -> Option<String> {
    let trimmed = p.trim_end_matches(['/', '\\']);
    let last = trimmed.rsplit(['/', '\\']).next()?;
    (!last.is_empty() && last != "." && last != "..").then(|| last.to_string())
}

/// The project name in a wheel or sdist file name.
fn name_from_filename(f: &str) -> Option<String> {
    let lower = f.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        return f.split('-').next().map(str::to_string);
    }
    let stem = strip_archive(f)?;
    stem.rsplit_once('-').map(|(n, _)| n.to_string())
}

fn version_from_filename(f: &str) -> Option<String> {
    if f.to_ascii_lowercase().ends_with(".whl") {
        return f.split('-').nth(1).map(str::to_string);
    }
    let stem = strip_archive(f)?;
    stem.rsplit_once('-').map(|(_, v)| v.to_string())
}

fn strip_archive(f: &str) -> Option<&str> {
    let lower = f.to_ascii_lowercase();
    ARCHIVE_SUFFIXES
        .iter()
        .find(|s| lower.ends_with(*s))
        .map(|s| &f[..f.len() - s.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_references() {
        assert_eq!(
            split_vcs_ref("git+https://h/r@v1"),
            ("git+https://h/r", Some("v1".into()))
        );
        assert_eq!(
            split_vcs_ref("git+https://u:p@h/r"),
            ("git+https://u:p@h/r", None)
        );
        assert_eq!(
            split_vcs_ref("git+ssh://git@h/r.git@abc"),
            ("git+ssh://git@h/r.git", Some("abc".into()))
        );
    }

    #[test]
    fn names_from_files() {
        assert_eq!(
            name_from_filename("Foo_Bar-1.0-py3-none-any.whl").as_deref(),
            Some("Foo_Bar")
        );
        assert_eq!(
            name_from_filename("foo-bar-1.0.tar.gz").as_deref(),
            Some("foo-bar")
        );
        assert_eq!(
            version_from_filename("foo-bar-1.0.tar.gz").as_deref(),
            Some("1.0")
        );
        assert_eq!(name_from_filename("README"), None);
    }

    #[test]
    fn inputs_that_crash_pep508_rs_are_errors() {
        assert!(precheck("python- ==1").is_err());
        assert!(precheck("a[b-] ==1").is_err());
        assert!(precheck("a[b-,c] ==1").is_err());
        assert!(precheck("a[b, c]==1").is_ok());
        assert!(precheck("python-dateutil==2").is_ok());
        assert!(precheck("requests ; python_version >= \"3.\u{3cc}\"").is_err());
        let opts = Options::default();
        for text in [
            "python- ==1",
            "x[y_]",
            "foo. ;python_version>'3'",
            "jjjjb2d7182edaf178a7fbc93edbb[2d71.0 \u{feff}",
        ] {
            assert!(
                requirement(Path::new("r.txt"), 1, text, &opts, None, false).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn pinned_text_keeps_the_written_form() {
        assert_eq!(pinned_text("pkg==3.2.3-2").as_deref(), Some("3.2.3-2"));
        assert_eq!(
            pinned_text("pkg === 1.0 ; python_version > '3'").as_deref(),
            Some("1.0")
        );
    }
}
