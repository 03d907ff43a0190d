//! `suspicious-endpoint`: code names a host used to receive stolen data (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::SuspiciousEndpoint,
    summary: "Code names a host used to receive stolen data",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    docs: r#"# suspicious-endpoint

## What it does
Reports chat webhooks and bot APIs, paste and file-drop sites, tunnels, request catchers, out-of-band testing domains and raw IP URLs named in code, when no source of secrets is found in the same file (then it is part of an `exfiltration` finding). High in code that runs on install, import or start.

## Why it matters
These hosts are where stolen data goes; honest libraries rarely hard-code them.

## Example
```python
WEBHOOK = "https://discord.com/api/webhooks/123/abc"
```

## How to fix
Read the code around the reported line; allow a reviewed use with `[[allow]]`.
"#,
};
