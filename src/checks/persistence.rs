//! `persistence`: code makes itself run again later: at log-on, on a schedule, in every shell (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::Persistence,
    summary: "Code makes something run again at log-on, on a schedule or in every shell",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# persistence

## What it does
Reports code that installs itself or another program to run again later: a Windows `Run` or `RunOnce` registry key (`reg add`, `winreg.SetValueEx`), the Startup folder or a shortcut in it, a scheduled task (`schtasks /create`), a cron entry, a line appended to a shell's start-up file (`.bashrc`, `.zshrc`, `.profile`), a systemd unit enabled, or a macOS LaunchAgent. The facts are the `persistence` indicators of `rules/execution.toml`. Severity follows where the code runs: at install, import or every interpreter start it is critical; at a module's top level high; in a function nothing calls on import or install medium (a tool that installs shell completion when asked does this).

## Why it matters
A payload that runs once at `pip install` can be removed by uninstalling; one that registered itself to start at every log-on stays after the package is gone. Droppers found on the index write their executable next to a `Run` key or into the Startup folder in the same few lines.

## Example
```python
# setup.py
import subprocess
subprocess.Popen('reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v upd /d C:\\Users\\Public\\upd.exe')
```

## How to fix
Do not install the release; check the machine's start-up entries if it was installed. A reviewed tool that installs a start-up entry when asked can be allowed with `[[allow]]`.
"#,
};
