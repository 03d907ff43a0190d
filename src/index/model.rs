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

impl ProjectFacts {
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
