//! `allow-unused`: an allow-list entry matched no finding.

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::AllowUnused,
    summary: "An allow-list entry matched no finding in this run",
    severity: Severity::Low,
    confidence: Confidence::High,
    docs: r#"# allow-unused

## What it does
Reports an `[[allow]]` entry that suppressed nothing in this run: its rule, package, version or
path matched no finding.

## Why it matters
An entry left behind after the dependency was fixed or removed is a standing exception nobody
needs. If the same package comes back, possibly compromised, the stale entry would hide it
without anyone reviewing it again.

## Example
```toml
[[allow]]
rule = "cooldown"
package = "urllib3"
version = "2.8.0"             # the lock now pins 2.8.1: allow-unused
reason = "security fix, needed before the cooldown ends"
expires = "2026-12-31"
```

## How to fix
Remove the entry, or correct its `package`, `version` or `path` if it was meant to match.
"#,
};
