//! `binary-payload`: an executable binary ships in a pure-Python distribution (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::BinaryPayload,
    summary: "An executable binary ships in a pure-Python distribution",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    docs: r#"# binary-payload

## What it does
Reports ELF, PE and Mach-O executables (by magic bytes, not names) inside a source distribution or a pure-Python (`-none-any`) wheel; high when `setup.py` names the file, or when a Python file that runs on import or install (a package `__init__.py`, `setup.py`, startup code) names it and starts a program from code that runs unasked (its top level or what that calls). The `loaded-by` evidence gives the file and line of the code that names it. A library loaded with `ctypes` (what packages with a bundled DLL do), a program started only when a function is called, and a loader in tests keep it medium; an executable in tests, docs or examples (test data nothing installs) is low.

## Why it matters
A pure-Python package has no reason to carry executables; droppers ship them pre-built and start them from `setup.py` or `__init__.py`.

## Example
```text
mypkg-1.0/mypkg/bin/updater   (ELF executable, 812 KB)
```

## How to fix
Check why the binary is there (some tools vendor launchers); allow a reviewed one with `[[allow]]` and its `path`.
"#,
};
