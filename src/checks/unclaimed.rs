//! `unclaimed-name`: the name does not exist on the index, so anyone can register it.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::UnclaimedName,
    summary: "The name does not exist on the index: anyone can register it",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# unclaimed-name

## What it does
Reports a name that the index does not know: no project of that name exists (or it was removed or
quarantined). In a lockfile this means the next install resolves whatever someone registers under
that name; for `customs check` it means the name you are about to install is free.

## Why it matters
Code assistants invent plausible package names ("slopsquatting"), and attackers register the names
they invent. Internal package names that leak into a public index lookup invite dependency
confusion. A name that exists nowhere today is one upload away from being malware.

## Example
```text
flask-jwt-simple-auth does not exist on the index: anyone can register it
```

## How to fix
Check the name's spelling and where it came from. For an internal package, make sure the
installer uses only your private index for it (and register the name on the public index as a
placeholder). Never install a name that does not exist "to see what happens".
"#,
};

/// A locked registry package whose project the index does not know.
pub fn locked_but_missing(pkg: &Package, url: &str) -> Finding {
    Finding::for_package(RuleId::UnclaimedName, pkg)
        .evidence("asked", url)
        .message(format!(
            "{} does not exist on the index (or was removed or quarantined): anyone can register the name, and the next install gets whatever they upload",
            pkg.name
        ))
}
