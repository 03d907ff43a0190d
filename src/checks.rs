//! Checks: each rule is one file with static metadata and its documentation.
//!
//! [`ALL`] is the registry: `customs rules` lists it, `customs explain` prints
//! a rule's docs, and findings take their default severity from it.

use crate::finding::{Confidence, RuleId, Severity};

pub mod allow_expired;
pub mod allow_unused;
pub mod archive_anomaly;
pub mod archives;
pub mod binary_payload;
pub mod cooldown;
pub mod download_exec;
pub mod exfiltration;
pub mod hash_mismatch;
pub mod index_unavailable;
pub mod install_hook;
pub mod new_project;
pub mod obfuscated_exec;
pub mod project_status;
pub mod pth_startup_hook;
pub mod release;
pub mod release_missing;
pub mod suspicious_endpoint;
pub mod typosquat;
pub mod unclaimed;
pub mod unpinned;
pub mod upload_time_unknown;
pub mod yanked;

/// Static metadata of a rule.
#[derive(Debug)]
pub struct RuleMeta {
    /// The stable id.
    pub id: RuleId,
    /// One line for `customs rules`.
    pub summary: &'static str,
    /// Default severity (config may override).
    pub severity: Severity,
    /// Default confidence.
    pub confidence: Confidence,
    /// Markdown: what it does, why it matters, example, how to fix or allow it.
    pub docs: &'static str,
}

/// Every rule, in the order `customs rules` prints them.
pub const ALL: &[&RuleMeta] = &[
    &unpinned::META,
    &cooldown::META,
    &upload_time_unknown::META,
    &yanked::META,
    &release_missing::META,
    &hash_mismatch::META,
    &project_status::META,
    &index_unavailable::META,
    &typosquat::META,
    &unclaimed::META,
    &new_project::META,
    &exfiltration::META,
    &pth_startup_hook::META,
    &install_hook::META,
    &obfuscated_exec::META,
    &download_exec::META,
    &suspicious_endpoint::META,
    &binary_payload::META,
    &archive_anomaly::META,
    &allow_expired::META,
    &allow_unused::META,
];

/// The metadata of a rule.
pub fn meta(id: RuleId) -> &'static RuleMeta {
    match id {
        RuleId::UnpinnedRequirement => &unpinned::META,
        RuleId::Cooldown => &cooldown::META,
        RuleId::UploadTimeUnknown => &upload_time_unknown::META,
        RuleId::Yanked => &yanked::META,
        RuleId::ReleaseMissing => &release_missing::META,
        RuleId::HashMismatch => &hash_mismatch::META,
        RuleId::ProjectStatus => &project_status::META,
        RuleId::IndexUnavailable => &index_unavailable::META,
        RuleId::Typosquat => &typosquat::META,
        RuleId::UnclaimedName => &unclaimed::META,
        RuleId::NewProject => &new_project::META,
        RuleId::Exfiltration => &exfiltration::META,
        RuleId::PthStartupHook => &pth_startup_hook::META,
        RuleId::InstallHook => &install_hook::META,
        RuleId::ObfuscatedExec => &obfuscated_exec::META,
        RuleId::DownloadExec => &download_exec::META,
        RuleId::SuspiciousEndpoint => &suspicious_endpoint::META,
        RuleId::BinaryPayload => &binary_payload::META,
        RuleId::ArchiveAnomaly => &archive_anomaly::META,
        RuleId::AllowExpired => &allow_expired::META,
        RuleId::AllowUnused => &allow_unused::META,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_id_is_registered_once_with_docs() {
        assert_eq!(ALL.len(), RuleId::ALL.len());
        for id in RuleId::ALL {
            let m = meta(*id);
            assert_eq!(m.id, *id);
            assert!(ALL.iter().filter(|r| r.id == *id).count() == 1, "{id}");
            assert!(!m.summary.is_empty() && !m.summary.ends_with('.'), "{id}");
            for heading in [
                "## What it does",
                "## Why it matters",
                "## Example",
                "## How to fix",
            ] {
                assert!(m.docs.contains(heading), "{id} docs lack {heading}");
            }
        }
    }
}
