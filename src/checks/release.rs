//! The release checks of one locked package against the index's answer, and
//! the view of "the release the lockfile pins" they share.

use jiff::Timestamp;

use super::cooldown::Cooldown;
use super::{
    cooldown, hash_mismatch, index_unavailable, project_status, release_missing, unclaimed,
    upload_time_unknown, yanked,
};
use crate::finding::Finding;
use crate::index::{Answer, FileFacts, ProjectFacts, ReleaseFacts};
use crate::package::{Package, PackageName, SourceKind};

/// Settings of the release checks.
#[derive(Debug, Clone, Default)]
pub struct ReleaseSettings {
    /// The evaluation time.
    pub as_of: Timestamp,
    /// The cooldown policy.
    pub cooldown: Cooldown,
    /// Packages the cooldown does not apply to.
    pub cooldown_exempt: Vec<PackageName>,
}

/// Whether a package could be checked against the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexStatus {
    /// The index answered.
    Checked,
    /// The index could not answer: what is known is only what the lockfile says.
    Unknown(String),
    /// Not a registry package, or no pinned version: nothing to ask.
    NotApplicable(&'static str),
}

/// The release a lockfile pins, seen together with what the index knows.
#[derive(Debug, Clone, Copy)]
pub struct ReleaseView<'a> {
    pkg: &'a Package,
    facts: Option<&'a ProjectFacts>,
    release: Option<&'a ReleaseFacts>,
}

impl<'a> ReleaseView<'a> {
    /// Matches the package's version to a release of the project.
    pub fn new(pkg: &'a Package, facts: Option<&'a ProjectFacts>) -> Self {
        let release = match (facts, &pkg.version) {
            (Some(f), Some(v)) => f.release(v),
            _ => None,
        };
        Self {
            pkg,
            facts,
            release,
        }
    }

    /// The index's facts, if it answered.
    pub fn facts(&self) -> Option<&'a ProjectFacts> {
        self.facts
    }

    /// The matching release, if the index lists the version.
    pub fn release(&self) -> Option<&'a ReleaseFacts> {
        self.release
    }

    /// The index files the lockfile pins (by file name, else by sha256).
    pub fn pinned_files(&self) -> Vec<&'a FileFacts> {
        let Some(release) = self.release else {
            return Vec::new();
        };
        release
            .files
            .iter()
            .filter(|f| self.pkg.pins_file(&f.filename, f.sha256.as_deref()))
            .collect()
    }

    /// The release's age reference: the earliest upload time of the pinned
    /// files (the lockfile's own record first), else of the release.
    pub fn upload_time(&self) -> Option<Timestamp> {
        self.pkg
            .earliest_upload()
            .or_else(|| {
                self.pinned_files()
                    .iter()
                    .filter_map(|f| f.upload_time)
                    .min()
            })
            .or_else(|| self.release.and_then(ReleaseFacts::first_upload))
    }

    /// Where [`Self::upload_time`] came from.
    pub fn upload_time_source(&self) -> &'static str {
        if self.pkg.earliest_upload().is_some() {
            "lockfile"
        } else if self.pinned_files().iter().any(|f| f.upload_time.is_some()) {
            "index (pinned files)"
        } else {
            "index (release)"
        }
    }

    /// The newest release that is past the cooldown, not yanked, and not a
    /// pre-release unless the locked version is one.
    pub fn newest_eligible(&self, cooldown: &Cooldown, as_of: Timestamp) -> Option<String> {
        let facts = self.facts?;
        let allow_pre = self
            .pkg
            .version
            .as_ref()
            .is_some_and(crate::package::Version::is_prerelease);
        facts
            .releases
            .iter()
            .filter(|r| r.yanked().is_none())
            .filter(|r| allow_pre || !r.version().is_prerelease())
            .filter_map(|r| Some((r, r.first_upload()?)))
            .filter(|(_, t)| match cooldown {
                Cooldown::Window(w) => t.checked_add(*w).is_ok_and(|e| e <= as_of),
                Cooldown::Cutoff(c) => t <= c,
            })
            .map(|(r, _)| r)
            .max_by(|a, b| a.version().cmp(&b.version()))
            .map(|r| r.version.clone())
    }
}

/// Runs every release check on one package (the name checks that need the
/// index too: `unclaimed-name`, `new-project`, `project-status`).
pub fn check(
    pkg: &Package,
    answer: Option<&Answer>,
    settings: &ReleaseSettings,
) -> (Vec<Finding>, IndexStatus) {
    let mut out = Vec::new();
    if pkg.source.kind != SourceKind::Registry {
        return (out, IndexStatus::NotApplicable("not from a package index"));
    }
    let exempt = settings.cooldown_exempt.contains(&pkg.name);
    let facts = match answer {
        Some(Answer::Found(f)) => Some(f),
        _ => None,
    };
    let view = ReleaseView::new(pkg, facts);
    let status = match answer {
        Some(Answer::Found(f)) => {
            out.extend(project_status::check(pkg, f));
            out.extend(super::new_project::check(
                pkg,
                f,
                crate::names::top(),
                settings.as_of,
            ));
            if pkg.version.is_none() {
                // Nothing pinned: only the name could be checked.
                return (out, IndexStatus::Checked);
            }
            match view.release() {
                None => out.push(release_missing::missing_version(pkg, f)),
                Some(release) => {
                    out.extend(release_missing::missing_files(pkg, release));
                    out.extend(yanked::check(pkg, &view));
                    out.extend(hash_mismatch::check(pkg, release));
                    if !exempt {
                        out.extend(cooldown::check(
                            pkg,
                            &view,
                            &settings.cooldown,
                            settings.as_of,
                        ));
                    }
                    if view.upload_time().is_none() {
                        out.push(upload_time_unknown::finding(
                            pkg,
                            "neither the lockfile nor the index gives an upload time",
                        ));
                    }
                }
            }
            IndexStatus::Checked
        }
        Some(Answer::NotFound { url }) => {
            out.push(unclaimed::locked_but_missing(pkg, url));
            IndexStatus::Checked
        }
        Some(Answer::Unavailable { reason }) => {
            // What the lockfile itself records still counts.
            if !exempt {
                out.extend(cooldown::check(
                    pkg,
                    &view,
                    &settings.cooldown,
                    settings.as_of,
                ));
            }
            out.push(index_unavailable::finding(pkg, reason));
            IndexStatus::Unknown(reason.clone())
        }
        None if pkg.version.is_none() => {
            return (out, IndexStatus::NotApplicable("no pinned version"));
        }
        None => {
            if !exempt {
                out.extend(cooldown::check(
                    pkg,
                    &view,
                    &settings.cooldown,
                    settings.as_of,
                ));
            }
            let reason = "the index was not asked".to_string();
            out.push(index_unavailable::finding(pkg, &reason));
            IndexStatus::Unknown(reason)
        }
    };
    (out, status)
}
