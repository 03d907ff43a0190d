//! An archive as it streams in: every byte goes through sha256 (the file's
//! hash stays the integrity check), and of a zip only what the scanner
//! reads is kept: each local header, the members it reads whole, the first
//! bytes of the others (their magic number) and the central directory. The
//! compressed bytes of the rest (compiled extensions, data) are hashed and
//! dropped, never held and never inflated.
//!
//! The zip is then read from what was kept, through its central directory
//! as every installer reads it ([`Sparse`] over the kept ranges). A read
//! that needs a byte that was not kept (a directory that disagrees with the
//! local headers, a head that needs more than [`HEAD_KEPT`] compressed
//! bytes) fails instead of guessing, and the caller reads the file whole.
//! A zip whose local headers cannot be followed as it streams (sizes in
//! data descriptors, an unknown record) and anything that is not a zip are
//! kept whole from that point.

use sha2::Digest as _;
use std::collections::BTreeMap;

use super::sparse::Sparse;

/// A zip local header's signature.
pub(super) const LOCAL: &[u8; 4] = b"PK\x03\x04";
/// Compressed bytes kept of a member read only for its head (enough to
/// inflate the first [`super::archive::HEAD`] bytes).
pub const HEAD_KEPT: u64 = 4096;
/// The end of the file always kept: the end-of-directory record (22 bytes),
/// the longest comment (65,535), the zip64 locator (20) and some slack. The
/// zip reader looks for the directory there.
pub(super) const TAIL: u64 = 22 + 65_535 + 20 + 1024;

/// The room a run kept after a dropped stretch starts with.
const RUN_START: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a local header (its bytes so far are in `header`).
    Header,
    /// In a member's data: keep `keep` more bytes, then drop `drop`.
    Data { keep: u64, drop: u64 },
    /// Everything from here on is kept.
    All,
}

/// An archive streaming in.
pub struct Streamed {
    /// The length the index gives, if any (without it, all is kept).
    declared: Option<u64>,
    pos: u64,
    held: BTreeMap<u64, Vec<u8>>,
    kept: u64,
    /// Most bytes kept.
    cap: u64,
    state: State,
    /// The state at the start (to start again).
    start: State,
    header: Vec<u8>,
    sha: sha2::Sha256,
    wanted: fn(&str) -> bool,
}

/// An archive that has streamed in.
pub struct Held {
    pub sha256: String,
    pub len: u64,
    pub kept: u64,
    held: BTreeMap<u64, Vec<u8>>,
}

impl Streamed {
    /// An archive of `declared` bytes (as the index says), of which at most
    /// `cap` are kept; `wanted` names the members read whole.
    pub fn new(declared: Option<u64>, cap: u64, wanted: fn(&str) -> bool) -> Self {
        let start = if declared.is_some() {
            State::Header
        } else {
            State::All
        };
        Self::starting(declared, cap, wanted, start)
    }

    /// An archive of which every byte is kept.
    pub fn whole(declared: Option<u64>, cap: u64) -> Self {
        Self::starting(declared, cap, |_| true, State::All)
    }

    /// An archive to scan: of a zip, what the scanner reads
    /// ([`super::wanted_whole`]); every byte when `whole`.
    pub fn for_scan(declared: Option<u64>, cap: u64, whole: bool) -> Self {
        if whole {
            Self::whole(declared, cap)
        } else {
            Self::new(declared, cap, super::wanted_whole)
        }
    }

    fn starting(declared: Option<u64>, cap: u64, wanted: fn(&str) -> bool, start: State) -> Self {
        Self {
            declared,
            pos: 0,
            held: BTreeMap::new(),
            kept: 0,
            cap,
            state: start,
            start,
            header: Vec::new(),
            sha: sha2::Sha256::new(),
            wanted,
        }
    }

    /// Starts again from nothing (a download retried after a broken body).
    pub fn restart(&mut self) {
        *self = Self::starting(self.declared, self.cap, self.wanted, self.start);
    }

    /// The next bytes of the file.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), String> {
        self.sha.update(chunk);
        while !chunk.is_empty() {
            let n = match self.state {
                State::All => {
                    self.keep(chunk)?;
                    chunk.len()
                }
                State::Data { keep, drop } if keep > 0 => {
                    let n = take(keep, chunk.len());
                    self.keep(&chunk[..n])?;
                    self.state = State::Data {
                        keep: keep - n as u64,
                        drop,
                    };
                    n
                }
                State::Data { drop, .. } if drop > 0 => {
                    let n = take(drop, chunk.len());
                    self.drop_bytes(&chunk[..n])?;
                    self.state = State::Data {
                        keep: 0,
                        drop: drop - n as u64,
                    };
                    n
                }
                State::Data { .. } => {
                    self.state = State::Header;
                    0
                }
                State::Header => {
                    let need = self.header_needs().saturating_sub(self.header.len());
                    let n = need.min(chunk.len());
                    self.header.extend_from_slice(&chunk[..n]);
                    self.keep(&chunk[..n])?;
                    if self.header.len() == self.header_needs() {
                        self.header_done();
                    }
                    n
                }
            };
            chunk = &chunk[n..];
        }
        Ok(())
    }

    /// The bytes the header being read needs: its signature, its fixed
    /// part, then its name and extra field.
    fn header_needs(&self) -> usize {
        let h = &self.header;
        if h.len() >= 4 && &h[..4] != LOCAL {
            // Not a local header: read as far as it goes.
            return h.len();
        }
        if h.len() < 30 {
            return 30;
        }
        30 + usize::from(u16_at(h, 26)) + usize::from(u16_at(h, 28))
    }

    fn header_done(&mut self) {
        let h = std::mem::take(&mut self.header);
        let data = (&h[..4] == LOCAL).then(|| self.data_length(&h)).flatten();
        self.state = match data {
            Some(compressed) => {
                let name_len = usize::from(u16_at(&h, 26));
                let name = String::from_utf8_lossy(&h[30..30 + name_len]);
                let keep = if (self.wanted)(&name) {
                    compressed
                } else {
                    compressed.min(HEAD_KEPT)
                };
                State::Data {
                    keep,
                    drop: compressed - keep,
                }
            }
            // The central directory, or a record that cannot be followed.
            None => State::All,
        };
    }

    /// The compressed length of the member whose local header is `h`, if
    /// the header says it (not in a data descriptor after the data).
    fn data_length(&self, h: &[u8]) -> Option<u64> {
        let flags = u16_at(h, 6);
        if flags & 0x8 != 0 {
            return None;
        }
        let compressed = u32_at(h, 18);
        if compressed != u32::MAX {
            return Some(u64::from(compressed));
        }
        // Zip64: a local header's extra field holds both sizes, the
        // uncompressed one first (APPNOTE 4.5.3).
        let name_len = usize::from(u16_at(h, 26));
        let mut extra = h.get(30 + name_len..)?;
        while extra.len() >= 4 {
            let (id, size) = (u16_at(extra, 0), usize::from(u16_at(extra, 2)));
            let body = extra.get(4..4 + size)?;
            if id == 1 {
                return body
                    .get(8..16)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
            }
            extra = &extra[4 + size..];
        }
        None
    }

    fn keep(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.kept += bytes.len() as u64;
        if self.kept > self.cap {
            // Worded so a download is not tried again for it.
            return Err(format!(
                "the archive is larger than {} MiB to hold",
                self.cap >> 20
            ));
        }
        let at = self.pos;
        self.pos += bytes.len() as u64;
        if let Some((start, last)) = self.held.iter_mut().next_back()
            && start + last.len() as u64 == at
        {
            last.extend_from_slice(bytes);
            return Ok(());
        }
        self.seal();
        // A file kept whole from its start (a pure wheel, an sdist) is sized
        // once, as the index says; other runs start small and grow. A run is
        // trimmed once it ends.
        let rest = self.declared.unwrap_or(0).saturating_sub(at).min(self.cap);
        let rest = if at == 0 { rest } else { rest.min(RUN_START) };
        let mut run = Vec::with_capacity(usize::try_from(rest).unwrap_or(0));
        run.extend_from_slice(bytes);
        self.held.insert(at, run);
        Ok(())
    }

    /// Trims the last run kept to its length (it has ended).
    fn seal(&mut self) {
        if let Some((_, last)) = self.held.iter_mut().next_back()
            && last.capacity() > last.len()
        {
            last.shrink_to_fit();
        }
    }

    /// Bytes not kept, except those in the file's last [`TAIL`] bytes.
    fn drop_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        let tail_from = self.declared.unwrap_or(0).saturating_sub(TAIL);
        let skip = take(tail_from.saturating_sub(self.pos), bytes.len());
        if skip > 0 && self.continues() {
            // The last run ends here.
            self.seal();
        }
        self.pos += skip as u64;
        if skip == bytes.len() {
            return Ok(());
        }
        self.keep(&bytes[skip..])
    }

    /// Whether the byte at `pos` goes into the last run kept.
    fn continues(&self) -> bool {
        self.held
            .iter()
            .next_back()
            .is_some_and(|(start, run)| start + run.len() as u64 == self.pos)
    }

    /// The file as it came: its sha256, its length and what was kept.
    pub fn finish(mut self) -> Held {
        self.seal();
        Held {
            sha256: hex::encode(self.sha.finalize()),
            len: self.pos,
            kept: self.kept,
            held: self.held,
        }
    }
}

impl Held {
    /// The whole file, when every byte was kept.
    pub fn whole(&self) -> Option<&[u8]> {
        match self.held.iter().next() {
            Some((0, bytes)) if self.held.len() == 1 && bytes.len() as u64 == self.len => {
                Some(bytes)
            }
            None if self.len == 0 => Some(&[]),
            _ => None,
        }
    }

    /// The whole file, when every byte was kept (without a copy).
    pub fn into_whole(mut self) -> Result<Vec<u8>, Self> {
        if self.whole().is_none() {
            return Err(self);
        }
        Ok(self.held.pop_first().map(|(_, b)| b).unwrap_or_default())
    }

    /// What was kept, as a file to read: a read of a byte that was not kept
    /// fails (and sticks as the file's failure).
    pub fn into_sparse(self) -> Sparse {
        let len = self.len;
        Sparse::with_held(
            len,
            self.held,
            Box::new(move |first, last| {
                Err(format!(
                    "bytes {first}-{last} of {len} were not kept as the file streamed in (not where its local headers put the members it reads)"
                ))
            }),
        )
    }
}

fn take(n: u64, len: usize) -> usize {
    usize::try_from(n).map_or(len, |n| n.min(len))
}

/// The little-endian `u16` at `at` (0 past the end).
pub(super) fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

/// The little-endian `u32` at `at` (0 past the end).
pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::io::Write as _;

    fn wanted(p: &str) -> bool {
        p.ends_with(".py")
    }

    fn zip_of(files: &[(&str, Vec<u8>, zip::CompressionMethod)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, method) in files {
            let opts = zip::write::SimpleFileOptions::default().compression_method(*method);
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn stream(bytes: &[u8], declared: Option<u64>, step: usize) -> Held {
        let mut s = Streamed::new(declared, u64::MAX, wanted);
        for c in bytes.chunks(step) {
            s.push(c).unwrap();
        }
        s.finish()
    }

    /// Bytes that do not compress: a compiled extension's stand-in.
    pub(in crate::scan) fn noise(n: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn of_a_zip_only_headers_wanted_members_heads_and_the_directory_are_kept() {
        let mut elf = b"\x7fELF".to_vec();
        elf.extend(noise(600_000));
        let code = b"import os\nprint(os.name)\n".repeat(2000);
        let bytes = zip_of(&[
            ("pkg/_ext.so", elf.clone(), zip::CompressionMethod::Deflated),
            (
                "pkg/__init__.py",
                code.clone(),
                zip::CompressionMethod::Deflated,
            ),
            (
                "pkg/data.bin",
                noise(300_000),
                zip::CompressionMethod::Stored,
            ),
            ("pkg/mod.py", code.clone(), zip::CompressionMethod::Stored),
        ]);
        for step in [1, 7, 4096, 1 << 20] {
            let held = stream(&bytes, Some(bytes.len() as u64), step);
            assert_eq!(held.len, bytes.len() as u64);
            assert_eq!(
                held.sha256,
                hex::encode(sha2::Sha256::digest(&bytes)),
                "step {step}"
            );
            assert!(held.whole().is_none());
            // Kept: two wanted members (one stored whole), two heads, the
            // tail window; not the 900 kB of noise.
            assert!(
                held.kept < 200_000,
                "step {step}: {} of {} kept",
                held.kept,
                bytes.len()
            );
            let sparse = held.into_sparse();
            let mut zip = zip::ZipArchive::new(sparse.cursor()).unwrap();
            for (name, want) in [("pkg/__init__.py", &code), ("pkg/mod.py", &code)] {
                let mut got = Vec::new();
                std::io::Read::read_to_end(&mut zip.by_name(name).unwrap(), &mut got).unwrap();
                assert_eq!(&got, want, "step {step}: {name}");
            }
            let mut head = [0u8; 128];
            std::io::Read::read_exact(&mut zip.by_name("pkg/_ext.so").unwrap(), &mut head).unwrap();
            assert_eq!(&head[..], &elf[..128]);
            // A member that was not kept cannot be read whole: the read
            // fails, never returns other bytes.
            let mut all = Vec::new();
            let read =
                std::io::Read::read_to_end(&mut zip.by_name("pkg/data.bin").unwrap(), &mut all);
            assert!(read.is_err(), "step {step}");
            assert!(sparse.failure().is_some());
        }
    }

    #[test]
    fn zip64_local_headers_are_followed() {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let big = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        w.start_file("pkg/_ext.so", big).unwrap();
        w.write_all(&noise(400_000)).unwrap();
        w.start_file("pkg/mod.py", big).unwrap();
        w.write_all(b"x = 1\n").unwrap();
        w.start_file("pkg/data.bin", big).unwrap();
        w.write_all(&noise(200_000)).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(u32_at(&bytes, 18), u32::MAX, "a zip64 local header");
        let held = stream(&bytes, Some(bytes.len() as u64), 4096);
        assert!(held.kept < 100_000, "{} kept", held.kept);
        let sparse = held.into_sparse();
        let mut zip = zip::ZipArchive::new(sparse.cursor()).unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name("pkg/mod.py").unwrap(), &mut got).unwrap();
        assert_eq!(got, b"x = 1\n");
        assert!(sparse.failure().is_none());
    }

    #[test]
    fn anything_else_is_kept_whole() {
        let tgz = b"\x1f\x8b\x08\x00 not really a tarball".repeat(100);
        for declared in [Some(tgz.len() as u64), None] {
            let held = stream(&tgz, declared, 13);
            assert_eq!(held.whole(), Some(&tgz[..]));
            assert_eq!(held.into_whole().ok(), Some(tgz.clone()));
        }
        // A zip whose sizes come after the data (a data descriptor) is kept
        // whole from that member on.
        let mut w = zip::ZipWriter::new_stream(Vec::new());
        w.start_file("a.so", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(&noise(100_000)).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_ne!(
            u16_at(&bytes, 6) & 0x8,
            0,
            "the writer used a data descriptor"
        );
        let held = stream(&bytes, Some(bytes.len() as u64), 4096);
        assert_eq!(held.whole(), Some(&bytes[..]));
    }

    #[test]
    fn the_hold_is_capped_and_a_short_file_is_an_error_not_a_panic() {
        let mut s = Streamed::new(None, 1000, wanted);
        assert!(s.push(&[0u8; 999]).is_ok());
        assert!(s.push(&[0u8; 2]).is_err());
        // A file shorter or longer than declared, or cut inside a header.
        let bytes = zip_of(&[("a.py", b"x = 1\n".to_vec(), zip::CompressionMethod::Stored)]);
        for cut in [0, 3, 10, 31, bytes.len() - 1] {
            let held = stream(&bytes[..cut], Some(bytes.len() as u64), 5);
            assert_eq!(held.len, cut as u64);
        }
        let held = stream(&bytes, Some(5), 5);
        assert_eq!(held.len, bytes.len() as u64);
    }
}
