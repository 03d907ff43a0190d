//! The static scanner: reads an sdist or wheel in memory (never extracted,
//! never executed) and reports what would run at install, import or
//! interpreter start and what it does with credentials.

pub mod analyze;
pub mod archive;
pub mod rules;

use sha2::Digest as _;

use crate::finding::{Confidence, RuleId, Severity};
pub use analyze::MemberFinding;
pub use archive::Limits;

/// The findings of one archive.
#[derive(Debug, Default)]
pub struct ArchiveScan {
    /// (member path, finding); member `None` for archive-level findings.
    pub findings: Vec<(Option<String>, MemberFinding)>,
    /// Members read.
    pub members: usize,
    /// Whether the read stopped early.
    pub incomplete: bool,
}

/// The scanner could not run at all (its embedded rules failed to compile).
#[derive(Debug, thiserror::Error)]
#[error("the scan rules do not compile: {0}")]
pub struct RulesError(pub String);

/// Text members worth reading.
fn is_text(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    [
        ".py", ".pyw", ".pth", ".sh", ".ps1", ".bat", ".cmd", ".vbs", ".pyi",
    ]
    .iter()
    .any(|s| l.ends_with(s))
}

/// `.pth` lines that are known and harmless, by sha256 of the whitespace-normalised line.
const KNOWN_PTH_LINES: &[&str] = &[
    // setuptools' distutils-precedence.pth
    "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim();",
    // coverage's subprocess measurement
    "import coverage; coverage.process_startup()",
    // pywin32
    "import pywin32_bootstrap",
    // editable installs (setuptools, hatch, pdm, uv)
    "import _virtualenv",
];

fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn known_pth_line(line: &str) -> bool {
    let n = normalise(line);
    let digest = sha2::Sha256::digest(n.as_bytes());
    if KNOWN_PTH_LINES
        .iter()
        .any(|k| sha2::Sha256::digest(normalise(k).as_bytes()) == digest)
    {
        return true;
    }
    // Editable-install finders: `import __editable___<name>_finder; __editable___<name>_finder.install(...)`
    if n.starts_with("import __editable__") && !n.contains("exec") && !n.contains("eval") {
        return true;
    }
    // Namespace-package `-nspkg.pth` lines (setuptools' template; only the package name varies).
    n.starts_with("import sys, types, os;")
        && n.contains("sys._getframe(1).f_locals['sitedir']")
        && !n.contains("exec")
        && !n.contains("eval")
        && !n.contains("urllib")
        && !n.contains("subprocess")
}

/// The module names `.pth` lines import (they run at every interpreter start).
fn pth_imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        if (l.starts_with("import ") || l.starts_with("import\t")) && !known_pth_line(l) {
            for stmt in l.split(';') {
                if let Some(rest) = stmt.trim().strip_prefix("import ") {
                    for m in rest.split(',') {
                        let name = m.split_whitespace().next().unwrap_or("");
                        let top = name.split('.').next().unwrap_or("");
                        if !top.is_empty() {
                            out.push(top.to_ascii_lowercase());
                        }
                    }
                }
            }
        }
    }
    out
}

fn binary_kind(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x7fELF") {
        Some("ELF executable")
    } else if data.starts_with(b"MZ") && data.len() > 64 {
        Some("Windows PE executable")
    } else if data.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
        || data.starts_with(&[0xce, 0xfa, 0xed, 0xfe])
        || data.starts_with(&[0xca, 0xfe, 0xba, 0xbe])
    {
        Some("Mach-O executable")
    } else {
        None
    }
}

/// Whether a wheel's file name says it is pure Python (`-none-any.whl`).
fn pure_wheel(filename: &str) -> bool {
    filename.to_ascii_lowercase().ends_with("-none-any.whl")
}

/// Scans an archive held in memory. `filename` is used only to tell wheels
/// from sdists for the binary check; the format comes from the bytes.
pub fn scan_bytes(
    filename: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<ArchiveScan, RulesError> {
    let rules = rules::rules().map_err(RulesError)?;
    // Text members are read in full; of the rest only the head (for magic numbers).
    let keep = |p: &str| is_text(p) || p.ends_with("/WHEEL");
    // Members are analysed as they stream by; only what needs the whole
    // archive first waits: `.pth` files, top-level modules (a `.pth` may import
    // them), setup.py text, and binaries (judged once setup.py is known).
    let mut pth: Vec<(String, Vec<u8>)> = Vec::new();
    let mut deferred: Vec<(String, Vec<u8>)> = Vec::new();
    let mut binaries: Vec<(String, u64, &'static str)> = Vec::new();
    let mut setup_text = String::new();
    let mut is_wheel = false;
    let mut findings: Vec<(Option<String>, MemberFinding)> = Vec::new();
    let mut on_member = |m: archive::Member| {
        if m.path.contains(".dist-info/") && m.path.ends_with("/WHEEL") {
            is_wheel = true;
        }
        let Some(data) = m.data else { return };
        if let Some(kind) = binary_kind(&data) {
            binaries.push((m.path, m.size, kind));
            return;
        }
        if !is_text(&m.path) {
            return;
        }
        let lower = m.path.to_ascii_lowercase();
        if lower.ends_with(".pth") {
            pth.push((m.path, data));
            return;
        }
        let role = analyze::role(&m.path, &[]);
        if role == analyze::Role::Install {
            setup_text.push_str(&String::from_utf8_lossy(&data));
        }
        let depth = m.path.split('/').filter(|c| !c.is_empty()).count();
        if depth <= 2 && role == analyze::Role::Module {
            deferred.push((m.path, data));
            return;
        }
        for f in analyze::analyze(rules, &m.path, &data, role) {
            findings.push((Some(m.path.clone()), f));
        }
    };
    let contents = archive::read(bytes, limits, &keep, &mut on_member);
    let mut out = ArchiveScan {
        members: contents.members,
        incomplete: contents.incomplete,
        findings,
    };
    for a in &contents.anomalies {
        // Odd but harmless entries (test fixtures that are archives, links that
        // stay inside the archive) are recorded without noise; dangerous ones are high.
        let in_tests = a
            .path
            .as_deref()
            .is_some_and(|p| analyze::role(p, &[]) == analyze::Role::Test);
        let severity = if a.dangerous {
            Severity::High
        } else if in_tests {
            Severity::Info
        } else if a.what.starts_with("symbolic link") || a.what.starts_with("hard link") {
            Severity::Low
        } else {
            Severity::Medium
        };
        out.findings.push((
            a.path.clone(),
            MemberFinding {
                rule: RuleId::ArchiveAnomaly,
                severity,
                confidence: Confidence::High,
                line: None,
                message: a.what.clone(),
                evidence: Vec::new(),
            },
        ));
    }
    let mut startup_modules = Vec::new();
    for (path, data) in &pth {
        startup_modules.extend(pth_imports(&String::from_utf8_lossy(data)));
        out.findings.extend(
            pth_findings(rules, data)
                .into_iter()
                .map(|f| (Some(path.clone()), f)),
        );
    }
    for (path, data) in &deferred {
        let role = analyze::role(path, &startup_modules);
        for f in analyze::analyze(rules, path, data, role) {
            out.findings.push((Some(path.clone()), f));
        }
    }
    let pure = !is_wheel || pure_wheel(filename);
    if pure {
        for (path, size, kind) in binaries {
            let base = path.rsplit('/').next().unwrap_or(&path);
            let used_at_install = !base.is_empty() && setup_text.contains(base);
            out.findings.push((
                Some(path.clone()),
                MemberFinding {
                    rule: RuleId::BinaryPayload,
                    severity: if used_at_install {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    confidence: Confidence::Medium,
                    line: None,
                    message: format!(
                        "{kind} ({size} bytes) in a {}{}",
                        if is_wheel {
                            "pure-Python wheel"
                        } else {
                            "source distribution"
                        },
                        if used_at_install {
                            ", named by setup.py"
                        } else {
                            ""
                        }
                    ),
                    evidence: vec![("size".into(), size.to_string())],
                },
            ));
        }
    }
    Ok(out)
}

fn pth_findings(rules: &rules::Rules, data: &[u8]) -> Vec<MemberFinding> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        if !(l.starts_with("import ") || l.starts_with("import\t")) || known_pth_line(l) {
            continue;
        }
        let hits = rules.scan(l.as_bytes(), 8);
        let kinds: Vec<&str> = hits
            .iter()
            .map(|h| rules.indicators[h.indicator].id.as_str())
            .collect();
        let dangerous = !kinds.is_empty();
        let shown: String = l.chars().take(160).collect();
        out.push(MemberFinding {
            rule: RuleId::PthStartupHook,
            severity: if dangerous {
                Severity::Critical
            } else {
                Severity::High
            },
            confidence: if dangerous {
                Confidence::High
            } else {
                Confidence::Medium
            },
            line: u32::try_from(i + 1).ok(),
            message: if dangerous {
                format!(
                    "a .pth line runs code at every interpreter start and it {}",
                    kinds.join(", ")
                )
            } else {
                "a .pth line runs code at every interpreter start".to_string()
            },
            evidence: vec![("snippet".into(), shown)],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_pth_lines_are_quiet_and_others_are_not() {
        assert!(known_pth_line(
            "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); "
        ));
        assert!(known_pth_line(
            "import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('zope',))"
        ));
        assert!(!known_pth_line(
            "import os; exec(__import__('base64').b64decode('cHJpbnQ='))"
        ));
        assert_eq!(
            pth_imports("import evil_hook\n/some/path\n"),
            vec!["evil_hook"]
        );
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(binary_kind(b"\x7fELF\x02\x01"), Some("ELF executable"));
        assert_eq!(binary_kind(b"print('MZ')"), None);
        assert!(pure_wheel("x-1.0-py3-none-any.whl"));
        assert!(!pure_wheel("x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"));
    }
}
