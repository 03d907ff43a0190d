//! `pth-startup-hook`: a .pth file runs code at every interpreter start (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::PthStartupHook,
    summary: "A .pth file runs code at every interpreter start",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# pth-startup-hook

## What it does
Reports `.pth` lines that start with `import`: Python's `site` module executes them at every interpreter start, before any user code. Lines known to be harmless (setuptools' `distutils-precedence.pth`, namespace `-nspkg.pth` templates, coverage, pywin32, editable-install finders) are recognised by their normalised content, never by package name. A line that also decodes, executes, starts processes or talks to the network is critical; the modules a `.pth` imports are scanned as startup code too.

## Why it matters
A `.pth` file is the most powerful place to hide code in a package: it runs in every Python process on the machine, including CI jobs holding deployment secrets. Recent compromises shipped exactly this to collect environment variables, cloud keys and ssh keys.

## Example
```text
# evil.pth
import os; exec(__import__('base64').b64decode('...'))
```

## How to fix
Remove the package and inspect the machines that installed it. A legitimate `.pth` that customs does not know can be allowed with `[[allow]]` naming the package and the `path`.
"#,
};
