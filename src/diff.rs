//! `audit --diff-base REF`: what a change to the lockfiles brings. Each
//! lockfile is read as it is at the git revision REF (the base of a pull
//! request) and as it is now; packages added, upgraded, downgraded, removed
//! or re-pointed (same version, other bytes or another source) are the
//! change, and only findings on them count.
//!
//! The base is read with the git command line (`git show REF:./FILE`), which
//! never writes to the repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::lockfile::{self, Format, ParseOptions};
use crate::package::{Package, SourceKind};

/// Why the base could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The revision is not one git knows.
    #[error("--diff-base {reference}: {message}")]
    Revision {
        /// The revision as given.
        reference: String,
        /// What git said.
        message: String,
    },
    /// git could not be run, or failed otherwise.
    #[error(
        "--diff-base: {0}\n  hint: the base revision is read with the git command line, in the lockfile's repository"
    )]
    Git(String),
    /// The lockfile at the base revision does not parse.
    #[error("{path} at {reference}: {source}")]
    Parse {
        /// The lockfile.
        path: String,
        /// The revision.
        reference: String,
        /// The parse error.
        source: Box<lockfile::LockfileError>,
    },
}

/// What happened to a package between the base and now.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Not in the base.
    Added,
    /// A higher version than the base's.
    Upgraded,
    /// A lower (or not comparable) version than the base's.
    Downgraded,
    /// The same version with other bytes or another source.
    Repointed,
    /// The same version, with files added to or removed from its pins.
    FilesChanged,
    /// In the base, not now.
    Removed,
}

impl ChangeKind {
    /// The word the summaries use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Upgraded => "upgraded",
            Self::Downgraded => "downgraded",
            Self::Repointed => "re-pointed",
            Self::FilesChanged => "files changed",
            Self::Removed => "removed",
        }
    }
}

/// One changed package of one lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The normalised name.
    pub name: String,
    /// The version at the base (none when added).
    pub from: Option<String>,
    /// The version now (none when removed).
    pub to: Option<String>,
    /// The lockfile, as displayed.
    pub lockfile: String,
    /// The package's line now (at the base for a removal).
    pub line: u32,
}

/// The change of every lockfile read.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    /// The revision compared with.
    pub base: String,
    /// The changed packages, sorted by lockfile, name and kind.
    pub changes: Vec<Change>,
    /// The files compared (lockfiles and the files they include), as displayed.
    pub files: Vec<String>,
}

impl Diff {
    /// Whether a package (by lockfile, name and version) is part of the
    /// change: added, upgraded, downgraded, re-pointed or with changed files.
    pub fn changed(&self, lockfile: &str, name: &str, version: Option<&str>) -> bool {
        // Packages of files not compared (an environment) are all judged.
        if !self.files.iter().any(|f| f == lockfile) {
            return true;
        }
        self.changes.iter().any(|c| {
            c.kind != ChangeKind::Removed
                && c.lockfile == lockfile
                && c.name == name
                && c.to.as_deref() == version
        })
    }
}

/// Runs git in `dir` with a scrubbed, read-only environment.
fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, DiffError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never write, never prompt, never page.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .output()
        .map_err(|e| DiffError::Git(format!("cannot run git: {e}")))
}

fn stderr_of(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let text = text.trim();
    if text.is_empty() {
        format!("git exited with {}", out.status)
    } else {
        text.lines().collect::<Vec<_>>().join("; ")
    }
}

/// Checks that `reference` names a commit in the repository of `dir`.
pub fn check_revision(dir: &Path, reference: &str) -> Result<(), DiffError> {
    if reference.is_empty() || reference.starts_with('-') {
        return Err(DiffError::Revision {
            reference: reference.to_string(),
            message: "not a revision (a revision does not start with `-`)".into(),
        });
    }
    let out = git(
        dir,
        &["rev-parse", "--verify", &format!("{reference}^{{commit}}")],
    )?;
    if out.status.success() {
        Ok(())
    } else {
        Err(DiffError::Revision {
            reference: reference.to_string(),
            message: stderr_of(&out),
        })
    }
}

/// The text of `path` at `reference`; `None` when the file did not exist there.
pub fn text_at(path: &Path, reference: &str) -> Result<Option<String>, DiffError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_revision(dir, reference)?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let spec = format!("{reference}:./{file}");
    let exists = git(dir, &["cat-file", "-e", &spec])?;
    if !exists.status.success() {
        return Ok(None);
    }
    let out = git(dir, &["show", &spec])?;
    if !out.status.success() {
        return Err(DiffError::Git(stderr_of(&out)));
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The packages of `path` at `reference`, parsed as `format`; `None` when
/// the file did not exist there (every package is new).
pub fn packages_at(
    path: &Path,
    reference: &str,
    format: Format,
    options: &ParseOptions,
) -> Result<Option<Vec<Package>>, DiffError> {
    let Some(text) = text_at(path, reference)? else {
        return Ok(None);
    };
    lockfile::parse(path, format, &text, options)
        .map(|lock| Some(lock.packages))
        .map_err(|source| DiffError::Parse {
            path: crate::report::display_path(path),
            reference: reference.to_string(),
            source: Box::new(source),
        })
}

/// Sha256 digests by file name (files the lockfile names), and the
/// digests of files it does not name.
fn pins(p: &Package) -> (BTreeMap<String, String>, BTreeSet<String>) {
    let mut named = BTreeMap::new();
    let mut bare = BTreeSet::new();
    for a in &p.artifacts {
        let Some(sha) = a.sha256() else { continue };
        match &a.filename {
            Some(f) => {
                named.insert(f.clone(), sha.to_string());
            }
            None => {
                bare.insert(sha.to_string());
            }
        }
    }
    (named, bare)
}

/// Where a package comes from, for comparing: the kind and the address
/// (an index the lockfile names, a URL, a path, a repository and commit).
fn origin_of(p: &Package) -> (SourceKind, Option<String>, Option<String>) {
    let url = p
        .source
        .url
        .clone()
        .or_else(|| p.index_url.clone())
        .map(|u| u.trim_end_matches('/').to_string());
    (p.source.kind, url, p.source.commit.clone())
}

/// How the pins of the same release differ: a re-pointing (with the
/// finding's severity and what changed), files only added or removed, or
/// nothing.
enum PinChange {
    Same,
    Files,
    Repointed(Severity, String),
}

fn pin_change(base: &Package, now: &Package, reference: &str) -> PinChange {
    let (base_origin, now_origin) = (origin_of(base), origin_of(now));
    if base_origin != now_origin {
        let show = |o: &(SourceKind, Option<String>, Option<String>)| {
            let mut s = format!("{:?}", o.0).to_ascii_lowercase();
            if let Some(u) = &o.1 {
                s.push(' ');
                s.push_str(&crate::report::redact_url(u));
            }
            if let Some(c) = &o.2 {
                s.push_str(&format!(" @ {c}"));
            }
            s
        };
        return PinChange::Repointed(
            Severity::High,
            format!(
                "its source changed ({} at {reference}, now {})",
                show(&base_origin),
                show(&now_origin)
            ),
        );
    }
    let (base_named, base_bare) = pins(base);
    let (now_named, now_bare) = pins(now);
    for (file, was) in &base_named {
        if let Some(is) = now_named.get(file)
            && is != was
        {
            return PinChange::Repointed(
                Severity::Critical,
                format!(
                    "the hash of {file} changed (sha256:{} at {reference}, now sha256:{})",
                    &was[..12.min(was.len())],
                    &is[..12.min(is.len())]
                ),
            );
        }
    }
    let gone = base_bare.difference(&now_bare).count();
    let new = now_bare.difference(&base_bare).count();
    if gone > 0 && new > 0 {
        return PinChange::Repointed(
            Severity::High,
            format!("{gone} of its hashes at {reference} were replaced by {new} others"),
        );
    }
    // A file added under the same version from a host none of the base's
    // files came from: the pin now reaches for bytes somewhere else.
    let hosts = |p: &Package| -> BTreeSet<String> {
        p.artifacts
            .iter()
            .filter_map(|a| a.url.as_deref())
            .filter_map(|u| url::Url::parse(u).ok())
            .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
            .collect()
    };
    let (base_hosts, now_hosts) = (hosts(base), hosts(now));
    if let Some(host) = now_hosts.difference(&base_hosts).next()
        && !base_hosts.is_empty()
    {
        return PinChange::Repointed(
            Severity::High,
            format!(
                "a file of it now comes from {host}, a host none of its files at {reference} came from"
            ),
        );
    }
    if base_named.keys().ne(now_named.keys()) || gone + new > 0 {
        return PinChange::Files;
    }
    PinChange::Same
}

/// The changes of one lockfile (`lockfile` as displayed) from `base` (none:
/// the file is new) to `now`, and a `repointed-pin` finding for each
/// re-pointed release.
pub fn compare(
    lockfile: &str,
    base: Option<&[Package]>,
    now: &[Package],
    reference: &str,
) -> (Vec<Change>, Vec<Finding>) {
    let version = |p: &Package| p.version.as_ref().map(|v| v.as_str().to_string());
    let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
    for p in base.unwrap_or_default() {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    for p in now {
        let name = p.name.as_str();
        let change = |kind, from: Option<String>| Change {
            kind,
            name: name.to_string(),
            from,
            to: version(p),
            lockfile: lockfile.to_string(),
            line: p.origin.line,
        };
        let Some(before) = by_name.get(name) else {
            changes.push(change(ChangeKind::Added, None));
            continue;
        };
        // The same version from the same place first (a package locked from
        // two indexes is two entries), else the same version.
        let same = before
            .iter()
            .find(|b| version(b) == version(p) && origin_of(b) == origin_of(p))
            .or_else(|| before.iter().find(|b| version(b) == version(p)));
        if let Some(same) = same {
            match pin_change(same, p, reference) {
                PinChange::Same => {}
                PinChange::Files => changes.push(change(ChangeKind::FilesChanged, version(p))),
                PinChange::Repointed(severity, what) => {
                    changes.push(change(ChangeKind::Repointed, version(p)));
                    findings.push(
                        Finding::for_package(RuleId::RepointedPin, p)
                            .severity(severity)
                            .confidence(Confidence::High)
                            .evidence("base", reference.to_string())
                            .message(format!(
                                "{} {}: {what} while its version did not",
                                p.name,
                                version(p).unwrap_or_default()
                            )),
                    );
                }
            }
            continue;
        }
        // Another version than any the base locked: up or down from the
        // highest of them.
        let highest = before.iter().filter_map(|b| b.version.as_ref()).max();
        let kind = match (highest, p.version.as_ref()) {
            (Some(h), Some(v)) if v > h => ChangeKind::Upgraded,
            _ => ChangeKind::Downgraded,
        };
        let from: Vec<String> = before.iter().filter_map(|b| version(b)).collect();
        changes.push(change(kind, (!from.is_empty()).then(|| from.join(", "))));
    }
    for (name, before) in &by_name {
        // A name still locked lost a version only when no new version of
        // it came in (that is an upgrade or a downgrade, from all of them).
        let moved = changes.iter().any(|c: &Change| {
            c.name == *name && matches!(c.kind, ChangeKind::Upgraded | ChangeKind::Downgraded)
        });
        if moved {
            continue;
        }
        let kept: BTreeSet<Option<String>> = now
            .iter()
            .filter(|p| p.name.as_str() == *name)
            .map(version)
            .collect();
        for b in before.iter().filter(|b| !kept.contains(&version(b))) {
            changes.push(Change {
                kind: ChangeKind::Removed,
                name: (*name).to_string(),
                from: version(b),
                to: None,
                lockfile: lockfile.to_string(),
                line: b.origin.line,
            });
        }
    }
    changes.sort_by(|a, b| {
        (&a.lockfile, &a.name, a.kind, &a.to).cmp(&(&b.lockfile, &b.name, b.kind, &b.to))
    });
    (changes, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Artifact, ArtifactKind, Hash, Origin, PackageName, Source, Version};

    fn pkg(name: &str, version: &str, line: u32, files: &[(Option<&str>, char)]) -> Package {
        let mut p = Package::new(
            PackageName::new(name).unwrap(),
            Some(Version::new(version)),
            Origin {
                file: "uv.lock".into(),
                line,
            },
        );
        p.artifacts = files
            .iter()
            .map(|(f, c)| Artifact {
                filename: f.map(str::to_string),
                kind: f.map_or(ArtifactKind::Other, ArtifactKind::from_filename),
                url: None,
                hashes: vec![
                    Hash::sha256(&std::iter::repeat_n(*c, 64).collect::<String>()).unwrap(),
                ],
                upload_time: None,
                size: None,
            })
            .collect();
        p
    }

    fn kinds(base: &[Package], now: &[Package]) -> Vec<(String, ChangeKind)> {
        compare("uv.lock", Some(base), now, "main")
            .0
            .into_iter()
            .map(|c| (format!("{} {:?}->{:?}", c.name, c.from, c.to), c.kind))
            .collect()
    }

    #[test]
    fn two_versions_of_one_name_and_files_only_added_or_removed() {
        let w = Some("a-1.0-py3-none-any.whl");
        let w2 = Some("a-1.0-cp313-cp313-win_amd64.whl");
        // Two versions locked side by side (per Python version); one goes.
        let base = [pkg("a", "1.0", 1, &[(w, 'a')]), pkg("a", "2.0", 9, &[])];
        let now = [pkg("a", "2.0", 1, &[])];
        assert_eq!(
            kinds(&base, &now),
            [("a Some(\"1.0\")->None".to_string(), ChangeKind::Removed)]
        );
        // A wheel added to the same release: a change of files, no finding.
        let now = [pkg("a", "1.0", 1, &[(w, 'a'), (w2, 'b')])];
        let (changes, findings) = compare("uv.lock", Some(&base[..1]), &now, "main");
        assert_eq!(changes[0].kind, ChangeKind::FilesChanged);
        assert!(findings.is_empty());
        // A downgrade is its own kind.
        assert_eq!(
            kinds(&[pkg("b", "2.0", 1, &[])], &[pkg("b", "1.5", 1, &[])]),
            [(
                "b Some(\"2.0\")->Some(\"1.5\")".to_string(),
                ChangeKind::Downgraded
            )]
        );
        // Nothing changed: no change.
        assert!(kinds(&base, &base).is_empty());
    }

    #[test]
    fn one_release_from_two_indexes_is_not_repointed_and_a_new_host_is() {
        let mut a = pkg("torch", "2.5.1", 1, &[]);
        a.index_url = Some("https://index.example/simple".into());
        let mut b = pkg("torch", "2.5.1", 9, &[]);
        b.index_url = Some("https://download.example/whl".into());
        let both = [a, b];
        let (changes, findings) = compare("uv.lock", Some(&both), &both, "main");
        assert!(changes.is_empty() && findings.is_empty(), "{changes:?}");
        // A file added under the same version, from another host.
        let mut base = pkg("e", "1.0", 1, &[(Some("e-1.0-py3-none-any.whl"), 'a')]);
        base.artifacts[0].url = Some("https://files.example/e-1.0-py3-none-any.whl".into());
        let mut now = base.clone();
        let mut extra = now.artifacts[0].clone();
        extra.filename = Some("e-1.0-1-py3-none-any.whl".into());
        extra.url = Some("https://elsewhere.example/e-1.0-1-py3-none-any.whl".into());
        now.artifacts.push(extra);
        let (changes, findings) = compare("uv.lock", Some(&[base]), &[now], "main");
        assert_eq!(changes[0].kind, ChangeKind::Repointed);
        assert!(
            findings[0].message.contains("elsewhere.example"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn another_source_for_the_same_version_is_repointed() {
        let base = [pkg("c", "1.0", 1, &[])];
        let mut moved = pkg("c", "1.0", 1, &[]);
        moved.source = Source::new(
            SourceKind::Url,
            Some("https://files.example/c.tar.gz".into()),
        );
        let (changes, findings) = compare("uv.lock", Some(&base), &[moved], "main");
        assert_eq!(changes[0].kind, ChangeKind::Repointed);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0].message.contains("its source changed"),
            "{}",
            findings[0].message
        );
        // A requirement whose hashes were only trimmed is not re-pointed.
        let base = [pkg("d", "1.0", 1, &[(None, '1'), (None, '2')])];
        let now = [pkg("d", "1.0", 1, &[(None, '1')])];
        let (changes, findings) = compare("r.txt", Some(&base), &now, "main");
        assert_eq!(changes[0].kind, ChangeKind::FilesChanged);
        assert!(findings.is_empty());
    }
}
