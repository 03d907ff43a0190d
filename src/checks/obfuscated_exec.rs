//! `obfuscated-exec`: code is executed from decoded or hidden data (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ObfuscatedExec,
    summary: "Code is executed from decoded or hidden data",
    severity: Severity::Critical,
    confidence: Confidence::High,
    docs: r#"# obfuscated-exec

## What it does
Reports `exec`, `eval` or `compile` (also through aliases such as `b = exec`, `__import__('builtins').exec`, `getattr(__builtins__, ...)`) applied to decoded data — base64, zlib/marshal, rot13, hex, Fernet/AES, `chr` joins — or next to a long encoded blob, and code hidden after a long run of whitespace. Critical in code that runs on install, import or start; high in other modules; low in tests.

Python is parsed and the argument of every executor is folded: through imports and aliases (including `A, B = exec, str`, `globals()['exec']`, `__builtins__.__dict__.get('exec')`, `eval('exec')`), string concatenation, `''.join`, `[::-1]`, `chr`/`map`, `bytes([...])`, `bytes.fromhex`, base64/base32/hex, zlib, bz2, rot13, XOR comprehensions and escape-spelled strings. Code an executor runs from such data is reported with the techniques that hid it and the decoded text, and is analysed again in the same context (three levels deep), so what the hidden code does is reported too. Comments and docstrings are not code.

## Why it matters
Honest code has no reason to hide what it runs. Decoding a payload and executing it is how most malicious packages keep their real code away from reviewers and string scanners.

## Example
```python
exec(__import__("zlib").decompress(__import__("base64").b64decode("eJw...")))
```

## How to fix
Treat the release as malicious unless you can decode and read the payload. Allow a reviewed exception with `[[allow]]` and the member `path`.
"#,
};
