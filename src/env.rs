//! `audit --env PATH`: an installed environment (a virtual environment, a
//! `site-packages` directory, an unpacked container filesystem). Found from
//! its layout, never by running its interpreter (its `.pth` files would
//! run). Every installed distribution becomes a package for the index and
//! advisory checks; what is installed is scanned in place, read-only: the
//! files each `RECORD` lists, every `.pth`, `sitecustomize` and
//! `usercustomize`; files whose hash differs from their `RECORD` and code in
//! the site directories that no distribution owns are findings.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::finding::{Confidence, Finding, Location, RuleId, Severity};
use crate::package::{Origin, Package, PackageName, Source, SourceKind, Version};

/// The environment cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// No site directory where one was looked for.
    #[error(
        "{0}: no site-packages found (looked for pyvenv.cfg, lib/pythonX.Y/site-packages, Lib/site-packages and *.dist-info)\n  hint: name a virtual environment, a site-packages directory, or the root of an unpacked container filesystem"
    )]
    NoSite(String),
    /// A directory could not be listed.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// What failed.
        message: String,
    },
}

/// The largest installed file read for the scan or the RECORD check.
const MAX_FILE: u64 = 64 << 20;

/// What an environment holds and what was found in it.
#[derive(Debug, Default)]
pub struct Installed {
    /// Every installed distribution, as a package (its origin: the
    /// `METADATA` file, at the `Version:` line).
    pub packages: Vec<Package>,
    /// Findings of the installed files: the scan, modified files, unowned code.
    pub findings: Vec<Finding>,
    /// The site directories read.
    pub site_dirs: Vec<PathBuf>,
    /// Files read for the scan.
    pub files_scanned: usize,
}

/// The site directories of an environment at `root`.
pub fn site_dirs(root: &Path) -> Result<Vec<PathBuf>, EnvError> {
    let has_dist_info = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().to_string();
                n.ends_with(".dist-info") || n.ends_with(".egg-info")
            })
        })
    };
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name == "site-packages" || name == "dist-packages" || has_dist_info(root) {
        return Ok(vec![root.to_path_buf()]);
    }
    // A virtual environment (`pyvenv.cfg`), or a filesystem root: the usual
    // places of site directories, for any Python version.
    let mut found = BTreeSet::new();
    let bases = [
        "lib",
        "lib64",
        "Lib",
        "usr/lib",
        "usr/local/lib",
        "usr/lib64",
        "opt/venv/lib",
    ];
    for base in bases {
        let base = root.join(base);
        if base.join("site-packages").is_dir() {
            found.insert(base.join("site-packages"));
        }
        let Ok(rd) = std::fs::read_dir(&base) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("python") {
                for site in ["site-packages", "dist-packages"] {
                    let d = e.path().join(site);
                    if d.is_dir() {
                        found.insert(d);
                    }
                }
            }
        }
    }
    // Distinct directories only (lib64 is often a link to lib).
    let mut seen = BTreeSet::new();
    let dirs: Vec<PathBuf> = found
        .into_iter()
        .filter(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())))
        .collect();
    if dirs.is_empty() {
        return Err(EnvError::NoSite(root.display().to_string()));
    }
    Ok(dirs)
}

/// One installed distribution.
struct Dist {
    name: String,
    version: String,
    /// The metadata directory, relative to the site directory.
    meta_dir: String,
    /// The line of `Version:` in the metadata file.
    version_line: u32,
    metadata_file: &'static str,
    /// Files it installed (relative to the site directory), with their
    /// RECORD sha256 (urlsafe base64, as written) when given.
    files: Vec<(String, Option<String>)>,
    source: Source,
}

/// `Name:` and `Version:` of a METADATA / PKG-INFO file, and the line of the version.
fn name_version(text: &str) -> Option<(String, String, u32)> {
    let mut name = None;
    let mut version = None;
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some((v.trim().to_string(), u32::try_from(i + 1).unwrap_or(1)));
        }
    }
    let (version, line) = version?;
    Some((name?, version, line))
}

/// Where a distribution came from, by its `direct_url.json` (PEP 610).
fn source_of(direct_url: Option<&str>) -> Source {
    let Some(doc) = direct_url.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    else {
        return Source::default_registry();
    };
    let url = doc.get("url").and_then(|u| u.as_str()).map(str::to_string);
    if let Some(vcs) = doc.get("vcs_info") {
        let mut s = Source::new(SourceKind::Git, url);
        s.commit = vcs
            .get("commit_id")
            .and_then(|c| c.as_str())
            .map(str::to_string);
        return s;
    }
    let local = url.as_deref().is_some_and(|u| u.starts_with("file:"));
    if doc.get("dir_info").is_some() || local {
        return Source::new(SourceKind::Path, url);
    }
    Source::new(SourceKind::Url, url)
}

/// What is at a path of the site directory, read without following a link
/// and without leaving the directory (no component may lead outside it).
enum OnDisk {
    /// A regular file inside the site directory, with its bytes when it is
    /// at most [`MAX_FILE`] long, and its RECORD-style sha256.
    File {
        bytes: Option<Vec<u8>>,
        digest: String,
    },
    /// A symbolic link, and where it points.
    Link(String),
    /// Missing, not a file, unreadable, or reached through a link out.
    Absent,
}

/// `site` is canonical ([`read`] resolves it once), so a file is inside
/// when its own canonical path starts with it.
fn on_disk(site: &Path, rel: &str) -> OnDisk {
    // Absolute and drive paths would replace the base when joined.
    if rel.starts_with('/') || rel.starts_with('\\') || rel.contains(':') {
        return OnDisk::Absent;
    }
    let path = site.join(rel);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return OnDisk::Absent;
    };
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(&path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        return OnDisk::Link(to);
    }
    if !meta.is_file() {
        return OnDisk::Absent;
    }
    // A directory on the way may be a link: the file must still be inside.
    if !std::fs::canonicalize(&path).is_ok_and(|p| p.starts_with(site)) {
        return OnDisk::Absent;
    }
    let Ok(mut f) = std::fs::File::open(&path) else {
        return OnDisk::Absent;
    };
    if meta.len() <= MAX_FILE {
        let mut bytes = Vec::new();
        if std::io::Read::read_to_end(&mut f, &mut bytes).is_err() {
            return OnDisk::Absent;
        }
        let digest = crate::scan::record::digest(&bytes);
        return OnDisk::File {
            bytes: Some(bytes),
            digest,
        };
    }
    // Too large to keep: hashed as it streams, never held.
    let mut hasher = sha2::Sha256::new();
    if std::io::copy(&mut f, &mut hasher).is_err() {
        return OnDisk::Absent;
    }
    OnDisk::File {
        bytes: None,
        digest: crate::scan::record::encode_digest(&hasher.finalize()),
    }
}

/// A small metadata file of the site directory (inside it, not a link).
fn read_small(site: &Path, rel: &str) -> Option<Vec<u8>> {
    match on_disk(site, rel) {
        OnDisk::File { bytes, .. } => bytes,
        _ => None,
    }
}

fn distributions(site: &Path) -> Result<Vec<Dist>, EnvError> {
    let rd = std::fs::read_dir(site).map_err(|e| EnvError::Io {
        path: site.display().to_string(),
        message: e.to_string(),
    })?;
    let mut names: Vec<String> = rd
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for dir in names {
        let (metadata_file, wheel_style) = if dir.ends_with(".dist-info") {
            ("METADATA", true)
        } else if dir.ends_with(".egg-info") {
            ("PKG-INFO", false)
        } else {
            continue;
        };
        let Some(text) = read_small(site, &format!("{dir}/{metadata_file}")) else {
            continue;
        };
        let Some((name, version, version_line)) = name_version(&String::from_utf8_lossy(&text))
        else {
            continue;
        };
        let files = if wheel_style {
            read_small(site, &format!("{dir}/RECORD"))
                .map(|t| crate::scan::record::rows(&String::from_utf8_lossy(&t)))
                .unwrap_or_default()
        } else {
            // Legacy: installed-files.txt, relative to the egg-info directory.
            read_small(site, &format!("{dir}/installed-files.txt"))
                .map(|t| {
                    String::from_utf8_lossy(&t)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| (normalise(&format!("{dir}/{}", l.trim())), None))
                        .collect()
                })
                .unwrap_or_default()
        };
        let direct = read_small(site, &format!("{dir}/direct_url.json"))
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        out.push(Dist {
            name,
            version,
            meta_dir: dir,
            version_line,
            metadata_file,
            files,
            source: source_of(direct.as_deref()),
        });
    }
    Ok(out)
}

/// `a/b/../c` -> `a/c` (RECORD and installed-files paths may go up).
fn normalise(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_none_or(|p| *p == "..") {
                    parts.push("..");
                } else {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Whether the scanner reads a file: code that runs, and the metadata it uses.
fn scanned(path: &str) -> bool {
    crate::scan::is_text(path) || path.to_ascii_lowercase().ends_with(".dist-info/wheel")
}

/// Code in a site directory that no distribution owns: `.pth` and the
/// startup modules run at every interpreter start, other modules on import.
fn unowned_severity(path: &str) -> Option<Severity> {
    let l = path.to_ascii_lowercase();
    if l.contains("__pycache__/") {
        return None;
    }
    let top = !l.contains('/');
    if top && (l.ends_with(".pth") || l == "sitecustomize.py" || l == "usercustomize.py") {
        Some(Severity::Medium)
    } else if l.ends_with(".py") || l.ends_with(".pth") {
        Some(Severity::Low)
    } else {
        None
    }
}

/// Every file and link under `dir` (relative paths, `/`-separated), with
/// the target of each link; links are listed, never followed.
fn walk(dir: &Path) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let r = rel.join(e.file_name());
            let shown = r.to_string_lossy().replace('\\', "/");
            if t.is_symlink() {
                let to = std::fs::read_link(e.path())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                out.push((shown, Some(to)));
            } else if t.is_dir() {
                stack.push(r);
            } else if t.is_file() {
                out.push((shown, None));
            }
        }
    }
    out.sort();
    out
}

/// A stored (uncompressed) zip of `members`, for the archive scanner.
fn bundle(members: &[(String, Vec<u8>)]) -> Option<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, data) in members {
        w.start_file(path.as_str(), options).ok()?;
        w.write_all(data).ok()?;
    }
    w.finish().ok().map(std::io::Cursor::into_inner)
}

/// Reads the environment at `root`: its distributions and what is installed.
pub fn read(root: &Path) -> Result<Installed, EnvError> {
    let mut out = Installed {
        site_dirs: site_dirs(root)?,
        ..Installed::default()
    };
    let multiple = out.site_dirs.len() > 1;
    for site in out.site_dirs.clone() {
        // Locations read `site-packages/<path>`; with several site
        // directories, the path from the root tells them apart.
        let shown = if multiple {
            site.strip_prefix(root)
                .unwrap_or(&site)
                .to_string_lossy()
                .replace('\\', "/")
        } else {
            site.file_name().map_or_else(
                || "site-packages".into(),
                |n| n.to_string_lossy().to_string(),
            )
        };
        // Resolved once: every file read must resolve inside it.
        let site = std::fs::canonicalize(&site).unwrap_or(site);
        read_site(&site, &shown, &mut out)?;
    }
    Ok(out)
}

fn read_site(site: &Path, shown: &str, out: &mut Installed) -> Result<(), EnvError> {
    let dists = distributions(site)?;
    let mut owned: BTreeSet<String> = BTreeSet::new();
    // Metadata directories: everything under them is their distribution's.
    let mut owned_dirs: BTreeSet<String> = BTreeSet::new();
    for d in &dists {
        let Ok(name) = PackageName::new(&d.name) else {
            continue;
        };
        let mut pkg = Package::new(
            name,
            Some(Version::new(&d.version)),
            Origin {
                file: PathBuf::from(format!("{shown}/{}/{}", d.meta_dir, d.metadata_file)),
                line: d.version_line,
            },
        );
        pkg.source = d.source.clone();
        owned_dirs.insert(d.meta_dir.clone());
        let mut members: Vec<(String, Vec<u8>)> = Vec::new();
        let mut seen = BTreeSet::new();
        for (path, hash) in &d.files {
            let path = normalise(path);
            if path.starts_with("..") || !seen.insert(path.clone()) {
                continue; // outside the site directory (scripts), or listed twice
            }
            owned.insert(path.clone());
            let want = scanned(&path);
            if !want && hash.is_none() {
                continue;
            }
            let at = |rule: RuleId| {
                Finding::for_package(rule, &pkg)
                    .confidence(Confidence::High)
                    .location(Location::in_file(format!("{shown}/{path}"), None))
            };
            let (bytes, digest) = match on_disk(site, &path) {
                OnDisk::File { bytes, digest } => (bytes, digest),
                OnDisk::Link(to) => {
                    if hash.is_some() {
                        out.findings.push(
                            at(RuleId::RecordMismatch)
                                .severity(Severity::High)
                                .evidence("link-to", to.clone())
                                .message(format!(
                                    "{shown}/{path} is now a link to {to}, not the file {} {} installed",
                                    d.name, d.version
                                )),
                        );
                    }
                    continue;
                }
                OnDisk::Absent => continue,
            };
            if let Some(expected) = hash
                && digest != *expected
            {
                out.findings.push(
                    at(RuleId::RecordMismatch)
                        .severity(Severity::High)
                        .evidence("record", format!("sha256={expected}"))
                        .evidence("on-disk", format!("sha256={digest}"))
                        .message(format!(
                            "{shown}/{path} differs from what {} {} installed (its RECORD hash): modified after install",
                            d.name, d.version
                        )),
                );
            }
            match bytes {
                Some(b) if want => members.push((path, b)),
                None if want => out.findings.push(
                    at(RuleId::ArchiveAnomaly)
                        .severity(Severity::Medium)
                        .message(format!(
                            "{shown}/{path} is larger than {} MiB: not scanned",
                            MAX_FILE >> 20
                        )),
                ),
                _ => {}
            }
        }
        scan_members(Some(&pkg), shown, &d.name, &d.version, &members, out);
        out.packages.push(pkg);
    }
    // Code nobody installed.
    let mut strays: Vec<(String, Vec<u8>)> = Vec::new();
    for (path, link) in walk(site) {
        let top = path.split('/').next().unwrap_or("");
        if owned.contains(&path) || owned_dirs.contains(top) {
            continue;
        }
        let Some(severity) = unowned_severity(&path) else {
            continue;
        };
        let location = Location::in_file(format!("{shown}/{path}"), None);
        out.findings.push(
            Finding::at(RuleId::UnownedFile, location)
                .severity(severity)
                .confidence(Confidence::High)
                .message(format!(
                    "{shown}/{path}{} is in the site directory, but no installed distribution's RECORD lists it",
                    link.as_deref().map(|t| format!(" (a link to {t})")).unwrap_or_default()
                )),
        );
        if link.is_some() {
            continue; // never followed
        }
        if let OnDisk::File {
            bytes: Some(bytes), ..
        } = on_disk(site, &path)
        {
            strays.push((path, bytes));
        }
    }
    if !strays.is_empty() {
        scan_members(None, shown, "unowned", "", &strays, out);
    }
    Ok(())
}

/// Scans installed files of one distribution with the archive scanner, and
/// reports them at `site-packages/<path>:<line>`.
fn scan_members(
    pkg: Option<&Package>,
    shown: &str,
    name: &str,
    version: &str,
    members: &[(String, Vec<u8>)],
    out: &mut Installed,
) {
    if members.is_empty() {
        return;
    }
    out.files_scanned += members.len();
    let Some(bytes) = bundle(members) else {
        return;
    };
    let label = format!("{name}-{version}-installed-py3-none-any.whl");
    let Ok(scan) = crate::scan::scan_bytes(&label, &bytes, &crate::scan::Limits::default()) else {
        return;
    };
    for (member, f) in scan.findings {
        let file = member
            .as_deref()
            .map_or_else(|| shown.to_string(), |m| format!("{shown}/{m}"));
        let location = Location::in_file(file, f.line);
        let mut b = match pkg {
            Some(p) => Finding::for_package(f.rule, p).location(location),
            None => Finding::at(f.rule, location),
        }
        .severity(f.severity)
        .confidence(f.confidence);
        for (label, value) in f.evidence {
            b = b.evidence(label, value);
        }
        b = b.evidence(
            "installed-by",
            if pkg.is_some() {
                format!("{name} {version}")
            } else {
                "no distribution (unowned)".into()
            },
        );
        out.findings.push(b.message(f.message));
    }
}

/// Counts of what was read, for the run's messages.
pub fn describe(installed: &Installed) -> String {
    let mut by_source: BTreeMap<&'static str, usize> = BTreeMap::new();
    for p in &installed.packages {
        *by_source
            .entry(match p.source.kind {
                SourceKind::Registry => "from an index",
                SourceKind::Git => "from a repository",
                SourceKind::Path => "local",
                _ => "from a URL",
            })
            .or_insert(0) += 1;
    }
    let sources: Vec<String> = by_source.iter().map(|(k, n)| format!("{n} {k}")).collect();
    format!(
        "{} distribution(s) ({}), {} file(s) scanned in {}",
        installed.packages.len(),
        sources.join(", "),
        installed.files_scanned,
        installed
            .site_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}
