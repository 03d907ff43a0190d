//! Checks: each rule is one file with static metadata and its documentation.
//!
//! [`ALL`] is the registry: `customs rules` lists it, `customs explain` prints
//! a rule's docs, and findings take their default severity from it.

use crate::finding::{Confidence, RuleId, Severity};

pub mod allow_expired;
pub mod allow_unused;
pub mod unpinned;

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
pub const ALL: &[&RuleMeta] = &[&unpinned::META, &allow_expired::META, &allow_unused::META];

/// The metadata of a rule.
pub fn meta(id: RuleId) -> &'static RuleMeta {
    match id {
        RuleId::UnpinnedRequirement => &unpinned::META,
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
