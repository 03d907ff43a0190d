//! `allow-expired`: an allow-list entry is past its expiry date.

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::AllowExpired,
    summary: "An allow-list entry has expired and no longer suppresses its finding",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# allow-expired

## What it does
Reports an `[[allow]]` entry of `customs.toml` (or `[tool.customs]`) whose `expires` date has passed.
From that day the entry suppresses nothing: the finding it covered counts again, and this finding
points at the entry's line in the config file.

## Why it matters
Exceptions that never expire become blind spots: the reviewed fork is replaced, the typosquat
candidate changes hands, the package that was fine last year ships a new release. An expiry date
forces a second look.

## Example
```toml
[[allow]]
rule = "typosquat"
package = "reqeusts"
reason = "internal fork, reviewed"
expires = "2026-01-31"        # past: allow-expired, and the typosquat finding counts again
```

## How to fix
Review the finding again. If it is still acceptable, move `expires` forward and update `reason`;
otherwise remove the entry and fix the dependency.
"#,
};
