//! Scanning what will be installed, inside `customs audit`: pick the pinned
//! files (by default the sdist, every pure-Python wheel and one binary wheel
//! per OS family), download them, verify the bytes against the pinned and the
//! index's sha256 before reading them, scan, and cache the verdict by sha256 and
//! rules version so that a re-run costs nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use sha2::Digest;

use super::release::ReleaseView;
use crate::finding::{Confidence, Finding, Location, RuleId, Severity};
use crate::index::{Answer, FileFacts, IndexClient};
use crate::package::{Package, SourceKind};
use crate::scan::{Limits, MemberFinding, scan_bytes};

/// The largest file downloaded for a scan.
pub const MAX_DOWNLOAD: usize = 256 * 1024 * 1024;

/// Scan settings.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Scan every wheel instead of one binary wheel per OS family.
    pub all_wheels: bool,
    /// Where verdicts are cached (`None`: no cache).
    pub cache_root: Option<PathBuf>,
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

/// The files of the locked release to scan.
pub fn select<'a>(pkg: &Package, view: &ReleaseView<'a>, all_wheels: bool) -> Vec<&'a FileFacts> {
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

fn cache_path(root: &Path, sha256: &str) -> PathBuf {
    root.join("scan-v1")
        .join(format!("{sha256}-{}.json", crate::scan::rules::version()))
}

fn cached(root: Option<&Path>, sha256: &str) -> Option<Vec<(Option<String>, MemberFinding)>> {
    let bytes = std::fs::read(cache_path(root?, sha256)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn store(root: Option<&Path>, sha256: &str, findings: &[(Option<String>, MemberFinding)]) {
    let Some(root) = root else { return };
    let path = cache_path(root, sha256);
    if let (Some(dir), Ok(bytes)) = (path.parent(), serde_json::to_vec(findings)) {
        let _ = std::fs::create_dir_all(dir);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }
}

enum FileOutcome {
    /// Scanned: the findings, and what could not be scanned (caps,
    /// corruption), which makes the package's scan status unknown.
    Findings(Vec<(Option<String>, MemberFinding)>, Vec<String>),
    /// Deliberately not scanned (too large); the rest of the release was.
    Skipped(String),
    Mismatch {
        expected: String,
        got: String,
    },
    Unknown(String),
}

async fn one_file(
    client: &IndexClient,
    file: &FileFacts,
    pinned: Option<String>,
    settings: &ScanSettings,
) -> FileOutcome {
    let Some(index_sha) = file.sha256.clone() else {
        return FileOutcome::Unknown(format!(
            "{}: the index publishes no sha256, so the bytes cannot be verified",
            file.filename
        ));
    };
    if let Some(hit) = cached(settings.cache_root.as_deref(), &index_sha) {
        return FileOutcome::Findings(hit, Vec::new());
    }
    if file.size.is_some_and(|s| s > MAX_DOWNLOAD as u64) {
        return FileOutcome::Skipped(format!(
            "{} not scanned: larger than {} MiB",
            file.filename,
            MAX_DOWNLOAD >> 20
        ));
    }
    if client.config().offline {
        return FileOutcome::Unknown(format!("{}: offline, and no cached verdict", file.filename));
    }
    let bytes = match client.download(&file.url, MAX_DOWNLOAD).await {
        Ok(b) => b,
        Err(e) => return FileOutcome::Unknown(format!("{}: download failed: {e}", file.filename)),
    };
    let got = hex::encode(sha2::Sha256::digest(&bytes));
    for expected in [Some(index_sha.clone()), pinned].into_iter().flatten() {
        if got != expected {
            return FileOutcome::Mismatch { expected, got };
        }
    }
    let name = file.filename.clone();
    let scanned =
        tokio::task::spawn_blocking(move || scan_bytes(&name, &bytes, &Limits::default())).await;
    match scanned {
        Ok(Ok(result)) => {
            // Only complete verdicts are kept: a scan with gaps is retried.
            if result.gaps.is_empty() {
                store(settings.cache_root.as_deref(), &index_sha, &result.findings);
            }
            FileOutcome::Findings(result.findings, result.gaps)
        }
        Ok(Err(e)) => FileOutcome::Unknown(e.to_string()),
        Err(e) => FileOutcome::Unknown(format!("{}: the scan failed: {e}", file.filename)),
    }
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
/// in the newest earlier release that is not yanked and still has its files.
fn previous_counterpart(
    facts: &crate::index::ProjectFacts,
    pkg: &Package,
    file: &FileFacts,
) -> Option<(String, FileFacts)> {
    let current = pkg.version.as_ref()?;
    let kind = |name: &str| (name.to_ascii_lowercase().ends_with(".whl"), os_family(name));
    let want = kind(&file.filename);
    facts
        .releases
        .iter()
        .filter(|r| r.version() < *current && r.yanked().is_none() && !r.summarised())
        .filter(|r| !r.version().is_prerelease() || current.is_prerelease())
        .max_by(|a, b| a.version().cmp(&b.version()))
        .and_then(|r| {
            r.files
                .iter()
                .find(|f| kind(&f.filename) == want)
                .map(|f| (r.version.clone(), f.clone()))
        })
}

/// A member path without an sdist's `name-version/` top directory.
fn stable_path(member: Option<&String>, sdist: bool) -> String {
    let m = member.map_or("", String::as_str);
    if sdist {
        m.split_once('/').map_or(m, |(_, rest)| rest).to_string()
    } else {
        m.to_string()
    }
}

/// Marks each behaviour finding as new since, or also in, the previous release;
/// new ones gain a severity level.
fn annotate_diff(
    list: &mut [(Option<String>, MemberFinding)],
    prev: &[(Option<String>, MemberFinding)],
    prev_version: &str,
    sdist: bool,
) {
    let before: std::collections::BTreeSet<(RuleId, String)> = prev
        .iter()
        .map(|(m, f)| (f.rule, stable_path(m.as_ref(), sdist)))
        .collect();
    for (member, f) in list.iter_mut().filter(|(_, f)| BEHAVIOUR.contains(&f.rule)) {
        if before.contains(&(f.rule, stable_path(member.as_ref(), sdist))) {
            f.evidence
                .push(("also-in".into(), prev_version.to_string()));
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
                f.severity = match f.severity {
                    Severity::Info => Severity::Low,
                    Severity::Low => Severity::Medium,
                    Severity::Medium => Severity::High,
                    Severity::High | Severity::Critical => Severity::Critical,
                };
                f.confidence = Confidence::High;
            }
        }
    }
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

/// Scans the locked archives of every registry package the index answered for.
pub async fn scan_all(
    client: &IndexClient,
    packages: &[Package],
    answers: &[Option<&Answer>],
    settings: &ScanSettings,
) -> (Vec<Finding>, Vec<ScanStatus>) {
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
        let files = select(pkg, &view, settings.all_wheels);
        if files.is_empty() {
            statuses.push(ScanStatus::na("no files of the release to scan"));
            continue;
        }
        statuses.push(ScanStatus {
            status: "scanned",
            archives: files.iter().map(|f| f.filename.clone()).collect(),
            reason: None,
        });
        for f in files {
            let pinned = pkg.pinned_sha256(&f.filename).map(str::to_string);
            jobs.push((i, f.clone(), pinned));
        }
    }
    let limit = client.config().concurrency.clamp(1, 8);
    let results: Vec<(usize, FileFacts, FileOutcome)> = futures::stream::iter(jobs)
        .map(|(i, f, pinned)| async move {
            let outcome = one_file(client, &f, pinned, settings).await;
            (i, f, outcome)
        })
        .buffer_unordered(limit)
        .collect()
        .await;
    let mut findings = Vec::new();
    let mut unknown: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, file, outcome) in results {
        let pkg = &packages[i];
        match outcome {
            FileOutcome::Findings(mut list, gaps) => {
                // Behaviour that the previous release did not have is the
                // compromised-maintainer pattern: compare with it.
                if list.iter().any(|(_, f)| BEHAVIOUR.contains(&f.rule))
                    && let Some(Answer::Found(facts)) = answers.get(i).copied().flatten()
                    && let Some((prev_version, prev_file)) = previous_counterpart(facts, pkg, &file)
                    && let FileOutcome::Findings(prev, _) =
                        one_file(client, &prev_file, None, settings).await
                {
                    annotate_diff(&mut list, &prev, &prev_version, !file.filename.ends_with(".whl"));
                }
                findings.extend(archive_findings(
                    pkg,
                    Some(pkg.origin.line),
                    &file.filename,
                    list,
                ));
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
        annotate_diff(&mut list, &[], "1.0", true);
        assert_eq!(list[0].1.severity, Severity::High);
        assert_eq!(list[1].1.severity, Severity::Medium);
        assert!(list[1].1.message.contains("new since 1.0"));
    }
}
