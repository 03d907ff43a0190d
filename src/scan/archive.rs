//! Reading sdists and wheels in memory: format from magic bytes, never
//! extracted, never executed; caps on entries, sizes and compression ratio.
//! Anything odd (traversal, links, devices, nested archives, truncation) is
//! reported as an anomaly, never a crash or a silent pass.

use std::io::Read;

mod zipstream;

/// Caps that contain hostile archives.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Most entries read.
    pub max_entries: usize,
    /// Largest member whose content is read in full; a member the scanner
    /// wants that is bigger is not read, and that is a gap in the scan (an
    /// anomaly, and the scan is incomplete), never a silent pass.
    pub max_member: u64,
    /// Most bytes decompressed in total.
    pub max_total: u64,
    /// Largest ratio of decompressed to compressed bytes before it is a bomb.
    pub max_ratio: u64,
    /// Bytes already decompressed by this scan (archives inside archives
    /// share one budget: `max_total` counts them all).
    pub spent: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 50_000,
            // Big enough for any honest source file (the largest .py files on
            // the index are generated tables of a few MiB) and for padding
            // tricks that push a payload past a small cap.
            max_member: 128 * 1024 * 1024,
            max_total: 1024 * 1024 * 1024,
            max_ratio: 250,
            spent: 0,
        }
    }
}

/// The archive formats customs reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// gzip-compressed tar.
    TarGz,
    /// bzip2-compressed tar.
    TarBz2,
    /// Plain tar.
    Tar,
    /// Zip (wheels, zip sdists).
    Zip,
}

/// Detects the format from magic bytes, not from the name.
pub fn detect(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::TarGz)
    } else if bytes.starts_with(b"BZh") {
        Some(Kind::TarBz2)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if bytes.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// One member, as read.
#[derive(Debug, Clone)]
pub struct Member {
    /// Its path inside the archive, as written.
    pub path: String,
    /// Its size (declared).
    pub size: u64,
    /// Its content, when it is a regular file within the member cap.
    pub data: Option<Vec<u8>>,
}

/// Something wrong with the archive itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    /// The member concerned, if any.
    pub path: Option<String>,
    /// What is wrong.
    pub what: String,
    /// Whether it is dangerous in itself (traversal, links, bombs) rather than just odd.
    pub dangerous: bool,
}

/// The result of reading an archive.
#[derive(Debug, Default)]
pub struct Contents {
    /// How many regular-file members were read.
    pub members: usize,
    /// Anomalies.
    pub anomalies: Vec<Anomaly>,
    /// Whether reading stopped early (a cap, corruption).
    pub incomplete: bool,
    /// Bytes decompressed, including [`Limits::spent`] before this read.
    pub decompressed: u64,
    /// What was not read, and why: each makes the scan incomplete, so the
    /// package's scan status is `unknown` with these reasons.
    pub gaps: Vec<String>,
}

/// Reads an archive held in memory. Members for which `keep` says yes are read
/// in full (up to the member cap); of the others only the first [`HEAD`] bytes
/// are kept.
/// Each member is handed to `on_member` as it is read and then dropped, so
/// memory does not grow with the archive.
pub fn read(
    bytes: &[u8],
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
    on_member: &mut dyn FnMut(Member),
) -> Contents {
    let mut out = Contents::default();
    match detect(bytes) {
        None => {
            out.decompressed = limits.spent;
            fail(&mut out, UNRECOGNISED.into());
        }
        Some(Kind::Zip) => {
            out.decompressed = read_zip(
                std::io::Cursor::new(bytes),
                bytes.len() as u64,
                limits,
                keep,
                on_member,
                &mut out,
            );
        }
        Some(kind) => {
            out.decompressed = read_tar(
                decompressed(kind, bytes),
                bytes.len(),
                limits,
                keep,
                on_member,
                &mut out,
            );
        }
    }
    out
}

const UNRECOGNISED: &str = "not a recognised archive (no gzip, bzip2, tar or zip signature)";

/// An archive's bytes as the compression `kind` names takes them off (a
/// tar.gz is read through every gzip member, as Python's tarfile reads
/// it); a plain tar and a zip as they are.
fn decompressed<'r>(kind: Kind, r: impl Read + 'r) -> Box<dyn Read + 'r> {
    match kind {
        Kind::TarGz => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Kind::TarBz2 => Box::new(bzip2::read::BzDecoder::new(r)),
        Kind::Tar | Kind::Zip => Box::new(r),
    }
}

/// Where an archive's bytes are: all in memory, a zip read by ranges, or a
/// tar read once as it arrives.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Bytes(&'a [u8]),
    Ranges(&'a super::sparse::Sparse),
    Stream(&'a Once),
}

/// An archive read once, as its bytes arrive: nothing of it is held but
/// what the scanner keeps of its members. A tar is read as it comes; a zip
/// by its local headers, then checked against its central directory
/// ([`zipstream`]). A second read cannot be served; it fails, and the
/// failure sticks ([`Once::failure`]), so the caller reads the file again
/// whole. So does a zip that cannot be read this way.
pub struct Once {
    reader: std::sync::Mutex<Option<Box<dyn Read + Send>>>,
    /// The stream's length, as the index says (the ratio cap's base).
    len: u64,
    failure: std::sync::Mutex<Option<String>>,
}

impl Once {
    pub fn new(reader: Box<dyn Read + Send>, len: u64) -> Self {
        Self {
            reader: std::sync::Mutex::new(Some(reader)),
            len,
            failure: std::sync::Mutex::new(None),
        }
    }

    /// Why a read could not be served from the stream, if one could not.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    fn fail(&self, why: String, out: &mut Contents) {
        lock(&self.failure).get_or_insert_with(|| why.clone());
        fail(out, why);
    }

    fn read(
        &self,
        limits: &Limits,
        keep: &dyn Fn(&str) -> bool,
        on_member: &mut dyn FnMut(Member),
    ) -> Contents {
        let mut out = Contents {
            decompressed: limits.spent,
            ..Contents::default()
        };
        let taken = lock(&self.reader).take();
        let Some(mut reader) = taken else {
            self.fail(
                "a second read of an archive read as it streamed in".into(),
                &mut out,
            );
            return out;
        };
        // The first bytes say the format.
        let mut head = Vec::with_capacity(512);
        if let Err(e) = reader.by_ref().take(512).read_to_end(&mut head) {
            fail(&mut out, format!("truncated or corrupt archive: {e}"));
            return out;
        }
        let len = usize::try_from(self.len).unwrap_or(usize::MAX);
        let kind = detect(&head);
        let whole = std::io::Cursor::new(head).chain(reader);
        out.decompressed = match kind {
            Some(Kind::Zip) => {
                match zipstream::read(whole, self.len, limits, keep, on_member, &mut out) {
                    Ok(total) => total,
                    Err(why) => {
                        self.fail(format!("{why}: read as it streamed in"), &mut out);
                        limits.spent
                    }
                }
            }
            Some(kind) => read_tar(
                decompressed(kind, whole),
                len,
                limits,
                keep,
                on_member,
                &mut out,
            ),
            None => {
                fail(&mut out, UNRECOGNISED.into());
                limits.spent
            }
        };
        out
    }
}

/// [`read`] from either source (a ranged one is always a zip).
pub fn read_source(
    source: Source<'_>,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
    on_member: &mut dyn FnMut(Member),
) -> Contents {
    match source {
        Source::Bytes(bytes) => read(bytes, limits, keep, on_member),
        Source::Ranges(sparse) => {
            let mut out = Contents::default();
            out.decompressed = read_zip(
                sparse.cursor(),
                sparse.len(),
                limits,
                keep,
                on_member,
                &mut out,
            );
            out
        }
        Source::Stream(once) => once.read(limits, keep, on_member),
    }
}

/// A lock that a panic elsewhere did not spoil (what it guards is whole).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Checks a member path: absolute paths and `..` components escape the target.
fn check_path(path: &str, out: &mut Contents) {
    let p = path.replace('\\', "/");
    if p.starts_with('/') || p.as_bytes().get(1) == Some(&b':') {
        out.anomalies.push(Anomaly {
            path: Some(path.to_string()),
            what: "absolute path: an extractor would write outside its target".into(),
            dangerous: true,
        });
    } else if p.split('/').any(|c| c == "..") {
        out.anomalies.push(Anomaly {
            path: Some(path.to_string()),
            what: "path traversal (`..`): an extractor would write outside its target".into(),
            dangerous: true,
        });
    }
    let lower = p.to_ascii_lowercase();
    if [".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".egg"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        out.anomalies.push(Anomaly {
            path: Some(path.to_string()),
            what: "nested archive: its content is not what the index's hash covers".into(),
            dangerous: false,
        });
    }
}

struct Budget<'a> {
    limits: &'a Limits,
    compressed: u64,
    total: u64,
}

impl Budget<'_> {
    /// Accounts for `n` more decompressed bytes; `Err` names the cap that was hit.
    fn take(&mut self, n: u64) -> Result<(), String> {
        self.total = self.total.saturating_add(n);
        if self.total > self.limits.max_total {
            return Err(format!(
                "more than {} MiB decompressed: stopped (a decompression bomb?)",
                self.limits.max_total >> 20
            ));
        }
        let own = self.total - self.limits.spent;
        if own > 64 * 1024 * 1024 && own / self.compressed.max(1) > self.limits.max_ratio {
            return Err(format!(
                "compression ratio above {}:1: stopped (a decompression bomb)",
                self.limits.max_ratio
            ));
        }
        Ok(())
    }
}

/// How many leading bytes of a member that is not read in full are kept
/// (enough for executable magic numbers).
pub const HEAD: usize = 128;

fn read_member<R: Read>(
    r: &mut R,
    size: u64,
    budget: &mut Budget<'_>,
    keep: bool,
) -> Result<Option<Vec<u8>>, String> {
    if !keep {
        // Only the head is kept; the rest is decompressed and dropped, so
        // memory stays flat whatever the archive holds.
        let mut head = Vec::with_capacity(HEAD);
        r.take(HEAD as u64)
            .read_to_end(&mut head)
            .map_err(|e| format!("corrupt data: {e}"))?;
        let rest = std::io::copy(
            &mut r.take(size.saturating_sub(head.len() as u64)),
            &mut std::io::sink(),
        )
        .map_err(|e| format!("corrupt data: {e}"))?;
        budget.take(head.len() as u64 + rest)?;
        if (head.len() as u64 + rest) < size {
            return Err("truncated member".into());
        }
        return Ok(Some(head));
    }
    if size > budget.limits.max_member {
        // Not read (the caller reports the gap); the bytes are still
        // decompressed to skip them.
        budget.take(size)?;
        let copied = std::io::copy(&mut r.take(size), &mut std::io::sink())
            .map_err(|e| format!("corrupt data: {e}"))?;
        if copied < size {
            return Err("truncated member".into());
        }
        return Ok(None);
    }
    let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 20));
    r.take(size.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| format!("corrupt data: {e}"))?;
    budget.take(data.len() as u64)?;
    Ok(Some(data))
}

/// The first [`HEAD`] bytes of a member, nothing more.
fn read_head<R: Read>(r: &mut R, budget: &mut Budget<'_>) -> Result<Option<Vec<u8>>, String> {
    let mut head = Vec::with_capacity(HEAD);
    r.take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("corrupt data: {e}"))?;
    budget.take(head.len() as u64)?;
    Ok(Some(head))
}

fn read_tar<R: Read>(
    reader: R,
    compressed: usize,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
    on_member: &mut dyn FnMut(Member),
    out: &mut Contents,
) -> u64 {
    let mut budget = Budget {
        limits,
        compressed: compressed as u64,
        total: limits.spent,
    };
    let between = std::rc::Rc::new(std::cell::Cell::new(Some(0)));
    let mut archive = tar::Archive::new(Metered {
        inner: reader,
        between: between.clone(),
    });
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            fail(out, format!("unreadable tar: {e}"));
            return budget.total;
        }
    };
    for (n, entry) in entries.enumerate() {
        if n >= limits.max_entries {
            let what = format!("more than {} entries: stopped reading", limits.max_entries);
            out.gaps.push(what.clone());
            out.anomalies.push(Anomaly {
                path: None,
                what,
                dangerous: true,
            });
            out.incomplete = true;
            return budget.total;
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                fail(out, format!("truncated or corrupt archive: {e}"));
                return budget.total;
            }
        };
        // The cap is per entry: its header, long name and PAX records.
        between.set(Some(0));
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_path(&path, out);
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let escapes = link_escapes(&path, &target, kind.is_hard_link());
            out.anomalies.push(Anomaly {
                what: format!(
                    "{} to `{target}`{}",
                    if kind.is_symlink() {
                        "symbolic link"
                    } else {
                        "hard link"
                    },
                    if escapes { ", outside the archive" } else { "" }
                ),
                path: Some(path),
                dangerous: escapes,
            });
            continue;
        }
        if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            out.anomalies.push(Anomaly {
                path: Some(path),
                what: "device or FIFO entry".into(),
                dangerous: true,
            });
            continue;
        }
        // Python's tarfile (and so pip) extracts every other type as a
        // file: contiguous ('7'), GNU sparse and unknown ones too.
        if kind.is_dir() || kind.is_pax_global_extensions() {
            continue;
        }
        // The size a PAX record gives, if any, as the tar reader and
        // Python's tarfile take it (not the header's own field).
        let size = entry.size();
        between.set(None);
        let read = read_member(&mut entry, size, &mut budget, keep(&path));
        between.set(Some(0));
        match read {
            Ok(data) => {
                out.members += 1;
                if data.is_none() {
                    too_big(out, &path, size, limits);
                }
                on_member(Member { path, size, data });
            }
            Err(what) => {
                fail(out, format!("{path}: {what}"));
                return budget.total;
            }
        }
    }
    budget.total
}

/// Bytes a tar may hold for one entry besides its data: its header, GNU
/// long names, PAX records, and the padding and skipped data of the entry
/// before. The `tar` crate reads a long name or a PAX record whole, so one
/// of gigabytes (from a small `.tar.gz`) would be held; real ones are a few
/// KiB.
const MAX_BETWEEN: u64 = 1 << 20;

/// A tar's bytes, counted outside members' data (`between` is `None`
/// while a member's data is read).
struct Metered<R> {
    inner: R,
    between: std::rc::Rc<std::cell::Cell<Option<u64>>>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(so_far) = self.between.get() {
            let now = so_far + n as u64;
            if now > MAX_BETWEEN {
                return Err(std::io::Error::other(format!(
                    "more than {} MiB of headers between two members (a hostile long name?)",
                    MAX_BETWEEN >> 20
                )));
            }
            self.between.set(Some(now));
        }
        Ok(n)
    }
}

/// Whether a link's target leaves the archive (absolute, or `..` above its root).
fn link_escapes(path: &str, target: &str, hard: bool) -> bool {
    let t = target.replace('\\', "/");
    if t.starts_with('/') || t.as_bytes().get(1) == Some(&b':') {
        return true;
    }
    // Symlinks resolve from the link's directory; hard links from the root.
    let mut depth: i64 = if hard {
        0
    } else {
        path.replace('\\', "/")
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .count() as i64
            - 1
    };
    for c in t.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

fn read_zip<R: Read + std::io::Seek>(
    mut reader: R,
    compressed: u64,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
    on_member: &mut dyn FnMut(Member),
    out: &mut Contents,
) -> u64 {
    let mut budget = Budget {
        limits,
        compressed,
        total: limits.spent,
    };
    // The local headers, header to header, to hold them against the
    // directory (only the headers are read: of a zip that streamed in, the
    // headers were kept).
    let walked = zipstream::walk(&mut reader, compressed, limits.max_entries);
    if let Err(e) = reader.seek(std::io::SeekFrom::Start(0)) {
        fail(out, format!("unreadable zip: {e}"));
        return budget.total;
    }
    let mut zip = match zip::ZipArchive::new(reader) {
        Ok(z) => z,
        Err(e) => {
            fail(out, format!("unreadable zip: {e}"));
            return budget.total;
        }
    };
    if let Ok(seen) = walked
        && let zipstream::Compared::Differs(why) = zipstream::compare(&zip, &seen)
    {
        out.anomalies.push(Anomaly {
            path: None,
            what: format!(
                "{why}: an installer that reads the local headers installs other files than one that reads the directory (as pip and this scan do)"
            ),
            dangerous: true,
        });
    }
    let count = zip.len();
    if count > limits.max_entries {
        let what = format!(
            "{count} entries, more than {}: only the first are read",
            limits.max_entries
        );
        out.gaps.push(what.clone());
        out.anomalies.push(Anomaly {
            path: None,
            what,
            dangerous: true,
        });
        out.incomplete = true;
    }
    for i in 0..count.min(limits.max_entries) {
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                fail(out, format!("corrupt zip entry {i}: {e}"));
                continue;
            }
        };
        let path = String::from_utf8_lossy(file.name_raw()).into_owned();
        check_path(&path, out);
        if file.is_symlink() {
            out.anomalies.push(Anomaly {
                path: Some(path),
                what: "symbolic link".into(),
                dangerous: true,
            });
            continue;
        }
        if file.is_dir() {
            continue;
        }
        let size = file.size();
        let read = if keep(&path) {
            read_member(&mut file, size, &mut budget, true)
        } else {
            // A zip member is found by its own offset: of one the scanner
            // does not read, only the head is inflated (its magic number),
            // and the rest is never decompressed at all.
            read_head(&mut file, &mut budget)
        };
        match read {
            Ok(data) => {
                out.members += 1;
                if data.is_none() {
                    too_big(out, &path, size, limits);
                }
                on_member(Member { path, size, data });
            }
            Err(what) => {
                let bomb = what.contains("bomb");
                fail(out, format!("{path}: {what}"));
                if bomb {
                    return budget.total;
                }
            }
        }
    }
    budget.total
}

fn fail(out: &mut Contents, what: String) {
    out.gaps.push(what.clone());
    out.anomalies.push(Anomaly {
        path: None,
        dangerous: what.contains("bomb"),
        what,
    });
    out.incomplete = true;
}

/// `18.0 MiB`, `12 KiB`, `300 bytes`.
fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A member the scanner wanted that is above the member cap: reported, and a gap.
fn too_big(out: &mut Contents, path: &str, size: u64, limits: &Limits) {
    let what = format!(
        "{}, above the {} cap for a member the scanner reads: not scanned",
        human_size(size),
        human_size(limits.max_member)
    );
    out.gaps.push(format!("{path}: {what}"));
    out.anomalies.push(Anomaly {
        path: Some(path.to_string()),
        what,
        dangerous: true,
    });
    out.incomplete = true;
}
