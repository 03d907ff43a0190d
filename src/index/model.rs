//! What customs keeps of an index's answer: a reduced, typed record per project
//! (this is also what the disk cache stores).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::package::Version;

/// One distribution file as the index lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFacts {
    /// The file name.
    pub filename: String,
    /// The download URL, resolved against the document URL.
    pub url: String,
    /// The sha256 the index publishes, lowercase hex.
    pub sha256: Option<String>,
    /// When it was uploaded.
    pub upload_time: Option<Timestamp>,
    /// Whether it is yanked (PEP 592).
    pub yanked: bool,
    /// The yank reason, if given.
    pub yanked_reason: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// `sdist`, `bdist_wheel`, ... (JSON API) or inferred from the name.
    pub packagetype: Option<String>,
}

/// One release: a version string as uploaded and its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseFacts {
    /// The version as the index lists it (`3.2.3-2`).
    pub version: String,
    /// Its files (may be empty: releases without files exist).
    pub files: Vec<FileFacts>,
}

impl ReleaseFacts {
    /// The PEP 440 view of the version.
    pub fn version(&self) -> Version {
        Version::new(&self.version)
    }

    /// The earliest upload time of its files.
    pub fn first_upload(&self) -> Option<Timestamp> {
        self.files.iter().filter_map(|f| f.upload_time).min()
    }

    /// Whether the files were summarised away by [`ProjectFacts::compact`].
    pub fn summarised(&self) -> bool {
        self.files.len() == 1 && self.files[0].filename.is_empty()
    }

    /// Whether every file is yanked (a yanked release), with the first reason.
    pub fn yanked(&self) -> Option<Option<String>> {
        if self.files.is_empty() || !self.files.iter().all(|f| f.yanked) {
            return None;
        }
        Some(self.files.iter().find_map(|f| f.yanked_reason.clone()))
    }
}

/// PEP 792 project status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    /// `active`, `archived`, `quarantined`, `deprecated`.
    pub status: String,
    /// Why, if the index says.
    pub reason: Option<String>,
}

/// What the index knows about a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFacts {
    /// The name as the index spells it.
    pub name: String,
    /// Every release.
    pub releases: Vec<ReleaseFacts>,
    /// PEP 792 status, where the index publishes it.
    pub status: Option<ProjectStatus>,
    /// Project URLs (homepage, source...), from the JSON API.
    pub project_urls: Vec<String>,
    /// Which API answered: `json` or `simple`.
    pub api: String,
    /// The document URL.
    pub url: String,
}

/// How many of the newest releases [`ProjectFacts::compact`] keeps whole.
pub const KEEP_NEWEST: usize = 10;

impl ProjectFacts {
    /// Whether these facts hold the files of every given version the index
    /// lists, and of the release just before each (what a release is
    /// compared with).
    pub fn covers(&self, versions: &[crate::package::Version]) -> bool {
        versions.iter().all(|v| {
            self.release(v).is_none_or(|r| !r.summarised())
                && self.previous(v).is_none_or(|r| !r.summarised())
        })
    }

    /// The project's history before `version`: how many earlier releases
    /// have files, the project's first upload, and the days from it to this
    /// release's first upload. `None` when the index does not say.
    pub fn history_before(&self, version: &Version) -> Option<(usize, Timestamp, i64)> {
        let this = self.release(version)?.first_upload()?;
        let first = self.first_upload()?;
        let releases = self
            .releases
            .iter()
            .filter(|r| !r.files.is_empty() && r.version() < *version)
            .count();
        Some((
            releases,
            first,
            this.duration_since(first).as_secs() / 86_400,
        ))
    }

    /// The release just before `version` in version order on the same line:
    /// the newest earlier release that has files and is not yanked, and not
    /// a pre-release unless `version` is one. Summarised releases count (the
    /// previous release is never skipped for lack of its files).
    pub fn previous(&self, version: &Version) -> Option<&ReleaseFacts> {
        self.releases
            .iter()
            .filter(|r| {
                let v = r.version();
                v < *version
                    && !r.files.is_empty()
                    && r.yanked().is_none()
                    && (!v.is_prerelease() || version.is_prerelease())
            })
            .max_by_key(|r| r.version())
    }

    /// Drops what no check needs: releases other than `keep` are reduced to
    /// their earliest file (upload time, and yanked only if every file was),
    /// without URLs, names or hashes. Every summary the checks read
    /// (`first_upload`, `yanked`, `releases_with_files`, newest eligible
    /// release) is unchanged; memory for projects with thousands of files is not.
    /// The newest [`KEEP_NEWEST`] releases stay whole too: this is what the
    /// cache keeps, since the next lock update likely pins one of them.
    pub fn compact(&mut self, keep: &[crate::package::Version]) {
        self.compact_keeping(keep, KEEP_NEWEST);
    }

    /// [`compact`](Self::compact) for this run only: the newest releases
    /// are summarised too unless `keep` names them (held in memory for the
    /// whole audit, their files are what a large lockfile's answers weigh).
    pub fn compact_for_run(&mut self, keep: &[crate::package::Version]) {
        self.compact_keeping(keep, 0);
    }

    fn compact_keeping(&mut self, keep: &[crate::package::Version], keep_newest: usize) {
        let mut order: Vec<crate::package::Version> =
            self.releases.iter().map(ReleaseFacts::version).collect();
        order.sort();
        let newest: Vec<crate::package::Version> =
            order.into_iter().rev().take(keep_newest).collect();
        // The release before each kept one is what it is compared with.
        let previous: Vec<crate::package::Version> = keep
            .iter()
            .filter_map(|v| self.previous(v).map(ReleaseFacts::version))
            .collect();
        let keep: Vec<crate::package::Version> = keep.iter().cloned().chain(previous).collect();
        let keep = keep.as_slice();
        for r in &mut self.releases {
            let v = r.version();
            if r.files.len() <= 1 || keep.contains(&v) || newest.contains(&v) {
                continue;
            }
            let all_yanked = r.files.iter().all(|f| f.yanked);
            let reason = r.files.iter().find_map(|f| f.yanked_reason.clone());
            let first = r.files.iter().filter_map(|f| f.upload_time).min();
            r.files = vec![FileFacts {
                filename: String::new(),
                url: String::new(),
                sha256: None,
                upload_time: first,
                yanked: all_yanked,
                yanked_reason: if all_yanked { reason } else { None },
                size: None,
                packagetype: None,
            }];
        }
        self.releases.shrink_to_fit();
    }

    /// The release matching a version by PEP 440 equality.
    pub fn release(&self, version: &Version) -> Option<&ReleaseFacts> {
        self.releases.iter().find(|r| r.version() == *version)
    }

    /// The earliest upload of any file of the project.
    pub fn first_upload(&self) -> Option<Timestamp> {
        self.releases
            .iter()
            .filter_map(ReleaseFacts::first_upload)
            .min()
    }

    /// Releases that have at least one file.
    pub fn releases_with_files(&self) -> usize {
        self.releases.iter().filter(|r| !r.files.is_empty()).count()
    }

    /// Whether a project URL points at a source repository host.
    pub fn has_source_url(&self) -> bool {
        self.project_urls.iter().any(|u| {
            let l = u.to_ascii_lowercase();
            [
                "github.com/",
                "gitlab.com/",
                "bitbucket.org/",
                "codeberg.org/",
                "sr.ht/",
                "git.",
            ]
            .iter()
            .any(|h| l.contains(h))
        })
    }
}

/// Where a file's PEP 740 provenance is, as the index's Simple API says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLink {
    /// The file name.
    pub filename: String,
    /// The sha256 the index publishes.
    pub sha256: Option<String>,
    /// The provenance URL: listed by the index (`provenance` key), or the
    /// Integrity API URL when the page does not say (`listed` is false).
    /// `None`: the index says the file has no provenance.
    pub provenance: Option<String>,
    /// Whether the index listed the `provenance` key for this file.
    pub listed: bool,
}

/// The provenance picture of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAttestation {
    /// The version as the index lists it.
    pub version: String,
    /// The earliest upload time of its files.
    pub first_upload: Option<Timestamp>,
    /// Whether every file is yanked.
    #[serde(default)]
    pub yanked: bool,
    /// How many files it has.
    pub files: u32,
    /// How many the index lists with provenance.
    pub attested: u32,
    /// How many the index lists without saying (Integrity API only).
    pub unlisted: u32,
    /// Every file for the releases customs checks; otherwise one attested
    /// sdist and one attested wheel per platform family (enough to learn the
    /// release's publishers).
    pub links: Vec<FileLink>,
}

/// What an index's Simple API says about a project's provenance (PEP 740).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceListing {
    /// `meta.api-version` of the Simple API page.
    pub api_version: Option<String>,
    /// Whether that version carries provenance (1.3 and later).
    pub supported: bool,
    /// The page URL.
    pub url: String,
    /// Every release with files.
    pub releases: Vec<ReleaseAttestation>,
}

impl ProvenanceListing {
    /// Whether the page lists the `provenance` key for any file (then an
    /// absent key, and an Integrity API 404, mean "none").
    pub fn lists_provenance(&self) -> bool {
        self.releases.iter().any(|r| r.unlisted < r.files)
    }

    /// The release matching a version by PEP 440 equality.
    pub fn release(&self, version: &Version) -> Option<&ReleaseAttestation> {
        self.releases
            .iter()
            .find(|r| Version::new(&r.version) == *version)
    }
}

/// Whether a Simple API version string is 1.3 or later (PEP 740 provenance).
pub fn supports_provenance(api_version: Option<&str>) -> bool {
    let Some(v) = api_version else { return false };
    let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (1, 3),
        (Some(major), None) => major > 1,
        _ => false,
    }
}

/// The index's answer for one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The project exists.
    Found(ProjectFacts),
    /// The index says the project does not exist (or is quarantined and hidden).
    NotFound {
        /// The URL asked.
        url: String,
    },
    /// The index could not answer; customs knows nothing.
    Unavailable {
        /// Why: offline miss, timeout, HTTP status, invalid document...
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Version;

    fn file(name: &str, t: &str, yanked: bool) -> FileFacts {
        FileFacts {
            filename: name.into(),
            url: format!("https://files.example/{name}"),
            sha256: Some("a".repeat(64)),
            upload_time: t.parse().ok(),
            yanked,
            yanked_reason: yanked.then(|| "bad".into()),
            size: Some(1),
            packagetype: None,
        }
    }

    #[test]
    fn simple_api_versions() {
        assert!(!supports_provenance(None));
        assert!(!supports_provenance(Some("1.1")));
        assert!(!supports_provenance(Some("1.2")));
        assert!(supports_provenance(Some("1.3")));
        assert!(supports_provenance(Some("1.4")));
        assert!(supports_provenance(Some("2.0")));
        assert!(!supports_provenance(Some("one")));
    }

    #[test]
    fn compaction_keeps_every_summary_the_checks_read() {
        let mut releases = Vec::new();
        for i in 0..20 {
            releases.push(ReleaseFacts {
                version: format!("1.{i}"),
                files: vec![
                    file(
                        &format!("p-1.{i}.tar.gz"),
                        &format!("2020-01-{:02}T00:00:00Z", i + 1),
                        i == 3,
                    ),
                    file(
                        &format!("p-1.{i}-py3-none-any.whl"),
                        &format!("2020-02-{:02}T00:00:00Z", i + 1),
                        i == 3,
                    ),
                ],
            });
        }
        let full = ProjectFacts {
            name: "p".into(),
            releases,
            status: None,
            project_urls: vec![],
            api: "json".into(),
            url: "u".into(),
        };
        let mut small = full.clone();
        small.compact(&[Version::new("1.2")]);
        assert!(small.covers(&[
            Version::new("1.2"),
            Version::new("1.19"),
            Version::new("9.9")
        ]));
        assert!(!small.covers(&[Version::new("1.1")]));
        assert_eq!(small.first_upload(), full.first_upload());
        assert_eq!(small.releases_with_files(), full.releases_with_files());
        for (a, b) in small.releases.iter().zip(&full.releases) {
            assert_eq!(a.first_upload(), b.first_upload());
            assert_eq!(a.yanked(), b.yanked());
        }
        assert_eq!(small.release(&Version::new("1.2")).unwrap().files.len(), 2);
        // The release a locked one is compared with stays whole: the one just
        // before it, past a yanked one (1.3), never an older one instead.
        assert_eq!(small.previous(&Version::new("1.2")).unwrap().version, "1.1");
        assert_eq!(small.release(&Version::new("1.1")).unwrap().files.len(), 2);
        let mut locked_on_4 = full.clone();
        locked_on_4.compact(&[Version::new("1.4")]);
        assert_eq!(
            locked_on_4.previous(&Version::new("1.4")).unwrap().version,
            "1.2"
        );
        assert!(locked_on_4.covers(&[Version::new("1.4")]));
        // A cache compacted without it does not cover the locked release.
        let mut old = full.clone();
        old.compact(&[Version::new("1.4")]);
        if let Some(r) = old.releases.iter_mut().find(|r| r.version == "1.2") {
            r.files.truncate(1);
            r.files[0].filename.clear();
        }
        assert!(!old.covers(&[Version::new("1.4")]));
        // What a run holds: the newest releases are summarised too, every
        // summary is unchanged, and the locked release and its previous
        // one stay whole.
        let mut run = full.clone();
        run.compact_for_run(&[Version::new("1.2")]);
        assert!(run.covers(&[Version::new("1.2")]));
        assert!(!run.covers(&[Version::new("1.19")]));
        assert!(run.release(&Version::new("1.19")).unwrap().summarised());
        assert_eq!(run.release(&Version::new("1.1")).unwrap().files.len(), 2);
        assert_eq!(run.first_upload(), full.first_upload());
        assert_eq!(run.releases_with_files(), full.releases_with_files());
        for (a, b) in run.releases.iter().zip(&full.releases) {
            assert_eq!(a.first_upload(), b.first_upload());
            assert_eq!(a.yanked(), b.yanked());
        }
        let whole: usize = run.releases.iter().filter(|r| !r.summarised()).count();
        assert_eq!(whole, 2, "1.2 and 1.1");
    }
}
