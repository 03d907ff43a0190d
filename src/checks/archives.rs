//! Scanning what will be installed, inside `customs audit`: pick the pinned
//! files (by default the sdist, every pure-Python wheel and one binary wheel
//! per OS family), download them, verify the bytes against the pinned and the
//! index's sha256 before reading them, scan, and cache the verdict by sha256 and
//! rules version so that a re-run costs nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, StreamExt};

use super::piped::Piped;
use super::release::ReleaseView;
use crate::finding::{Confidence, Finding, Location, RuleId, Severity};
use crate::index::{Answer, FileFacts, IndexClient};
use crate::package::{ArtifactKind, Package, PackageName, SourceKind};
use crate::scan::stream::{Held, Streamed};
use crate::scan::{ArchiveScan, Limits, MemberFinding, scan_held};

/// The findings of one archive, by member.
type Members = Vec<(Option<String>, MemberFinding)>;

/// The largest file downloaded for a scan.
pub const MAX_DOWNLOAD: usize = 256 * 1024 * 1024;

/// Scan settings.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Scan every wheel instead of one binary wheel per OS family.
    pub all_wheels: bool,
    /// Scan the sdist even when a pure wheel is locked (installers never
    /// build it then).
    pub sdists: bool,
    /// Where verdicts are cached (`None`: no cache).
    pub cache_root: Option<PathBuf>,
    /// Wheels larger than this are read by HTTP ranges (`None`: never).
    pub range_reads_over: Option<u64>,
}

/// What happened to a package's archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStatus {
    /// `scanned`, `unknown` or `not-applicable`.
    pub status: &'static str,
    /// The archives scanned (file names).
    pub archives: Vec<String>,
    /// Why unknown or not applicable.
    pub reason: Option<String>,
}

impl ScanStatus {
    fn na(reason: &str) -> Self {
        Self {
            status: "not-applicable",
            archives: Vec::new(),
            reason: Some(reason.into()),
        }
    }
}

fn os_family(filename: &str) -> Option<&'static str> {
    let l = filename.to_ascii_lowercase();
    if !l.ends_with(".whl") || l.ends_with("-none-any.whl") {
        return None;
    }
    if l.contains("linux") {
        Some("linux")
    } else if l.contains("macosx") {
        Some("macos")
    } else if l.contains("win") {
        Some("windows")
    } else {
        Some("other")
    }
}

/// Whether a wheel installs on every Python 3 (`py3-none-any`,
/// `py2.py3-none-any`, `py38-none-any`): then installers take it and never
/// build the release's sdist.
fn universal_wheel(filename: &str) -> bool {
    let l = filename.to_ascii_lowercase();
    let Some(stem) = l.strip_suffix(".whl") else {
        return false;
    };
    let tags: Vec<&str> = stem.rsplitn(4, '-').collect();
    matches!(tags.as_slice(), [platform, abi, python, _]
        if *platform == "any" && *abi == "none" && python.split('.').any(|t| t.starts_with("py3")))
}

/// The sdists [`select`] leaves out: a pure wheel of the release is locked,
/// so pip and uv install it and never build the sdist.
pub fn sdists_not_built<'a>(files: &[&'a FileFacts]) -> Vec<&'a FileFacts> {
    if !files.iter().any(|f| universal_wheel(&f.filename)) {
        return Vec::new();
    }
    files
        .iter()
        .filter(|f| ArtifactKind::from_filename(&f.filename) == ArtifactKind::Sdist)
        .copied()
        .collect()
}

/// The locked files of the release (those the lockfile pins, else all).
fn locked<'a>(pkg: &Package, view: &ReleaseView<'a>) -> Vec<&'a FileFacts> {
    let Some(release) = view.release() else {
        return Vec::new();
    };
    let pinned = view.pinned_files();
    let mut files: Vec<&FileFacts> =
        if pinned.is_empty() && pkg.artifacts.iter().all(|a| a.sha256().is_none()) {
            release.files.iter().collect()
        } else {
            pinned
        };
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    files
}

/// The files of the locked release to scan: what an installer may install.
/// The sdist is left out when a pure wheel is locked (unless `sdists`);
/// of binary wheels, one per OS family (unless `all_wheels`).
pub fn select<'a>(
    pkg: &Package,
    view: &ReleaseView<'a>,
    all_wheels: bool,
    sdists: bool,
) -> Vec<&'a FileFacts> {
    let mut files = locked(pkg, view);
    if !sdists {
        let skip = sdists_not_built(&files);
        files.retain(|f| !skip.iter().any(|s| s.filename == f.filename));
    }
    if all_wheels {
        return files;
    }
    let mut seen = std::collections::BTreeSet::new();
    files
        .into_iter()
        .filter(|f| match os_family(&f.filename) {
            None => true,
            Some(family) => seen.insert(family),
        })
        .collect()
}

/// How the bytes behind a verdict were verified.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verified {
    /// The whole file, by its sha256.
    Whole,
    /// Read by ranges: each member read, by the wheel's RECORD.
    Record,
}

fn cache_path(root: &Path, sha256: &str, verified: Verified) -> PathBuf {
    let how = match verified {
        Verified::Whole => "",
        // Bumped when what a range read accepts changes.
        Verified::Record => "-ranges1",
    };
    root.join("scan-v1").join(format!(
        "{sha256}-{}{how}.json",
        crate::scan::rules::version()
    ))
}

fn cached(
    root: Option<&Path>,
    sha256: &str,
    verified: Verified,
) -> Option<Vec<(Option<String>, MemberFinding)>> {
    let bytes = std::fs::read(cache_path(root?, sha256, verified)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn store(
    root: Option<&Path>,
    sha256: &str,
    verified: Verified,
    findings: &[(Option<String>, MemberFinding)],
) {
    let Some(root) = root else { return };
    let path = cache_path(root, sha256, verified);
    if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(findings)) {
        let _ = std::fs::create_dir_all(dir);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

#[derive(Clone)]
enum FileOutcome {
    /// Scanned: the findings, what could not be scanned (caps, corruption),
    /// which makes the package's scan status unknown, and a note for the
    /// status (how the file was read, when not whole).
    Findings(
        Vec<(Option<String>, MemberFinding)>,
        Vec<String>,
        Option<String>,
    ),
    /// Deliberately not scanned (too large); the rest of the release was.
    Skipped(String),
    Mismatch {
        expected: String,
        got: String,
    },
    Unknown(String),
}

/// What bounds a scan's memory: archive bytes held at once (downloaded and
/// not yet scanned), and scans run at once (each holds its members' text
/// while it works).
pub struct Budget {
    bytes: tokio::sync::Semaphore,
    scans: tokio::sync::Semaphore,
}

/// Archive bytes held at once, in KiB (the unit of the budget's permits).
/// Only files up to [`PIPED_OVER`] are held (and those the index gives no
/// size for, or that must be read again whole); an archive larger than the
/// whole budget waits until it is alone. On the
/// 297-pin bench, 24 MiB rather than 48 peaked lower (with jemalloc's decay
/// in `.cargo/config.toml`, 145-150 MB rather than 158-168) in the same
/// time, and a lockfile of three 83 MB wheels was no slower.
const BYTES_HELD_KIB: u32 = 24 * 1024;

impl Budget {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            bytes: tokio::sync::Semaphore::new(BYTES_HELD_KIB as usize),
            scans: tokio::sync::Semaphore::new(cores.clamp(1, 8)),
        }
    }

    /// The budget's share for a file of `size` bytes (the whole budget when
    /// the index does not say).
    fn share(size: Option<u64>) -> u32 {
        let all = BYTES_HELD_KIB;
        size.map_or(all, |s| {
            u32::try_from(s.div_ceil(1024)).map_or(all, |k| k.clamp(1, all))
        })
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

async fn one_file(
    client: &IndexClient,
    file: &FileFacts,
    pinned: Option<String>,
    settings: &ScanSettings,
    budget: &Budget,
) -> FileOutcome {
    let Some(index_sha) = file.sha256.clone() else {
        return FileOutcome::Unknown(format!(
            "{}: the index publishes no sha256, so the bytes cannot be verified",
            file.filename
        ));
    };
    let cache_root = settings.cache_root.as_deref();
    if let Some(hit) = cached(cache_root, &index_sha, Verified::Whole) {
        return FileOutcome::Findings(hit, Vec::new(), None);
    }
    let by_ranges = file.filename.ends_with(".whl")
        && settings
            .range_reads_over
            .is_some_and(|over| file.size.is_some_and(|s| s > over));
    let mut note = None;
    if by_ranges && let Some(hit) = cached(cache_root, &index_sha, Verified::Record) {
        return FileOutcome::Findings(
            hit,
            Vec::new(),
            Some(format!(
                "{}: the verdict of an earlier read by range requests (verified by RECORD, not by the file's sha256)",
                file.filename
            )),
        );
    }
    let too_large = |note: Option<String>| {
        let skipped = format!(
            "{} not scanned: larger than {} MiB",
            file.filename,
            MAX_DOWNLOAD >> 20
        );
        FileOutcome::Skipped(match note {
            Some(n) => format!("{n}; {skipped}"),
            None => skipped,
        })
    };
    let over_cap = file.size.is_some_and(|s| s > MAX_DOWNLOAD as u64);
    if over_cap && !by_ranges {
        return too_large(None);
    }
    if client.config().offline {
        return FileOutcome::Unknown(format!("{}: offline, and no cached verdict", file.filename));
    }
    if by_ranges && let Some(len) = file.size {
        match by_range(client, file, len, budget).await {
            Ok(read) => {
                store(
                    cache_root,
                    &index_sha,
                    Verified::Record,
                    &read.scan.findings,
                );
                let said = read.note(&file.filename, len);
                return FileOutcome::Findings(read.scan.findings, Vec::new(), Some(said));
            }
            Err(why) => {
                let then = if over_cap {
                    "and too large to read whole"
                } else {
                    "so read whole"
                };
                note = Some(format!(
                    "{}: not read by ranges ({why}), {then}",
                    file.filename
                ));
            }
        }
    }
    if over_cap {
        return too_large(note);
    }
    let expected: Vec<String> = [Some(index_sha), pinned].into_iter().flatten().collect();
    let mut result = None;
    if let Some(len) = file.size.filter(|&s| pipes(&file.filename, s)) {
        match piped(client, file, len, &expected, budget).await {
            Piped::Scanned(scan) => result = Some(scan),
            Piped::ReadWhole => {}
            Piped::Mismatch { expected, got } => return FileOutcome::Mismatch { expected, got },
            Piped::Failed(why) => return FileOutcome::Unknown(why),
        }
    }
    let result = match result {
        Some(scan) => scan,
        None => match held(client, file, &expected, budget).await {
            Ok(scan) => scan,
            Err(outcome) => return outcome,
        },
    };
    // Only complete verdicts are kept: a scan with gaps is retried.
    if result.gaps.is_empty() {
        store(cache_root, &expected[0], Verified::Whole, &result.findings);
    }
    FileOutcome::Findings(result.findings, result.gaps, note)
}

/// A file downloaded within the budget and scanned from memory: of a zip
/// what the scanner reads is kept as it streams in; the file is read again,
/// keeping every byte, if that was not enough.
async fn held(
    client: &IndexClient,
    file: &FileFacts,
    expected: &[String],
    budget: &Budget,
) -> Result<ArchiveScan, FileOutcome> {
    // The whole file's share, held until the scan is done, though of a zip
    // only part is kept: handing back what was not kept let more files wait
    // for a scan, and peak memory rose (measured). A closed semaphore cannot
    // happen (the budget is never closed), so an error just means no wait.
    let _held = budget.bytes.acquire_many(Budget::share(file.size)).await;
    for whole in [false, true] {
        let got = streamed(client, file, whole, expected).await?;
        let name = file.filename.clone();
        let _scanning = budget.scans.acquire().await;
        match tokio::task::spawn_blocking(move || scan_held(&name, got, &Limits::default())).await {
            Ok(Ok(Some(scanned))) => return Ok(scanned),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err(FileOutcome::Unknown(e.to_string())),
            Err(e) => {
                return Err(FileOutcome::Unknown(format!(
                    "{}: the scan failed: {e}",
                    file.filename
                )));
            }
        }
    }
    Err(FileOutcome::Unknown(format!(
        "{}: read whole, still not readable",
        file.filename
    )))
}

/// Whether a file of `size` bytes is read as it downloads ([`piped`]): an
/// archive (by its name; the scan still goes by the bytes) above
/// [`PIPED_OVER`].
fn pipes(filename: &str, size: u64) -> bool {
    size > PIPED_OVER && ArtifactKind::from_filename(filename) != ArtifactKind::Other
}

/// Files above this are read as they download, each holding a scan's place
/// meanwhile; smaller ones download within the budget, many at once, while
/// others are scanned (their latency, not their bytes, is what costs). On
/// the 297-pin bench, 3 runs each: above 2 MiB, 11.0-11.5 s and 113-116
/// MiB; above 4 MiB, 10.7-11.1 s and 121-125 MiB. Two runs each, before
/// the queue took 64 KiB batches: above 8 MiB, 11.2-11.3 s and 133 MiB;
/// nothing piped, 12.4-12.9 s and 143-145 MiB; everything, 12.5-13.6 s and
/// 109-113 MiB (every file's latency then holds a scan's place).
const PIPED_OVER: u64 = 4 << 20;

/// Bytes of the budget a piped file holds: its queue (16 batches of 64
/// KiB), and the readers' buffers.
const PIPED_KIB: u32 = 1024;

/// A file scanned as it downloads ([`super::piped`]), holding a scan's
/// place meanwhile: the scan works as the bytes come.
async fn piped(
    client: &IndexClient,
    file: &FileFacts,
    len: u64,
    expected: &[String],
    budget: &Budget,
) -> Piped {
    let _held = budget
        .bytes
        .acquire_many(Budget::share(Some(len)).min(PIPED_KIB))
        .await;
    let _scanning = budget.scans.acquire().await;
    super::piped::scan(client, file, len, expected).await
}

/// Downloads a file, hashing every byte and keeping, of a zip, what the
/// scanner reads (every byte when `whole`); the bytes must have every
/// `expected` sha256 (the index's first). Each chunk is hashed as it
/// arrives, on the runtime's thread: a build that skipped the hash was
/// neither faster nor smaller on the 297-pin bench (measured).
async fn streamed(
    client: &IndexClient,
    file: &FileFacts,
    whole: bool,
    expected: &[String],
) -> Result<Held, FileOutcome> {
    let mut body = Streamed::for_scan(file.size, MAX_DOWNLOAD as u64, whole);
    if let Err(e) = client
        .download_into(&file.url, MAX_DOWNLOAD, &mut body)
        .await
    {
        return Err(FileOutcome::Unknown(format!(
            "{}: download failed: {e}",
            file.filename
        )));
    }
    let got = body.finish();
    if let Some(want) = expected.iter().find(|e| **e != got.sha256) {
        return Err(FileOutcome::Mismatch {
            expected: want.clone(),
            got: got.sha256,
        });
    }
    Ok(got)
}

impl crate::index::Body for Streamed {
    fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        Streamed::push(self, chunk)
    }

    fn restart(&mut self) {
        Streamed::restart(self);
    }
}

/// Scans a wheel by range requests, on a blocking thread.
async fn by_range(
    client: &IndexClient,
    file: &FileFacts,
    len: u64,
    budget: &Budget,
) -> Result<super::ranged::RangeRead, String> {
    // Counted as if read whole: what is fetched is unknown until the
    // central directory is read, and can be most of the file.
    let _held = budget.bytes.acquire_many(Budget::share(Some(len))).await;
    // The requests do not hold a scan's place: only the scan does.
    let (client, url) = (client.clone(), file.url.clone());
    let handle = tokio::runtime::Handle::current();
    let sparse =
        tokio::task::spawn_blocking(move || super::ranged::fetch(client, handle, url, len))
            .await
            .map_err(|e| format!("the range read failed: {e}"))??;
    let _scanning = budget.scans.acquire().await;
    let name = file.filename.clone();
    tokio::task::spawn_blocking(move || super::ranged::scan(&sparse, &name))
        .await
        .map_err(|e| format!("the scan failed: {e}"))?
}

/// Rules whose appearance in a new release is worth comparing with the previous one.
const BEHAVIOUR: &[RuleId] = &[
    RuleId::Exfiltration,
    RuleId::InstallHook,
    RuleId::PthStartupHook,
    RuleId::ObfuscatedExec,
    RuleId::DownloadExec,
];

/// The same kind of file (sdist, pure wheel, or binary wheel for the same OS)
/// in the release just before the locked one ([`ProjectFacts::previous`]:
/// never an older release because the previous one's files are not at hand;
/// the index client keeps them whole).
///
/// [`ProjectFacts::previous`]: crate::index::ProjectFacts::previous
fn previous_counterpart(
    facts: &crate::index::ProjectFacts,
    pkg: &Package,
    file: &FileFacts,
) -> Option<(String, FileFacts)> {
    let current = pkg.version.as_ref()?;
    let kind = |name: &str| (name.to_ascii_lowercase().ends_with(".whl"), os_family(name));
    let want = kind(&file.filename);
    let previous = facts.previous(current).filter(|r| !r.summarised())?;
    previous
        .files
        .iter()
        .find(|f| kind(&f.filename) == want)
        .or_else(|| {
            // No file of the same kind: another that holds the same Python
            // (an sdist for a pure wheel and back).
            previous
                .files
                .iter()
                .find(|f| os_family(&f.filename).is_none())
        })
        .map(|f| (previous.version.clone(), f.clone()))
}

/// A member path as the installed package has it: without an sdist's
/// `name-version/` top directory and without a `src/` layout directory, so
/// that one file has one path in the sdist and in the wheels.
fn stable_path(member: Option<&String>, sdist: bool) -> String {
    let m = member.map_or("", String::as_str);
    let m = if sdist {
        m.split_once('/').map_or(m, |(_, rest)| rest)
    } else {
        m
    };
    m.strip_prefix("src/").unwrap_or(m).to_string()
}

/// How a project's history weighs a behaviour its previous release had too:
/// a project with [`ESTABLISHED_RELEASES`] releases over at least
/// [`ESTABLISHED_DAYS`] days before this one has shipped it through a
/// history an attacker does not fake in a day.
const ESTABLISHED_RELEASES: usize = 10;
const ESTABLISHED_DAYS: i64 = 365;

/// Whether the project had a long history before the locked release: the
/// number of releases with files, and the first upload at least a year
/// before the locked release's. `None` when the index does not say.
pub fn established(
    facts: &crate::index::ProjectFacts,
    pkg: &Package,
) -> Option<(usize, jiff::Timestamp)> {
    let (releases, first, days) = facts.history_before(pkg.version.as_ref()?)?;
    (releases >= ESTABLISHED_RELEASES && days >= ESTABLISHED_DAYS).then_some((releases, first))
}

/// Marks each behaviour finding as new since, or long-standing from, the
/// previous release. New ones gain a severity level. Long-standing ones
/// keep theirs, or lose one in an established project (`history`), and say
/// so; a new one is never lowered.
fn annotate_diff(
    list: &mut [(Option<String>, MemberFinding)],
    prev: &[(Option<String>, MemberFinding)],
    prev_version: &str,
    layouts: (bool, bool),
    history: Option<(usize, jiff::Timestamp)>,
) {
    let (sdist, prev_sdist) = layouts;
    let before: std::collections::BTreeSet<(RuleId, String)> = prev
        .iter()
        .map(|(m, f)| (f.rule, stable_path(m.as_ref(), prev_sdist)))
        .collect();
    for (member, f) in list.iter_mut().filter(|(_, f)| BEHAVIOUR.contains(&f.rule)) {
        if before.contains(&(f.rule, stable_path(member.as_ref(), sdist))) {
            f.evidence
                .push(("long-standing".into(), prev_version.to_string()));
            if let Some((releases, since)) = history
                && f.severity > Severity::Low
            {
                let was = f.severity;
                f.severity = f.severity.lowered();
                f.evidence.push((
                    "lowered".into(),
                    format!(
                        "from {was}: also in {prev_version}, in a project with {releases} releases since {}",
                        since.strftime("%Y-%m-%d")
                    ),
                ));
            }
        } else {
            f.evidence
                .push(("new-since".into(), prev_version.to_string()));
            f.message.push_str(&format!(
                " (new since {prev_version}: the previous release did not do this)"
            ));
            // What was capped because it does not run on install or import
            // (a script nothing names, an inner archive) stays capped.
            let capped = f
                .evidence
                .iter()
                .any(|(label, _)| label == "runs" || label == "nested");
            if !capped {
                f.severity = f.severity.raised();
                f.confidence = Confidence::High;
            }
        }
    }
}

/// Hosts that serve many projects: a project URL there says nothing about
/// who owns the rest of the host.
const SHARED_HOSTS: &[&str] = &[
    "github.com",
    "github.io",
    "gitlab.com",
    "gitlab.io",
    "bitbucket.org",
    "codeberg.org",
    "sr.ht",
    "sourceforge.net",
    "readthedocs.io",
    "readthedocs.org",
    "pypi.org",
    "pythonhosted.org",
    "python.org",
    "google.com",
    "googleusercontent.com",
    "medium.com",
    "discord.com",
    "discord.gg",
    "twitter.com",
    "x.com",
];

/// The last two labels of a host (`api.example.com` -> `example.com`).
fn site(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').rsplit('.').take(2).collect();
    labels
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(".")
        .to_ascii_lowercase()
}

/// The host a URL or a host spelled in evidence names.
fn host_of(text: &str) -> Option<String> {
    let text = text.trim();
    let parsed = url::Url::parse(text)
        .ok()
        .or_else(|| url::Url::parse(&format!("https://{text}")).ok())?;
    parsed.host_str().map(str::to_ascii_lowercase)
}

/// Why a project is believed about its own site: a history an attacker
/// does not fake in a day ([`established`]), or a place in the shipped list
/// of the most-downloaded projects (by its exact name, so never a
/// look-alike's). `None`: no reputation, nothing is lowered.
fn reputation(facts: &crate::index::ProjectFacts, pkg: &Package) -> Option<String> {
    if let Some((releases, since)) = established(facts, pkg) {
        return Some(format!(
            "{releases} releases since {}",
            since.strftime("%Y-%m-%d")
        ));
    }
    crate::names::top()
        .rank(pkg.name.as_str())
        .map(|r| format!("#{r} of the most-downloaded projects"))
}

/// Whether `home` (a site, `example.com`) bears the package's name: its
/// first label is the name without separators (`huggingface-hub` and
/// `huggingfacehub.co`), or the name's first word of five letters or more
/// (`huggingface.co`).
fn site_bears_name(home: &str, name: &str) -> bool {
    let Some(label) = home.split('.').next() else {
        return false;
    };
    let compact: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let first = name.split(['-', '_', '.']).next().unwrap_or(name);
    label == compact || (first.len() >= 5 && label == first)
}

/// Reputation that only lowers: data sent to a host of the project's own
/// site (a project URL on a domain the project alone serves, such as its
/// documentation, or a domain that bears the package's name) is one level
/// less severe when the project has a reputation ([`reputation`]), with
/// both reasons in the evidence. Never for what is new since the previous
/// release, nor for a receiving service or a chat bot; a release whose
/// provenance changed hands loses it again ([`no_reputation_across_new_hands`]).
fn own_site_lowers(list: &mut Members, facts: &crate::index::ProjectFacts, pkg: &Package) {
    let Some(standing) = reputation(facts, pkg) else {
        return;
    };
    let own: Vec<String> = facts
        .project_urls
        .iter()
        .filter_map(|u| host_of(u))
        .map(|h| site(&h))
        .filter(|s| !SHARED_HOSTS.contains(&s.as_str()))
        .collect();
    for (_, f) in list.iter_mut() {
        if !matches!(f.rule, RuleId::Exfiltration | RuleId::SuspiciousEndpoint)
            || f.severity <= Severity::Low
            || f.evidence.iter().any(|(l, _)| l == "new-since")
        {
            continue;
        }
        let Some(host) = f
            .evidence
            .iter()
            .find(|(l, _)| l == "host")
            .and_then(|(_, v)| {
                let (spelled, class) = v.rsplit_once(": ")?;
                (class == "a host named in the file" || class == "the project's own host")
                    .then(|| host_of(spelled))
                    .flatten()
            })
        else {
            continue;
        };
        let home = site(&host);
        if SHARED_HOSTS.contains(&home.as_str()) {
            continue;
        }
        let why = if own.contains(&home) {
            "its project URLs"
        } else if site_bears_name(&home, pkg.name.as_str()) {
            "it bears the package's name"
        } else {
            continue;
        };
        let was = f.severity;
        f.severity = f.severity.lowered();
        f.evidence.push((
            "lowered".into(),
            format!("from {was}: {host} is on {home}, the project's own site ({why}), and the project has a reputation ({standing})"),
        ));
    }
}

/// A release whose provenance changed hands (`publisher-changed`, or
/// `provenance-regressed`: an earlier release was attested, this one is
/// not) is not vouched for by the project's history or its site: every
/// lowering of its archive findings is undone, and the evidence says why.
pub fn no_reputation_across_new_hands(findings: &mut [Finding]) {
    let changed: std::collections::BTreeSet<(Option<PackageName>, Option<String>, RuleId)> =
        findings
            .iter()
            .filter(|f| {
                matches!(
                    f.rule,
                    RuleId::PublisherChanged | RuleId::ProvenanceRegressed
                )
            })
            .map(|f| (f.package.clone(), f.version.clone(), f.rule))
            .collect();
    if changed.is_empty() {
        return;
    }
    let scanned = |r: RuleId| BEHAVIOUR.contains(&r) || r == RuleId::SuspiciousEndpoint;
    for f in findings.iter_mut().filter(|f| scanned(f.rule)) {
        let Some((_, _, rule)) = changed
            .iter()
            .find(|(p, v, _)| *p == f.package && *v == f.version)
        else {
            continue;
        };
        for e in f.evidence.iter_mut().filter(|e| e.label == "lowered") {
            f.severity = f.severity.raised();
            e.label = "not lowered".into();
            e.value = format!(
                "{}; but the provenance of this release changed hands ({rule})",
                e.value
            );
        }
    }
}

/// One finding per behaviour per release: the same rule at the same file
/// (by its installed path) and line in several archives of a release (the
/// sdist and the wheels) is one finding, the most severe, whose evidence
/// lists every archive.
fn one_per_release(per_archive: Vec<(String, Members)>) -> Vec<(String, Members)> {
    type Key = (RuleId, String, Option<u32>);
    let mut best: BTreeMap<Key, (String, Option<String>, MemberFinding, Vec<String>)> =
        BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    let mut per_archive = per_archive;
    per_archive.sort_by(|a, b| a.0.cmp(&b.0));
    for (archive, list) in per_archive {
        let sdist = !archive.to_ascii_lowercase().ends_with(".whl");
        for (member, f) in list {
            let key = (f.rule, stable_path(member.as_ref(), sdist), f.line);
            let where_ = match &member {
                Some(m) => format!("{archive}!{m}"),
                None => archive.clone(),
            };
            match best.get_mut(&key) {
                Some(entry) => {
                    entry.3.push(where_);
                    if f.severity > entry.2.severity {
                        entry.0 = archive.clone();
                        entry.1 = member;
                        entry.2 = f;
                    }
                }
                None => {
                    order.push(key.clone());
                    best.insert(key, (archive.clone(), member, f, vec![where_]));
                }
            }
        }
    }
    let mut out: Vec<(String, Members)> = Vec::new();
    for key in order {
        let Some((archive, member, mut f, seen)) = best.remove(&key) else {
            continue;
        };
        if seen.len() > 1 {
            f.evidence.push(("archives".into(), seen.join(", ")));
        }
        match out.iter_mut().find(|(a, _)| *a == archive) {
            Some((_, list)) => list.push((member, f)),
            None => out.push((archive, vec![(member, f)])),
        }
    }
    out
}

/// The findings of one scanned archive of `pkg`, located at the package's
/// file (and `line`, for lockfiles) and at the member inside the archive.
/// `audit`, `check` and `scan` all report archive findings through here.
pub fn archive_findings(
    pkg: &Package,
    line: Option<u32>,
    archive: &str,
    list: Vec<(Option<String>, MemberFinding)>,
) -> Vec<Finding> {
    list.into_iter()
        .map(|(member, f)| {
            let mut b = Finding::for_package(f.rule, pkg)
                .severity(f.severity)
                .confidence(f.confidence)
                .location(Location {
                    file: pkg.origin.file.clone(),
                    line,
                    archive: Some(archive.to_string()),
                    member,
                    member_line: f.line,
                });
            for (label, value) in f.evidence {
                b = b.evidence(label, value);
            }
            b.message(f.message)
        })
        .collect()
}

/// The reason an archive with gaps leaves the scan status `unknown`.
pub fn gap_reason(archive: &str, gaps: &[String]) -> String {
    format!("{archive} was not scanned in full: {}", gaps.join("; "))
}

/// A file as a package expects it: URL, the index's sha256, the pinned one.
type FileKey = (String, Option<String>, Option<String>);

/// A file's outcome, awaited by every package that locks the file.
type Pending = Shared<BoxFuture<'static, Arc<FileOutcome>>>;

/// Fetches and scans archives, each file once per run, as early as a
/// package's index answer allows: [`Scanner::start`] is called as answers
/// arrive, while the rest of the index is still being asked, and
/// [`scan_all`] then awaits what was started (and starts what was not).
/// Every fetch shares one memory budget and one limit on files in flight.
pub struct Scanner {
    client: IndexClient,
    settings: ScanSettings,
    budget: Budget,
    /// Files fetched or scanned at once (the index client's concurrency).
    in_flight: tokio::sync::Semaphore,
    /// By (URL, the index's sha256, the pinned sha256): each package's
    /// expectations are checked against the bytes, never another's.
    started: std::sync::Mutex<HashMap<FileKey, Pending>>,
}

impl Scanner {
    pub fn new(client: &IndexClient, settings: ScanSettings) -> Arc<Self> {
        Arc::new(Self {
            client: client.clone(),
            settings,
            budget: Budget::new(),
            in_flight: tokio::sync::Semaphore::new(client.config().concurrency.clamp(1, 16)),
            started: std::sync::Mutex::default(),
        })
    }

    /// Starts fetching and scanning the files [`scan_all`] will want of
    /// `pkg`, now that the index answered for it. Must be called inside the
    /// runtime; does nothing for a package that will not be scanned.
    pub fn start(self: &Arc<Self>, pkg: &Package, answer: Option<&Answer>) {
        let Some(Answer::Found(facts)) = answer else {
            return;
        };
        if pkg.source.kind != SourceKind::Registry || pkg.version.is_none() {
            return;
        }
        let view = ReleaseView::new(pkg, Some(facts));
        for (f, pinned) in scanned_files(pkg, &view, &self.settings) {
            drop(self.pending(f, pinned));
        }
    }

    /// The file's outcome, started now if it was not yet.
    async fn outcome(self: &Arc<Self>, file: &FileFacts, pinned: Option<String>) -> FileOutcome {
        FileOutcome::clone(&*self.pending(file, pinned).await)
    }

    fn pending(self: &Arc<Self>, file: &FileFacts, pinned: Option<String>) -> Pending {
        let key = (file.url.clone(), file.sha256.clone(), pinned.clone());
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = started.get(&key) {
            return p.clone();
        }
        let (this, owned) = (Arc::clone(self), file.clone());
        let task = tokio::spawn(async move {
            // A closed semaphore cannot happen (it is never closed).
            let _slot = this.in_flight.acquire().await;
            one_file(&this.client, &owned, pinned, &this.settings, &this.budget).await
        });
        let filename = file.filename.clone();
        let pending = async move {
            Arc::new(task.await.unwrap_or_else(|e| {
                FileOutcome::Unknown(format!("{filename}: the scan failed: {e}"))
            }))
        }
        .boxed()
        .shared();
        started.insert(key, pending.clone());
        pending
    }
}

/// The files of `pkg` the scan reads ([`select`]), each with the sha256 the
/// lockfile pins for it: what [`Scanner::start`] starts early and what
/// [`scan_all`] awaits.
fn scanned_files<'a>(
    pkg: &Package,
    view: &ReleaseView<'a>,
    settings: &ScanSettings,
) -> Vec<(&'a FileFacts, Option<String>)> {
    select(pkg, view, settings.all_wheels, settings.sdists)
        .into_iter()
        .map(|f| (f, pkg.pinned_sha256(&f.filename).map(str::to_string)))
        .collect()
}

/// The previous release's findings in the counterpart of a file.
struct Previous {
    version: String,
    findings: Members,
    /// The previous file is an sdist.
    sdist: bool,
}

/// Behaviour that the previous release did not have is the
/// compromised-maintainer pattern: when a file shows some, the previous
/// release's counterpart is scanned too, to compare with it.
async fn compared(
    scanner: &Arc<Scanner>,
    packages: &[Package],
    answers: &[Option<&Answer>],
    i: usize,
    file: &FileFacts,
    outcome: &FileOutcome,
) -> Option<Previous> {
    let FileOutcome::Findings(list, ..) = outcome else {
        return None;
    };
    if !list.iter().any(|(_, f)| BEHAVIOUR.contains(&f.rule)) {
        return None;
    }
    let Some(Answer::Found(facts)) = answers.get(i).copied().flatten() else {
        return None;
    };
    let (version, prev_file) = previous_counterpart(facts, packages.get(i)?, file)?;
    match scanner.outcome(&prev_file, None).await {
        FileOutcome::Findings(findings, ..) => Some(Previous {
            version,
            findings,
            sdist: !prev_file.filename.ends_with(".whl"),
        }),
        _ => None,
    }
}

/// Scans the locked archives of every registry package the index answered for.
pub async fn scan_all(
    scanner: &Arc<Scanner>,
    packages: &[Package],
    answers: &[Option<&Answer>],
) -> (Vec<Finding>, Vec<ScanStatus>) {
    let settings = &scanner.settings;
    let mut jobs = Vec::new();
    let mut statuses: Vec<ScanStatus> = Vec::with_capacity(packages.len());
    for (i, pkg) in packages.iter().enumerate() {
        let facts = match answers.get(i).copied().flatten() {
            Some(Answer::Found(f)) => Some(f),
            _ => None,
        };
        if pkg.source.kind != SourceKind::Registry {
            statuses.push(ScanStatus::na("not from a package index"));
            continue;
        }
        if pkg.version.is_none() {
            statuses.push(ScanStatus::na("no pinned version"));
            continue;
        }
        let Some(facts) = facts else {
            statuses.push(ScanStatus {
                status: "unknown",
                archives: Vec::new(),
                reason: Some("the index could not answer, so the archives are unknown".into()),
            });
            continue;
        };
        let view = ReleaseView::new(pkg, Some(facts));
        let files = scanned_files(pkg, &view, settings);
        if files.is_empty() {
            statuses.push(ScanStatus::na("no files of the release to scan"));
            continue;
        }
        let not_built: Vec<String> = if settings.sdists {
            Vec::new()
        } else {
            sdists_not_built(&locked(pkg, &view))
                .iter()
                .map(|f| f.filename.clone())
                .collect()
        };
        statuses.push(ScanStatus {
            status: "scanned",
            archives: files.iter().map(|(f, _)| f.filename.clone()).collect(),
            reason: (!not_built.is_empty()).then(|| {
                format!(
                    "{} not scanned: installers take the pure wheel and never build it (--scan-sdists scans it too)",
                    not_built.join(", ")
                )
            }),
        });
        for (f, pinned) in files {
            jobs.push((i, f.clone(), pinned));
        }
    }
    let mut results: Vec<(usize, FileFacts, FileOutcome, Option<Previous>)> =
        futures::stream::iter(jobs)
            .map(|(i, f, pinned)| async move {
                let outcome = scanner.outcome(&f, pinned).await;
                let previous = compared(scanner, packages, answers, i, &f, &outcome).await;
                (i, f, outcome, previous)
            })
            .buffer_unordered(usize::MAX)
            .collect()
            .await;
    // Every outcome is in `results` now: the scanner's copies go.
    scanner
        .started
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    // In the order of the packages and files, not of the downloads: notes
    // and reasons are joined in this order.
    results.sort_by(|a, b| (a.0, &a.1.filename).cmp(&(b.0, &b.1.filename)));
    let mut findings = Vec::new();
    let mut unknown: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut per_release: BTreeMap<usize, Vec<(String, Members)>> = BTreeMap::new();
    for (i, file, outcome, previous) in results {
        let pkg = &packages[i];
        match outcome {
            FileOutcome::Findings(mut list, gaps, note) => {
                if let Some(note) = note
                    && let Some(s) = statuses.get_mut(i)
                {
                    s.reason = Some(match s.reason.take() {
                        Some(r) => format!("{r}; {note}"),
                        None => note,
                    });
                }
                if let Some(Previous {
                    version,
                    findings: prev,
                    sdist,
                }) = previous
                    && let Some(Answer::Found(facts)) = answers.get(i).copied().flatten()
                {
                    let layouts = (!file.filename.ends_with(".whl"), sdist);
                    annotate_diff(&mut list, &prev, &version, layouts, established(facts, pkg));
                }
                if let Some(Answer::Found(facts)) = answers.get(i).copied().flatten() {
                    own_site_lowers(&mut list, facts, pkg);
                }
                per_release.entry(i).or_default().push((file.filename.clone(), list));
                if !gaps.is_empty() {
                    unknown.entry(i).or_default().push(gap_reason(&file.filename, &gaps));
                }
            }
            FileOutcome::Mismatch { expected, got } => findings.push(
                Finding::for_package(RuleId::HashMismatch, pkg)
                    .severity(Severity::Critical)
                    .confidence(Confidence::High)
                    .evidence("expected", format!("sha256:{expected}"))
                    .evidence("downloaded", format!("sha256:{got}"))
                    .message(format!(
                        "the bytes downloaded for {} do not have the expected sha256: not scanned, not to be installed",
                        file.filename
                    )),
            ),
            FileOutcome::Unknown(reason) => unknown.entry(i).or_default().push(reason),
            FileOutcome::Skipped(reason) => {
                if let Some(s) = statuses.get_mut(i) {
                    s.reason = Some(match s.reason.take() {
                        Some(r) => format!("{r}; {reason}"),
                        None => reason,
                    });
                }
            }
        }
    }
    for (i, archives) in per_release {
        let pkg = &packages[i];
        for (archive, list) in one_per_release(archives) {
            findings.extend(archive_findings(pkg, Some(pkg.origin.line), &archive, list));
        }
    }
    for (i, reasons) in unknown {
        if let Some(s) = statuses.get_mut(i) {
            s.status = "unknown";
            s.reason = Some(reasons.join("; "));
        }
    }
    (findings, statuses)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(evidence: Vec<(String, String)>) -> (Option<String>, MemberFinding) {
        (
            Some("p-2.0/ci/run.sh".into()),
            MemberFinding {
                rule: RuleId::DownloadExec,
                severity: Severity::Medium,
                confidence: Confidence::Medium,
                line: Some(3),
                message: "downloads a file and runs a program".into(),
                evidence,
            },
        )
    }

    #[test]
    fn new_behaviour_gains_a_level_unless_it_was_capped_for_not_running() {
        let mut list = vec![
            finding(Vec::new()),
            finding(vec![(
                "runs".into(),
                "only if someone runs this script".into(),
            )]),
        ];
        annotate_diff(&mut list, &[], "1.0", (true, true), None);
        assert_eq!(list[0].1.severity, Severity::High);
        assert_eq!(list[1].1.severity, Severity::Medium);
        assert!(list[1].1.message.contains("new since 1.0"));
    }

    fn pth(member: &str, severity: Severity) -> (Option<String>, MemberFinding) {
        (
            Some(member.into()),
            MemberFinding {
                rule: RuleId::PthStartupHook,
                severity,
                confidence: Confidence::High,
                line: Some(1),
                message: "a .pth file runs code at every interpreter start".into(),
                evidence: Vec::new(),
            },
        )
    }

    #[test]
    fn long_standing_behaviour_is_not_raised_and_is_lowered_only_with_a_history() {
        let prev = vec![pth("a1_hook.pth", Severity::High)];
        // Across layouts: the previous release's wheel, this release's sdist.
        let mut list = vec![pth("p-2.0/src/a1_hook.pth", Severity::High)];
        annotate_diff(&mut list, &prev, "1.9", (true, false), None);
        assert_eq!(list[0].1.severity, Severity::High);
        assert!(
            list[0]
                .1
                .evidence
                .contains(&("long-standing".into(), "1.9".into()))
        );
        let since: jiff::Timestamp = "2019-01-01T00:00:00Z".parse().unwrap();
        let mut list = vec![pth("p-2.0/a1_hook.pth", Severity::High)];
        annotate_diff(&mut list, &prev, "1.9", (true, false), Some((40, since)));
        assert_eq!(list[0].1.severity, Severity::Medium);
        assert!(
            list[0]
                .1
                .evidence
                .iter()
                .any(|(l, v)| l == "lowered" && v.contains("40 releases since 2019-01-01")),
            "{:?}",
            list[0].1.evidence
        );
        // New in an established project: raised, never lowered.
        let mut list = vec![pth("p-2.0/evil.pth", Severity::High)];
        annotate_diff(&mut list, &prev, "1.9", (true, false), Some((40, since)));
        assert_eq!(list[0].1.severity, Severity::Critical);
        assert!(
            list[0]
                .1
                .evidence
                .contains(&("new-since".into(), "1.9".into()))
        );
    }

    /// A project named `name` with `n` yearly releases from 2010, locked on
    /// the last.
    fn project(name: &str, n: usize, urls: &[&str]) -> (Package, crate::index::ProjectFacts) {
        let releases = (1..=n)
            .map(|i| crate::index::ReleaseFacts {
                version: format!("1.{i}"),
                files: vec![FileFacts {
                    filename: format!("{name}-1.{i}.tar.gz"),
                    url: String::new(),
                    sha256: None,
                    upload_time: format!("{}-01-01T00:00:00Z", 2009 + i).parse().ok(),
                    yanked: false,
                    yanked_reason: None,
                    size: None,
                    packagetype: None,
                }],
            })
            .collect();
        let facts = crate::index::ProjectFacts {
            name: name.into(),
            releases,
            status: None,
            project_urls: urls.iter().map(|u| (*u).to_string()).collect(),
            api: "json".into(),
            url: String::new(),
        };
        let pkg = Package::new(
            PackageName::new(name).unwrap(),
            Some(crate::package::Version::new(&format!("1.{n}"))),
            crate::package::Origin {
                file: "uv.lock".into(),
                line: 1,
            },
        );
        (pkg, facts)
    }

    #[test]
    fn data_sent_to_the_projects_own_site_is_lowered_and_nothing_else() {
        let (pkg, _) = project("p", 12, &[]);
        let facts = |urls: &[&str]| project("p", 12, urls).1;
        let leak = |host: &str, extra: Option<(&str, &str)>| {
            let mut evidence = vec![("host".to_string(), host.to_string())];
            evidence.extend(extra.map(|(a, b)| (a.to_string(), b.to_string())));
            (
                Some("p/client.py".to_string()),
                MemberFinding {
                    rule: RuleId::Exfiltration,
                    severity: Severity::Medium,
                    confidence: Confidence::High,
                    line: Some(3),
                    message: "sends".into(),
                    evidence,
                },
            )
        };
        let mut list = vec![
            leak("https://api.example.com/v1: a host named in the file", None),
            leak(
                "https://collector.example.net/c: a host named in the file",
                None,
            ),
            leak(
                "https://api.example.com/v1: a host named in the file",
                Some(("new-since", "1.0")),
            ),
            leak("https://hooks.example.com/x: a receiving service", None),
        ];
        own_site_lowers(
            &mut list,
            &facts(&["https://docs.example.com/", "https://github.com/example/p"]),
            &pkg,
        );
        let sev: Vec<Severity> = list.iter().map(|(_, f)| f.severity).collect();
        assert_eq!(
            sev,
            [
                Severity::Low,
                Severity::Medium,
                Severity::Medium,
                Severity::Medium
            ]
        );
        assert!(
            list[0]
                .1
                .evidence
                .iter()
                .any(|(l, v)| l == "lowered" && v.contains("example.com"))
        );
        // A project URL on a shared host (a code forge) makes no host its own.
        let mut list = vec![leak("https://github.com/x: a host named in the file", None)];
        own_site_lowers(&mut list, &facts(&["https://github.com/example/p"]), &pkg);
        assert_eq!(list[0].1.severity, Severity::Medium);
    }

    #[test]
    fn an_own_site_lowers_only_with_a_reputation_and_a_name_can_make_it_own() {
        let leak = |host: &str| {
            vec![(
                Some("client.py".to_string()),
                MemberFinding {
                    rule: RuleId::Exfiltration,
                    severity: Severity::High,
                    confidence: Confidence::High,
                    line: Some(3),
                    message: "sends".into(),
                    evidence: vec![("host".into(), format!("{host}: a host named in the file"))],
                },
            )]
        };
        // A new project's project URLs are its author's word alone: an
        // attacker names the collector as the homepage.
        let (young, facts) = project("fresh-sdk", 3, &["https://collector.example/"]);
        let mut list = leak("https://collector.example/c");
        own_site_lowers(&mut list, &facts, &young);
        assert_eq!(list[0].1.severity, Severity::High);
        // An established project: its URLs, and a domain bearing its name.
        let (old, facts) = project("acmecloud-sdk", 12, &["https://docs.acme.example/"]);
        let mut list = leak("https://api.acme.example/v1");
        list.extend(leak("https://api.acmecloud.example/v1"));
        list.extend(leak("https://api.other.example/v1"));
        own_site_lowers(&mut list, &facts, &old);
        let sev: Vec<Severity> = list.iter().map(|(_, f)| f.severity).collect();
        assert_eq!(sev, [Severity::Medium, Severity::Medium, Severity::High]);
        let why = |i: usize| {
            list[i]
                .1
                .evidence
                .iter()
                .find(|(l, _)| l == "lowered")
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert!(why(0).contains("its project URLs"), "{}", why(0));
        assert!(why(1).contains("bears the package's name"), "{}", why(1));
        assert!(
            why(1).contains("11 releases since 2010-01-01"),
            "{}",
            why(1)
        );
        // A place among the most-downloaded projects is a reputation too.
        let popular = crate::names::top().name(0).unwrap();
        let (top, facts) = project(popular, 1, &[]);
        let mut list = leak(&format!(
            "https://api.{}.example/v1",
            popular.replace('-', "")
        ));
        own_site_lowers(&mut list, &facts, &top);
        assert_eq!(list[0].1.severity, Severity::Medium);
        assert!(
            list[0]
                .1
                .evidence
                .iter()
                .any(|(l, v)| l == "lowered" && v.contains("#1 of"))
        );
    }

    #[test]
    fn a_release_that_changed_hands_loses_every_lowering() {
        let (pkg, _) = project("acme", 12, &[]);
        let lowered = Finding::for_package(RuleId::Exfiltration, &pkg)
            .severity(Severity::Medium)
            .evidence("lowered", "from high: api.acme.example is on acme.example")
            .message("sends");
        let other = Finding::for_package(RuleId::Exfiltration, &pkg)
            .severity(Severity::Medium)
            .message("sends");
        let changed = Finding::for_package(RuleId::PublisherChanged, &pkg).message("new hands");
        let mut findings = vec![lowered.clone(), other.clone()];
        no_reputation_across_new_hands(&mut findings);
        assert_eq!(findings[0].severity, Severity::Medium, "no change of hands");
        let mut findings = vec![lowered, other, changed];
        no_reputation_across_new_hands(&mut findings);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(
            findings[0].evidence.iter().any(|e| e.label == "not lowered"
                && e.value.contains("changed hands (publisher-changed)"))
        );
        assert_eq!(
            findings[1].severity,
            Severity::Medium,
            "never raised past its own level"
        );
    }

    #[test]
    fn a_wheel_every_python_3_installs_makes_the_sdist_unbuilt() {
        for yes in [
            "a-1.0-py3-none-any.whl",
            "a-1.0-py2.py3-none-any.whl",
            "A_B-1.0-PY38-none-any.WHL",
            "a-1.0-1-py3-none-any.whl",
        ] {
            assert!(universal_wheel(yes), "{yes}");
        }
        for no in [
            "a-1.0-py2-none-any.whl",
            "a-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            "a-1.0-py3-none-win_amd64.whl",
            "a-1.0-py3-abi3-any.whl",
            "a-1.0.tar.gz",
        ] {
            assert!(!universal_wheel(no), "{no}");
        }
    }

    #[test]
    fn one_file_in_an_sdist_and_three_wheels_is_one_finding() {
        let archives = vec![
            (
                "p-1.0-cp312-cp312-manylinux_2_17_x86_64.whl".to_string(),
                vec![pth("a1_hook.pth", Severity::High)],
            ),
            (
                "p-1.0.tar.gz".to_string(),
                vec![pth("p-1.0/src/a1_hook.pth", Severity::High)],
            ),
            (
                "p-1.0-cp312-cp312-win_amd64.whl".to_string(),
                vec![pth("a1_hook.pth", Severity::Critical)],
            ),
            (
                "p-1.0-cp312-cp312-macosx_11_0_arm64.whl".to_string(),
                vec![
                    pth("a1_hook.pth", Severity::High),
                    pth("other.pth", Severity::Low),
                ],
            ),
        ];
        let merged = one_per_release(archives);
        let all: Vec<(&str, &MemberFinding)> = merged
            .iter()
            .flat_map(|(a, l)| l.iter().map(move |(_, f)| (a.as_str(), f)))
            .collect();
        assert_eq!(all.len(), 2, "{merged:?}");
        let hook = all
            .iter()
            .find(|(_, f)| f.severity == Severity::Critical)
            .unwrap();
        assert_eq!(hook.0, "p-1.0-cp312-cp312-win_amd64.whl");
        let listed = &hook
            .1
            .evidence
            .iter()
            .find(|(l, _)| l == "archives")
            .unwrap()
            .1;
        assert_eq!(
            listed.matches(".whl!").count() + listed.matches(".tar.gz!").count(),
            4,
            "{listed}"
        );
    }
}
