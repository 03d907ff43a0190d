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

The line is parsed: its literal `exec('...')` code is unfolded and analysed as startup code. A line whose code only imports and calls the distribution's own modules (a switch such as coverage's `process_startup` or pytest-cov's `COV_CORE_SOURCE` check), and starts, fetches, loads or writes nothing, is low: what those modules do is what is judged. A line that imports a module the distribution does not ship is high. A `.pth` file under tests, docs, examples or CI directories is never installed where `site` reads it, and is low.

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
