//! `unpinned-requirement`: a requirement that does not pin one exact version.
//!
//! The finding is made by the requirements parser, which sees the specifier;
//! this file holds the rule's metadata and docs.

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::UnpinnedRequirement,
    summary: "A requirement does not pin an exact version, so what gets installed can change under you",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# unpinned-requirement

## What it does
Reports a line of a requirements file that does not pin exactly one version with `==` (or `===`):
`requests`, `requests>=2.31`, `requests~=2.31`, or a VCS/URL requirement without a commit or hash.

## Why it matters
An unpinned requirement installs whatever the index serves on the day you install. A release uploaded
an hour ago with a stolen token is then what you get. Pinned versions with `--hash` are the
foundation every other defence builds on: a cooldown, a hash check and an archive scan all need to
know exactly which file will be installed.

## Example
```text
requests>=2.31        # unpinned-requirement
requests==2.32.3 \
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6   # fine
```

## How to fix
Compile your requirements with a resolver that pins and hashes them: `uv pip compile
--generate-hashes requirements.in`, `pip-compile --generate-hashes`, or use `uv.lock` /
`poetry.lock`. To accept a deliberate range, add an `[[allow]]` entry with a reason and an expiry.
"#,
};
