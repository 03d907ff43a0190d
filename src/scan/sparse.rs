//! A zip file read by ranges: the parts of it that were fetched, and a
//! reader over them that fetches what is missing. Used for very large
//! wheels (`--range-reads-over`): the central directory and the members the
//! scanner reads are fetched, the rest (compiled extensions, data) never is.
//!
//! Nothing here trusts the server: every range must come back as asked (the
//! fetcher checks `Content-Range` and length), the zip reader checks each
//! member's CRC, and the scanner checks every member it reads whole against
//! the wheel's RECORD.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fetches the bytes `first..=last` of the file.
pub type Fetcher = Box<dyn Fn(u64, u64) -> Result<Vec<u8>, String> + Send + Sync>;

/// Bytes fetched at once for a read that falls outside what was fetched.
const LAZY: u64 = 64 * 1024;
/// Ranges closer than this are fetched as one: a request's round trip costs
/// about as much time as this many bytes on a fast link, and merging keeps
/// the count of requests low for wheels whose code lies between their
/// extensions (measured on real numpy and scipy wheels: 64 KiB made 75–100
/// requests and was slower than reading them whole; 1 MiB fetched up to 73%
/// of the file; 256 KiB fetches 30–45% in 9–35 requests).
pub const GAP: u64 = 256 * 1024;
/// Compressed bytes fetched of a member read only for its head (enough to
/// inflate the first [`crate::scan::archive::HEAD`] bytes; more is fetched
/// if not).
const HEAD_BYTES: u64 = 2048;
/// A local file header is 30 bytes, then the name and an extra field that
/// may differ from the central directory's: this much slack covers it.
const LOCAL_SLACK: u64 = 30 + 512;
/// The largest central directory read (about a million entries).
const MAX_DIRECTORY: u64 = 64 * 1024 * 1024;

/// A file of `len` bytes of which some ranges are held.
pub struct Sparse {
    len: u64,
    /// Most bytes fetched in all.
    cap: u64,
    chunks: Mutex<BTreeMap<u64, Vec<u8>>>,
    fetch: Fetcher,
    fetched: AtomicU64,
    requests: AtomicU64,
    /// The first fetch that failed (reads then fail too).
    failure: Mutex<Option<String>>,
}

impl Sparse {
    /// A file of `len` bytes, of which at most `cap` are fetched.
    pub fn new(len: u64, cap: u64, fetch: Fetcher) -> Self {
        Self {
            len,
            cap,
            chunks: Mutex::new(BTreeMap::new()),
            fetch,
            fetched: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            failure: Mutex::new(None),
        }
    }

    /// A file of `len` bytes of which `chunks` (offset, bytes) are held
    /// already; `fetch` is asked for anything else.
    pub fn with_held(len: u64, chunks: BTreeMap<u64, Vec<u8>>, fetch: Fetcher) -> Self {
        let file = Self::new(len, u64::MAX, fetch);
        if let Ok(mut held) = file.chunks.lock() {
            *held = chunks;
        }
        file
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes fetched so far.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    /// Requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The first fetch that failed, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// A reader from the start of the file.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            sparse: self,
            pos: 0,
        }
    }

    fn held(&self, pos: u64, buf: &mut [u8]) -> Option<usize> {
        let chunks = self.chunks.lock().ok()?;
        let (start, bytes) = chunks.range(..=pos).next_back()?;
        let offset = usize::try_from(pos - start).ok()?;
        let avail = bytes.get(offset..)?;
        if avail.is_empty() {
            return None;
        }
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        Some(n)
    }

    /// Fetches `first..=last` unless every byte of it is held.
    pub fn ensure(&self, first: u64, last: u64) -> Result<(), String> {
        let last = last.min(self.len.saturating_sub(1));
        if first > last {
            return Ok(());
        }
        let missing = {
            let chunks = self.chunks.lock().map_err(|_| "poisoned".to_string())?;
            let mut at = first;
            for (start, bytes) in chunks.range(..=last) {
                let end = start + bytes.len() as u64;
                if *start <= at && end > at {
                    at = end;
                }
            }
            (at <= last).then_some(at)
        };
        match missing {
            Some(from) => self.fetch_into(from, last),
            None => Ok(()),
        }
    }

    fn fetch_into(&self, first: u64, last: u64) -> Result<(), String> {
        if let Some(f) = self.failure() {
            return Err(f);
        }
        if self.fetched().saturating_add(last - first + 1) > self.cap {
            return self.failed(format!("more than {} MiB would be fetched", self.cap >> 20));
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        match (self.fetch)(first, last) {
            Ok(bytes) if bytes.len() as u64 == last - first + 1 => {
                self.fetched
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if let Ok(mut chunks) = self.chunks.lock() {
                    chunks.insert(first, bytes);
                }
                Ok(())
            }
            Ok(bytes) => self.failed(format!(
                "asked for bytes {first}-{last}, got {} bytes",
                bytes.len()
            )),
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, e: String) -> Result<(), String> {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert_with(|| e.clone());
        }
        Err(e)
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        if pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        if let Some(n) = self.held(pos, buf) {
            return Ok(n);
        }
        // Up to the next held chunk, at most LAZY bytes.
        let next = self
            .chunks
            .lock()
            .ok()
            .and_then(|c| c.range(pos + 1..).next().map(|(s, _)| *s));
        let last = pos
            .saturating_add(LAZY - 1)
            .min(self.len - 1)
            .min(next.map_or(u64::MAX, |n| n - 1));
        self.fetch_into(pos, last)
            .map_err(|e| std::io::Error::other(format!("range read failed: {e}")))?;
        self.held(pos, buf)
            .ok_or_else(|| std::io::Error::other("range read gave nothing"))
    }

    /// Reads exactly `n` bytes at `pos`.
    pub fn exact(&self, pos: u64, n: u64) -> Result<Vec<u8>, String> {
        if pos.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(format!("bytes {pos}+{n} are past the end of the file"));
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        self.ensure(pos, pos + n - 1)?;
        let mut out = vec![0; usize::try_from(n).map_err(|e| e.to_string())?];
        let mut c = self.cursor();
        c.pos = pos;
        c.read_exact(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// A reader over a [`Sparse`] file.
pub struct Cursor<'a> {
    sparse: &'a Sparse,
    pos: u64,
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.sparse.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Cursor<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let next = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.sparse.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| std::io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}

/// One member, as the central directory describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// Offset of its local header.
    pub offset: u64,
    pub compressed: u64,
    /// Length of its name and extra field in the central directory.
    pub name_extra: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Where the central directory is: (offset, size), from the end records
/// (zip64 included). Fetches the end of the file if it is not held.
pub fn directory(sparse: &Sparse) -> Result<(u64, u64), String> {
    let len = sparse.len();
    if len < 22 {
        return Err("too short for a zip".into());
    }
    // The end record is 22 bytes plus a comment of up to 65,535.
    let tail_len = len.min(22 + 65_535);
    let tail_start = len - tail_len;
    let tail = sparse.exact(tail_start, tail_len)?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))
        .ok_or("no end of central directory record: not a zip")?;
    let bad = || "a truncated end of central directory record".to_string();
    let mut size = u32_at(&tail, at + 12).ok_or_else(bad)?;
    let mut offset = u32_at(&tail, at + 16).ok_or_else(bad)?;
    if size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        // Zip64: a locator right before the end record points at the zip64 end record.
        let loc = at
            .checked_sub(20)
            .filter(|&l| tail[l..].starts_with(b"PK\x06\x07"))
            .ok_or("zip64 sizes without a zip64 locator")?;
        let rec_at = u64_at(&tail, loc + 8).ok_or_else(bad)?;
        let rec = sparse.exact(rec_at, 56)?;
        if !rec.starts_with(b"PK\x06\x06") {
            return Err("the zip64 locator points at no zip64 end record".into());
        }
        size = u64_at(&rec, 40).ok_or_else(bad)?;
        offset = u64_at(&rec, 48).ok_or_else(bad)?;
    }
    if size > MAX_DIRECTORY {
        return Err(format!(
            "a central directory of {size} bytes, more than the {} MiB read by ranges",
            MAX_DIRECTORY >> 20
        ));
    }
    if offset.checked_add(size).is_none_or(|end| end > len) {
        return Err("the central directory lies outside the file".into());
    }
    Ok((offset, size))
}

/// The entries of a central directory (at most `max` of them).
pub fn entries(cd: &[u8], max: usize) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 46 <= cd.len() && out.len() < max {
        if !cd[at..].starts_with(b"PK\x01\x02") {
            break;
        }
        let bad = || format!("a truncated central directory entry at byte {at}");
        let mut compressed = u32_at(cd, at + 20).ok_or_else(bad)?;
        let uncompressed = u32_at(cd, at + 24).ok_or_else(bad)?;
        let name_len = usize::try_from(u16_at(cd, at + 28).ok_or_else(bad)?).map_err(|_| bad())?;
        let extra_len = usize::try_from(u16_at(cd, at + 30).ok_or_else(bad)?).map_err(|_| bad())?;
        let comment_len =
            usize::try_from(u16_at(cd, at + 32).ok_or_else(bad)?).map_err(|_| bad())?;
        let mut offset = u32_at(cd, at + 42).ok_or_else(bad)?;
        let name = cd.get(at + 46..at + 46 + name_len).ok_or_else(bad)?;
        let extra = cd
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(bad)?;
        // Zip64 extended information: the fields that are 0xFFFFFFFF, in order.
        let mut e = 0usize;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).unwrap_or(0);
            let n = usize::try_from(u16_at(extra, e + 2).unwrap_or(0)).unwrap_or(0);
            if id == 1 {
                let mut f = e + 4;
                let mut next = || {
                    let v = u64_at(extra, f);
                    f += 8;
                    v
                };
                if uncompressed == 0xFFFF_FFFF {
                    next();
                }
                if compressed == 0xFFFF_FFFF {
                    compressed = next().ok_or_else(bad)?;
                }
                if offset == 0xFFFF_FFFF {
                    offset = next().ok_or_else(bad)?;
                }
            }
            e += 4 + n;
        }
        out.push(Entry {
            name: String::from_utf8_lossy(name).into_owned(),
            offset,
            compressed,
            name_extra: (name_len + extra_len) as u64,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// The ranges to fetch (inclusive, merged when closer than [`GAP`]): each
/// member `whole` wants in full, and the start of every other one.
pub fn plan(entries: &[Entry], whole: &dyn Fn(&str) -> bool, len: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = entries
        .iter()
        .filter(|e| !e.name.ends_with('/') && e.offset < len)
        .map(|e| {
            let data = if whole(&e.name) {
                e.compressed
            } else {
                e.compressed.min(HEAD_BYTES)
            };
            let end = e
                .offset
                .saturating_add(LOCAL_SLACK)
                .saturating_add(e.name_extra)
                .saturating_add(data)
                .min(len);
            (e.offset, end.saturating_sub(1).max(e.offset))
        })
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (first, last) in spans {
        match merged.last_mut() {
            Some(prev) if first <= prev.1.saturating_add(GAP) => prev.1 = prev.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::Arc;

    fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn over(bytes: Arc<Vec<u8>>) -> Sparse {
        let len = bytes.len() as u64;
        Sparse::new(
            len,
            u64::MAX,
            Box::new(move |a, b| Ok(bytes[a as usize..=b as usize].to_vec())),
        )
    }

    #[test]
    fn the_directory_and_the_wanted_members_are_found_and_planned() {
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let bytes = Arc::new(zip_of(&[
            ("pkg/__init__.py", b"print('hi')\n".to_vec()),
            ("pkg/_big.so", noise),
            ("pkg-1.0.dist-info/RECORD", b"pkg/__init__.py,,\n".to_vec()),
        ]));
        let sparse = over(bytes.clone());
        let (offset, size) = directory(&sparse).unwrap();
        let cd = sparse.exact(offset, size).unwrap();
        let list = entries(&cd, 100).unwrap();
        assert_eq!(
            list.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["pkg/__init__.py", "pkg/_big.so", "pkg-1.0.dist-info/RECORD"]
        );
        let ranges = plan(&list, &|n: &str| !n.ends_with(".so"), sparse.len());
        let planned: u64 = ranges.iter().map(|(a, b)| b - a + 1).sum();
        assert!(planned < 100_000, "{ranges:?}");
        for (a, b) in &ranges {
            sparse.ensure(*a, *b).unwrap();
        }
        // The zip reader finds the wanted members within what was fetched
        // (or fetches the little that is missing) and never the extension.
        let mut z = zip::ZipArchive::new(sparse.cursor()).unwrap();
        let mut text = String::new();
        z.by_name("pkg/__init__.py")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "print('hi')\n");
        assert!(sparse.fetched() < 150_000, "{}", sparse.fetched());
    }

    #[test]
    fn hostile_directories_are_errors_not_panics() {
        for bytes in [
            Vec::new(),
            b"PK\x05\x06".to_vec(),
            b"not a zip at all".to_vec(),
            {
                // An end record that puts the directory past the end.
                let mut b = vec![0u8; 22];
                b[..4].copy_from_slice(b"PK\x05\x06");
                b[12..16].copy_from_slice(&100u32.to_le_bytes());
                b[16..20].copy_from_slice(&1000u32.to_le_bytes());
                b
            },
            {
                let mut b = vec![0u8; 22];
                b[..4].copy_from_slice(b"PK\x05\x06");
                b[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
                b
            },
        ] {
            let sparse = over(Arc::new(bytes));
            assert!(directory(&sparse).is_err());
        }
        assert_eq!(entries(b"PK\x01\x02short", 10).unwrap(), Vec::new());
        let mut cd = vec![0u8; 46];
        cd[..4].copy_from_slice(b"PK\x01\x02");
        cd[28..30].copy_from_slice(&500u16.to_le_bytes());
        assert!(entries(&cd, 10).is_err());
    }

    #[test]
    fn a_failed_fetch_is_an_error_and_sticks() {
        let sparse = Sparse::new(1000, u64::MAX, Box::new(|_, _| Err("refused".into())));
        let mut buf = [0u8; 10];
        assert!(sparse.cursor().read(&mut buf).is_err());
        assert_eq!(sparse.failure().as_deref(), Some("refused"));
        let short = Sparse::new(1000, u64::MAX, Box::new(|_, _| Ok(vec![1, 2, 3])));
        assert!(short.ensure(0, 99).is_err());
        let capped = Sparse::new(
            1000,
            100,
            Box::new(|a, b| Ok(vec![0; (b - a + 1) as usize])),
        );
        assert!(capped.ensure(0, 99).is_ok());
        assert!(capped.ensure(100, 100).is_err(), "the cap holds");
        assert_eq!(capped.fetched(), 100);
    }
}
