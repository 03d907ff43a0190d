//! `customs scan FILE|DIR...`: local archives, no index.

use super::*;

/// The largest archive `customs scan` reads.
pub(super) const MAX_ARCHIVE: u64 = 1024 * 1024 * 1024;

pub(super) fn archive_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot list the directory", p.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.is_file())
                .filter(|f| {
                    let n = f.to_string_lossy().to_ascii_lowercase();
                    [".whl", ".tar.gz", ".tgz", ".tar.bz2", ".zip", ".tar"]
                        .iter()
                        .any(|s| n.ends_with(s))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!(
                    "{}: no archives (.whl, .tar.gz, .tgz, .tar.bz2, .zip) in this directory",
                    p.display()
                );
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    Ok(out)
}

/// Splits `name-version.tar.gz` / `name-version-tags.whl` into name and version.
pub(super) fn archive_identity(filename: &str) -> (String, Option<String>) {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        let mut parts = filename.split('-');
        let name = parts.next().unwrap_or(filename).to_string();
        return (name, parts.next().map(str::to_string));
    }
    let stem = [".tar.gz", ".tgz", ".tar.bz2", ".zip", ".tar"]
        .iter()
        .find(|s| lower.ends_with(*s))
        .map_or(filename, |s| &filename[..filename.len() - s.len()]);
    match stem.rsplit_once('-') {
        Some((n, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => {
            (n.to_string(), Some(v.to_string()))
        }
        _ => (stem.to_string(), None),
    }
}

/// Reads an archive as a download streams in (of a zip, only what the
/// scanner reads is kept), and again keeping every byte if that was not
/// enough: its sha256, its length and its scan.
fn scan_file(
    path: &Path,
    filename: &str,
    size: u64,
    limits: &crate::scan::Limits,
) -> Result<(String, u64, crate::scan::ArchiveScan)> {
    use crate::scan::stream::Streamed;
    use std::io::Read as _;
    for whole in [false, true] {
        let mut body = Streamed::for_scan(Some(size), MAX_ARCHIVE, whole);
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut chunk)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            if n == 0 {
                break;
            }
            body.push(&chunk[..n])
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        }
        let held = body.finish();
        let (sha256, len) = (held.sha256.clone(), held.len);
        if let Some(result) = crate::scan::scan_held(filename, held, limits)? {
            return Ok((sha256, len, result));
        }
    }
    bail!("{}: read whole, still not readable", path.display())
}

/// `customs scan FILE|DIR...`.
pub(super) fn scan(args: &crate::cli::ScanArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let settings = resolve_settings(r, &config)?;
    let limits = crate::scan::Limits::default();
    let mut packages = Vec::new();
    let mut findings = Vec::new();
    let mut inputs = Vec::new();
    let mut scans = Vec::new();
    for path in archive_paths(&args.paths)? {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size > MAX_ARCHIVE {
            bail!(
                "{}: larger than {} MiB; customs does not scan archives this large",
                path.display(),
                MAX_ARCHIVE >> 20
            );
        }
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (name, version) = archive_identity(&filename);
        let name = PackageName::new(&name).or_else(|_| PackageName::new("unknown"))?;
        let mut pkg = Package::new(
            name,
            version.as_deref().map(crate::package::Version::new),
            crate::package::Origin {
                file: path.clone(),
                line: 1,
            },
        );
        pkg.source =
            crate::package::Source::new(SourceKind::Path, Some(report::display_path(&path)));
        let (sha256, len, result) = scan_file(&path, &filename, size, &limits)?;
        let mut artifact = crate::package::Artifact::named(filename.clone());
        artifact.size = Some(len);
        if let Some(h) = crate::package::Hash::sha256(&sha256) {
            artifact.hashes.push(h);
        }
        pkg.artifacts.push(artifact);
        findings.extend(checks::archives::archive_findings(
            &pkg,
            None,
            &filename,
            result.findings,
        ));
        scans.push(if result.gaps.is_empty() {
            ScanStatus {
                status: "scanned",
                archives: vec![filename.clone()],
                reason: None,
            }
        } else {
            ScanStatus {
                status: "unknown",
                archives: vec![filename.clone()],
                reason: Some(checks::archives::gap_reason(&filename, &result.gaps)),
            }
        });
        inputs.push(Input {
            path: report::display_path(&path),
            format: Format::Archive,
            packages: 1,
            indexes: Vec::new(),
            includes: Vec::new(),
            options: [
                ("members".to_string(), result.members.to_string()),
                ("complete".to_string(), (!result.incomplete).to_string()),
                ("rules-version".to_string(), crate::scan::rules::version()),
            ]
            .into_iter()
            .collect(),
        });
        packages.push(pkg);
    }
    let statuses = vec![IndexStatus::NotApplicable("a local archive"); packages.len()];
    finish(FinishArgs {
        args: r,
        config: &config,
        settings: &settings,
        inputs,
        skipped: Vec::new(),
        packages: &packages,
        statuses: &statuses,
        scans: Some(&scans),
        provenance: None,
        advisories: None,
        findings,
        diff: None,
        as_of,
        now,
        messages: Vec::new(),
    })
}
