//! `archive-anomaly`: the archive itself is hostile or broken (found by the archive scanner, `src/scan/`).

use super::RuleMeta;
use crate::finding::{Confidence, RuleId, Severity};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::ArchiveAnomaly,
    summary: "The archive itself is hostile or broken",
    severity: Severity::Medium,
    confidence: Confidence::High,
    docs: r#"# archive-anomaly

## What it does
Reports archives that are not what they claim or that would harm an extractor: path traversal and absolute paths, symbolic and hard links, device entries, nested archives, too many entries, decompression bombs (size or ratio caps), truncated or corrupt data, a tar entry with more than 1 MiB of headers (a hostile long name or PAX record), a zip whose local headers describe other members than its central directory lists (an installer that reads the local headers would install other files than pip, which reads the directory, and than this scan), and files that are no archive at all. Dangerous anomalies are high; odd ones medium. Nothing is extracted to disk; the format comes from the bytes, not the name.

Archives inside the archive (a wheel vendored in an sdist, a zip of data) are opened in memory and
scanned too, two levels deep; their members are named `outer/inner.zip!/path`. A source file of
any honest size is read in full (up to 128 MiB per member), so padding a `setup.py` with megabytes
of harmless lines does not hide what follows. Whatever could not be read (a member above that cap,
a truncated or corrupt archive, an unreadable or too deeply nested inner archive, too many entries)
is a gap: it is reported here, and the package's scan status is `unknown` with the reason, so
`--fail-on-unknown` fails it. An archive that could not be read in full is never declared clean.

## Why it matters
Malicious uploads are often malformed on purpose, to crash or fool scanners and extractors; an archive customs could not read completely cannot be declared clean.

## Example
```text
../../.bashrc   path traversal (`..`): an extractor would write outside its target
```

## How to fix
Do not install a release with a dangerous anomaly. For a corrupt download, clear the cache and fetch it again.
"#,
};
