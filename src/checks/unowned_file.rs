//! `unowned-file`: code in a site directory that no installed
//! distribution's `RECORD` lists (`audit --env`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::UnownedFile,
    summary: "Code in a site directory that no installed distribution owns",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# unowned-file

## What it does
With `customs audit --env PATH`, lists the files of each site directory that no installed
distribution's `RECORD` (or legacy `installed-files.txt`) names, and reports the code among them:
a `.pth`, `sitecustomize.py` or `usercustomize.py` at the top of the site directory (medium: it runs
at every interpreter start), any other `.py` or `.pth` (low). Their content is scanned too, so a
`.pth` that runs code is also a `pth-startup-hook` finding.

## Why it matters
A file no installer wrote was written by something else. Planting a `.pth` file in
`site-packages` is how a compromised package keeps running after it is uninstalled, and how a
stealer runs in every Python process of a container.

## Example
```text
site-packages/zz_init.pth is in the site directory, but no installed distribution's RECORD lists it
```

## How to fix
Find what wrote the file and remove it. Tools that create such files on purpose (virtualenv's
`_virtualenv.pth`) can be allowed with an `[[allow]]` entry naming the file, with a reason.
"#,
};
