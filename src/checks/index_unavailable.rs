//! `index-unavailable`: the index could not answer, so the package is unchecked.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::IndexUnavailable,
    summary: "The index could not answer for this package, so it was not checked",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# index-unavailable

## What it does
Reports every locked package that customs could not check against the index, with the reason:
offline and not cached, a timeout, a refused connection, an HTTP error after retries, a document
that is not what the API promises. The package is listed as `unknown` in the report.

## Why it matters
Unknown is not pass. A scanner that skips what it could not check and exits 0 gives a false sense
of safety — exactly when an attacker would want your CI to be blind. With `--fail-on-unknown` (the
GitHub Action's default) these findings fail the run.

## Example
```text
requests 2.32.3 could not be checked: https://index.example/pypi/requests/json: timed out (after 4 attempts)
```

## How to fix
Fix the cause (network, proxy variables, `--index-url` for a private mirror, `--cache-dir` for
offline runs) and run again. Offline runs answer from the cache: run once online first.
"#,
};

/// The finding for a package the index could not answer for.
pub fn finding(pkg: &Package, reason: &str) -> Finding {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    Finding::for_package(RuleId::IndexUnavailable, pkg)
        .evidence("reason", reason)
        .message(format!(
            "{} {version} could not be checked against the index: {reason}",
            pkg.name
        ))
}
