//! Typed wire structs for the PyPI JSON API and the Simple JSON API (PEP 691),
//! reduced into [`ProjectFacts`]. Unknown keys are ignored; optional keys may
//! be missing (mirrors omit them); file URLs may be relative.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::model::{
    FileFacts, FileLink, ProjectFacts, ProjectStatus, ProvenanceListing, ReleaseAttestation,
    ReleaseFacts, supports_provenance,
};

#[derive(Debug, Deserialize)]
pub(crate) struct JsonProject {
    info: JsonInfo,
    #[serde(default)]
    releases: BTreeMap<String, Vec<JsonFile>>,
}

#[derive(Debug, Deserialize)]
struct JsonInfo {
    name: String,
    #[serde(default)]
    project_urls: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    home_page: Option<String>,
    #[serde(default)]
    download_url: Option<String>,
    #[serde(default, rename = "project-status", alias = "project_status")]
    project_status: Option<StatusWire>,
}

#[derive(Debug, Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    digests: Digests,
    #[serde(default)]
    upload_time_iso_8601: Option<String>,
    #[serde(default)]
    upload_time: Option<String>,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yanked_reason: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    packagetype: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Digests {
    #[serde(default)]
    sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StatusWire {
    Text(String),
    Object {
        status: Option<String>,
        reason: Option<String>,
    },
}

impl StatusWire {
    fn into_status(self) -> Option<ProjectStatus> {
        match self {
            Self::Text(status) => Some(ProjectStatus {
                status,
                reason: None,
            }),
            Self::Object { status, reason } => {
                status.map(|status| ProjectStatus { status, reason })
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SimpleProject {
    #[serde(default)]
    meta: SimpleMeta,
    name: String,
    #[serde(default)]
    files: Vec<SimpleFile>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default, rename = "project-status")]
    project_status: Option<StatusWire>,
}

#[derive(Debug, Default, Deserialize)]
struct SimpleMeta {
    #[serde(default, rename = "api-version")]
    api_version: Option<String>,
    #[serde(default, rename = "project-status")]
    project_status: Option<StatusWire>,
}

#[derive(Debug, Deserialize)]
struct SimpleFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
    #[serde(default)]
    yanked: Yanked,
    #[serde(default)]
    size: Option<u64>,
    /// PEP 740: absent (the page does not say), null (none) or a URL.
    #[serde(default, deserialize_with = "present")]
    provenance: Option<serde_json::Value>,
}

/// Keeps "present but null" apart from "absent" (absent stays `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    Ok(Some(serde_json::Value::deserialize(d)?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    Reason(String),
}

/// A file URL of an answer, resolved against the page; user info an index
/// puts in it is dropped (and its secret registered for redaction): the
/// host's own credentials are sent instead, and no URL kept or cached
/// carries a secret.
fn resolve(base: &Url, href: &str) -> String {
    match base.join(href) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                crate::redact::register_url(u.as_str());
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            u.to_string()
        }
        Err(_) => crate::redact::url(href),
    }
}

fn sha(s: Option<&String>) -> Option<String> {
    s.map(|d| d.trim().to_ascii_lowercase())
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl JsonProject {
    /// Reduces a JSON API document fetched from `doc`.
    pub(crate) fn into_facts(self, doc: &Url) -> ProjectFacts {
        let mut project_urls: Vec<String> = self
            .info
            .project_urls
            .unwrap_or_default()
            .into_values()
            .flatten()
            .collect();
        project_urls.extend(self.info.home_page.into_iter().filter(|u| !u.is_empty()));
        project_urls.extend(self.info.download_url.into_iter().filter(|u| !u.is_empty()));
        project_urls.sort();
        project_urls.dedup();
        let releases = self
            .releases
            .into_iter()
            .map(|(version, files)| ReleaseFacts {
                version,
                files: files
                    .into_iter()
                    .map(|f| FileFacts {
                        url: resolve(doc, &f.url),
                        sha256: sha(f.digests.sha256.as_ref()),
                        upload_time: f
                            .upload_time_iso_8601
                            .as_deref()
                            .or(f.upload_time.as_deref())
                            .and_then(crate::package::parse_upload_time),
                        yanked: f.yanked,
                        yanked_reason: f.yanked_reason.filter(|r| !r.is_empty()),
                        size: f.size,
                        packagetype: f.packagetype,
                        filename: f.filename,
                    })
                    .collect(),
            })
            .collect();
        ProjectFacts {
            name: self.info.name,
            releases,
            status: self.info.project_status.and_then(StatusWire::into_status),
            project_urls,
            api: "json".into(),
            url: doc.to_string(),
        }
    }
}

impl SimpleProject {
    /// The `meta.api-version`, e.g. `1.1`.
    pub(crate) fn api_version(&self) -> Option<&str> {
        self.meta.api_version.as_deref()
    }

    /// Reduces a Simple JSON document to its provenance picture. `integrity`
    /// is the index's Integrity API root (`https://host/integrity/`), used for
    /// files whose `provenance` key is absent on a page that supports it.
    /// Releases in `keep` keep every file link; others keep one attested file.
    pub(crate) fn into_listing(
        self,
        doc: &Url,
        integrity: &Url,
        keep: &[crate::package::Version],
    ) -> ProvenanceListing {
        let supported = supports_provenance(self.api_version());
        let project = self.name.clone();
        let mut by_version: BTreeMap<String, ReleaseAttestation> = BTreeMap::new();
        for f in self.files {
            let Some(version) = version_of(&f.filename) else {
                continue;
            };
            let (provenance, listed) = match &f.provenance {
                Some(serde_json::Value::String(u)) => (Some(resolve(doc, u)), true),
                Some(serde_json::Value::Null) => (None, true),
                // Absent, or not a string: ask the Integrity API.
                _ => (
                    integrity_url(integrity, &project, &version, &f.filename),
                    false,
                ),
            };
            // One release per PEP 440 version, whatever each file name spells.
            let key = crate::package::Version::new(&version)
                .pep440()
                .map_or_else(|| version.clone(), ToString::to_string);
            let entry = by_version.entry(key).or_insert_with(|| ReleaseAttestation {
                version,
                first_upload: None,
                yanked: true,
                files: 0,
                attested: 0,
                unlisted: 0,
                links: Vec::new(),
            });
            let uploaded = f
                .upload_time
                .as_deref()
                .and_then(crate::package::parse_upload_time);
            entry.first_upload = match (entry.first_upload, uploaded) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            entry.files += 1;
            entry.yanked &= !matches!(f.yanked, Yanked::No | Yanked::Flag(false));
            if listed && provenance.is_some() {
                entry.attested += 1;
            }
            if !listed {
                entry.unlisted += 1;
            }
            entry.links.push(FileLink {
                filename: f.filename,
                sha256: sha(f.hashes.get("sha256")),
                provenance,
                listed,
            });
        }
        let releases = by_version
            .into_values()
            .map(|mut r| {
                let v = crate::package::Version::new(&r.version);
                if !keep.contains(&v) {
                    // One attested sdist and one attested wheel per platform
                    // family: enough to learn the publishers of a project whose
                    // sdist and wheels come from different workflows.
                    let family = |name: &str| {
                        let l = name.to_ascii_lowercase();
                        if !l.ends_with(".whl") {
                            "sdist"
                        } else if l.contains("linux") {
                            "linux"
                        } else if l.contains("macosx") {
                            "macos"
                        } else if l.contains("win") {
                            "windows"
                        } else {
                            "any"
                        }
                    };
                    let mut seen = Vec::new();
                    r.links.retain(|l| {
                        let f = family(&l.filename);
                        let keep = l.listed && l.provenance.is_some() && !seen.contains(&f);
                        if keep {
                            seen.push(f);
                        }
                        keep
                    });
                }
                r
            })
            .collect();
        ProvenanceListing {
            api_version: self.meta.api_version,
            supported,
            url: doc.to_string(),
            releases,
        }
    }

    /// Reduces a Simple JSON document: files are grouped into releases by the
    /// version in their file name; `versions` lists releases without files too.
    pub(crate) fn into_facts(self, doc: &Url) -> ProjectFacts {
        let mut by_version: BTreeMap<String, Vec<FileFacts>> = BTreeMap::new();
        for v in &self.versions {
            by_version.entry(v.clone()).or_default();
        }
        for f in self.files {
            let Some(version) = version_of(&f.filename) else {
                continue;
            };
            let (yanked, yanked_reason) = match f.yanked {
                Yanked::No | Yanked::Flag(false) => (false, None),
                Yanked::Flag(true) => (true, None),
                Yanked::Reason(r) => (true, Some(r).filter(|r| !r.is_empty())),
            };
            // Group by the listed version that equals the file's (PEP 440).
            let key = self
                .versions
                .iter()
                .find(|v| crate::package::Version::new(v) == crate::package::Version::new(&version))
                .cloned()
                .unwrap_or(version);
            by_version.entry(key).or_default().push(FileFacts {
                url: resolve(doc, &f.url),
                sha256: sha(f.hashes.get("sha256")),
                upload_time: f
                    .upload_time
                    .as_deref()
                    .and_then(crate::package::parse_upload_time),
                yanked,
                yanked_reason,
                size: f.size,
                packagetype: Some(
                    if f.filename.ends_with(".whl") {
                        "bdist_wheel"
                    } else {
                        "sdist"
                    }
                    .to_string(),
                ),
                filename: f.filename,
            });
        }
        ProjectFacts {
            name: self.name,
            releases: by_version
                .into_iter()
                .map(|(version, files)| ReleaseFacts { version, files })
                .collect(),
            status: self
                .project_status
                .or(self.meta.project_status)
                .and_then(StatusWire::into_status),
            project_urls: Vec::new(),
            api: "simple".into(),
            url: doc.to_string(),
        }
    }
}

/// `<integrity>/<project>/<version>/<filename>/provenance`, each part one
/// percent-encoded path segment (a name cannot climb out of the path or
/// change the host).
fn integrity_url(integrity: &Url, project: &str, version: &str, filename: &str) -> Option<String> {
    let mut url = integrity.clone();
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend([project, version, filename, "provenance"]);
    Some(url.to_string())
}

/// The version in a distribution file name (wheel: second field; sdist: after
/// the last `-` of the stem).
pub(crate) fn version_of(filename: &str) -> Option<String> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") || lower.ends_with(".egg") {
        return filename.split('-').nth(1).map(str::to_string);
    }
    let stem = [
        ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".tar", ".exe", ".msi", ".rpm",
    ]
    .iter()
    .find(|s| lower.ends_with(*s))
    .map(|s| &filename[..filename.len() - s.len()])?;
    stem.rsplit_once('-').map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_urls_stay_on_the_index() {
        let base = Url::parse("https://index.example/integrity/").unwrap();
        assert_eq!(
            integrity_url(
                &base,
                "sampleproject",
                "4.0.0",
                "sampleproject-4.0.0.tar.gz"
            )
            .as_deref(),
            Some(
                "https://index.example/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance"
            )
        );
        let odd = integrity_url(&base, "https://evil.example", "../..", "a?b#c").unwrap();
        assert!(odd.starts_with("https://index.example/integrity/"), "{odd}");
        assert!(!odd.contains('?') && !odd.contains('#'), "{odd}");
    }

    #[test]
    fn versions_from_file_names() {
        assert_eq!(
            version_of("six-1.16.0-py2.py3-none-any.whl").as_deref(),
            Some("1.16.0")
        );
        assert_eq!(
            version_of("python-dateutil-2.9.0.post0.tar.gz").as_deref(),
            Some("2.9.0.post0")
        );
        assert_eq!(version_of("README.md"), None);
    }

    #[test]
    fn times_with_and_without_offsets() {
        assert_eq!(
            crate::package::parse_upload_time("2021-05-05T14:18:18")
                .unwrap()
                .to_string(),
            "2021-05-05T14:18:18Z"
        );
        assert_eq!(
            crate::package::parse_upload_time("2026-11-17T20:24:23Z")
                .unwrap()
                .to_string(),
            "2026-11-17T20:24:23Z"
        );
        assert!(crate::package::parse_upload_time("yesterday").is_none());
    }
}
