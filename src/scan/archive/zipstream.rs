//! A zip read once, as it streams in, by its local headers: each member is
//! inflated (or, of one the scanner does not read, only its head) and
//! handed on as its bytes arrive, and nothing of it is held. Installers
//! read a zip through its central directory, at the end; so at the end the
//! directory must list exactly the members read, in the same order, at the
//! same offsets, with the same names, methods, sizes and CRCs, none of them
//! a link. Anything else (a directory that disagrees, sizes in data
//! descriptors, encryption, an unknown method, a damaged member) is an
//! error, and the caller reads the file whole, through its directory, as
//! before: what this read found is then thrown away.

use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::Read;

use super::{Budget, Contents, Limits, Member, check_path, read_head, read_member, too_big};
use crate::scan::sparse::Sparse;
use crate::scan::stream::{LOCAL, TAIL, u16_at, u32_at};

/// The most bytes after the last member (the central directory and the end
/// records) read: a bigger directory is read whole. A wheel's directory
/// takes about 100 bytes a member.
const MAX_END: u64 = 8 * 1024 * 1024;

/// A member as its local header describes it (its name by its sha256: a
/// hostile zip's names can be 64 KiB each).
pub(super) struct Local {
    offset: u64,
    name: [u8; 32],
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    dir: bool,
}

/// Reads the zip `r` (of `len` bytes, as the index says); returns the bytes
/// decompressed, [`Limits::spent`] included.
pub(super) fn read(
    r: impl Read,
    len: u64,
    limits: &Limits,
    keep: &dyn Fn(&str) -> bool,
    on_member: &mut dyn FnMut(Member),
    out: &mut Contents,
) -> Result<u64, String> {
    let mut budget = Budget {
        limits,
        compressed: len,
        total: limits.spent,
    };
    let tail_from = len.saturating_sub(TAIL);
    let mut r = Recording {
        inner: r,
        pos: 0,
        from: tail_from,
        kept: Vec::new(),
    };
    let mut held: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut seen: Vec<Local> = Vec::new();
    let mut pos = 0u64;
    loop {
        let mut header = vec![0u8; 30];
        r.read_exact(&mut header[..4]).map_err(truncated)?;
        if &header[..4] != LOCAL {
            // The central directory (or whatever follows the members).
            header.truncate(4);
            let mut end = header;
            (&mut r)
                .take(MAX_END + 1)
                .read_to_end(&mut end)
                .map_err(truncated)?;
            if end.len() as u64 > MAX_END {
                return Err("more than 8 MiB after the last member".into());
            }
            if pos.checked_add(end.len() as u64) != Some(len) {
                return Err(format!(
                    "{} bytes, not the {len} the index says",
                    pos + end.len() as u64
                ));
            }
            if pos < tail_from {
                held.insert(pos, end);
            }
            break;
        }
        if seen.len() >= limits.max_entries {
            return Err(format!("more than {} entries", limits.max_entries));
        }
        let (local, next) = rest_of_header(&mut r, &mut header, pos, len)?;
        pos = next;
        let name_len = usize::from(u16_at(&header, 26));
        let path = String::from_utf8_lossy(&header[30..30 + name_len]).into_owned();
        check_path(&path, out);
        let mut data = (&mut r).take(local.compressed);
        if !local.dir {
            let read = if keep(&path) {
                let mut inflated = Checked {
                    inner: decoder(local.method, &mut data),
                    crc: crc32fast::Hasher::new(),
                    left: local.size,
                    want: local.crc,
                };
                read_member(&mut inflated, local.size, &mut budget, true)
            } else {
                read_head(&mut decoder(local.method, &mut data), &mut budget)
            };
            let got = read.map_err(|what| format!("{path}: {what}"))?;
            out.members += 1;
            if got.is_none() {
                too_big(out, &path, local.size, limits);
            }
            on_member(Member {
                path,
                size: local.size,
                data: got,
            });
        }
        // What was not inflated (all but a member's head) is skipped unread.
        std::io::copy(&mut data, &mut std::io::sink()).map_err(truncated)?;
        if data.limit() > 0 {
            return Err(truncated("the stream ended inside a member"));
        }
        seen.push(local);
    }
    held.insert(tail_from, r.kept);
    agrees(len, held, &seen)?;
    Ok(budget.total)
}

/// A reader that keeps every byte from `from` on.
struct Recording<R> {
    inner: R,
    pos: u64,
    from: u64,
    kept: Vec<u8>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let end = self.pos + n as u64;
        if end > self.from {
            let skip = usize::try_from(self.from.saturating_sub(self.pos)).unwrap_or(n);
            self.kept.extend_from_slice(&buf[skip.min(n)..n]);
        }
        self.pos = end;
        Ok(n)
    }
}

/// Reads the rest of the local header at `pos` whose signature is
/// `header`'s first 4 bytes: the member it describes, and where the next
/// header starts (inside a file of `len` bytes).
fn rest_of_header(
    r: &mut impl Read,
    header: &mut Vec<u8>,
    pos: u64,
    len: u64,
) -> Result<(Local, u64), String> {
    header.resize(30, 0);
    r.read_exact(&mut header[4..]).map_err(truncated)?;
    let names = usize::from(u16_at(header, 26)) + usize::from(u16_at(header, 28));
    header.resize(30 + names, 0);
    r.read_exact(&mut header[30..]).map_err(truncated)?;
    let local = local(header, pos)?;
    let next = pos
        .checked_add(header.len() as u64)
        .and_then(|p| p.checked_add(local.compressed))
        .filter(|&p| p <= len)
        .ok_or("a member that runs past the end of the file")?;
    Ok((local, next))
}

fn truncated(e: impl std::fmt::Display) -> String {
    format!("truncated or corrupt zip: {e}")
}

/// The member a whole local header (`h`, at `offset`) describes.
fn local(h: &[u8], offset: u64) -> Result<Local, String> {
    let flags = u16_at(h, 6);
    if flags & 0x9 != 0 {
        return Err("an encrypted member, or sizes after the data".into());
    }
    let method = u16_at(h, 8);
    if method != 0 && method != 8 {
        return Err(format!("compression method {method}"));
    }
    let name_len = usize::from(u16_at(h, 26));
    let raw = &h[30..30 + name_len];
    let (mut compressed, mut size) = (u64::from(u32_at(h, 18)), u64::from(u32_at(h, 22)));
    let mut zip64 = None;
    let mut name = raw;
    let mut extra = &h[30 + name_len..];
    while extra.len() >= 4 {
        let (id, n) = (u16_at(extra, 0), usize::from(u16_at(extra, 2)));
        let Some(body) = extra.get(4..4 + n) else {
            break;
        };
        if id == 1 && body.len() >= 16 {
            let at = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().unwrap_or_default());
            zip64 = Some((at(8), at(0)));
        }
        // Info-ZIP's Unicode path: the name, when it was written for the
        // raw name there is (its CRC), as the zip crate reads the
        // directory's.
        if id == 0x7075
            && body.len() >= 5
            && body[0] == 1
            && u32_at(body, 1) == crc32fast::hash(raw)
        {
            name = &body[5..];
        }
        extra = &extra[4 + n..];
    }
    if compressed == u64::from(u32::MAX) || size == u64::from(u32::MAX) {
        // Zip64: the local header's extra field holds both sizes, the
        // uncompressed one first (APPNOTE 4.5.3).
        (compressed, size) = zip64.ok_or("zip64 sizes without their extra field")?;
    }
    Ok(Local {
        offset,
        dir: name.ends_with(b"/") || name.ends_with(b"\\"),
        name: sha2::Sha256::digest(name).into(),
        method,
        crc: u32_at(h, 14),
        compressed,
        size,
    })
}

fn decoder<'r>(method: u16, data: &'r mut std::io::Take<impl Read>) -> Box<dyn Read + 'r> {
    if method == 8 {
        Box::new(flate2::read::DeflateDecoder::new(data))
    } else {
        Box::new(data)
    }
}

/// A member's bytes, refused unless they are as long as its header says
/// and have its CRC.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
    left: u64,
    want: u32,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other("longer than its header says"));
        }
        self.left -= n as u64;
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() {
            if self.left > 0 {
                return Err(std::io::Error::other("shorter than its header says"));
            }
            if self.crc.clone().finalize() != self.want {
                return Err(std::io::Error::other("its CRC is not its header's"));
            }
        }
        Ok(n)
    }
}

/// Whether the central directory lists exactly the members `seen`, in the
/// same order, as their local headers did, none of them a link or
/// encrypted; `held` has the end of the file (the directory is read
/// without the local headers).
fn agrees(len: u64, held: BTreeMap<u64, Vec<u8>>, seen: &[Local]) -> Result<(), String> {
    let sparse = Sparse::with_held(
        len,
        held,
        Box::new(|first, last| Err(format!("bytes {first}-{last} were not kept"))),
    );
    let zip = zip::ZipArchive::new(sparse.cursor())
        .map_err(|e| format!("unreadable central directory: {e}"))?;
    match compare(&zip, seen) {
        Compared::Same => {}
        Compared::Reordered => {
            return Err(
                "the central directory lists the members in another order than the local headers"
                    .into(),
            );
        }
        Compared::Differs(why) | Compared::Unreadable(why) => return Err(why),
    }
    for i in 0..zip.len() {
        if zip
            .by_index_data(i)
            .is_ok_and(|e| e.is_symlink() || e.encrypted())
        {
            return Err("a link or an encrypted member".into());
        }
    }
    drop(zip);
    sparse.failure().map_or(Ok(()), Err)
}

/// How a central directory compares with the local headers.
pub(super) enum Compared {
    /// The same members, in the same order.
    Same,
    /// The same members, in another order.
    Reordered,
    /// Other members: an installer that reads the local headers (as some
    /// have) installs other files than one that reads the directory.
    Differs(String),
    Unreadable(String),
}

/// Compares the members the central directory of `zip` lists with those
/// the local headers describe (`seen`, in file order).
pub(super) fn compare<R: Read + std::io::Seek>(
    zip: &zip::ZipArchive<R>,
    seen: &[Local],
) -> Compared {
    if zip.has_duplicate_names() {
        // The crate keeps one entry a name (pip installs each, the last
        // one last): the lists cannot be held side by side.
        return Compared::Unreadable("names more than once in the central directory".into());
    }
    if zip.len() != seen.len() {
        return Compared::Differs(format!(
            "the central directory lists {} members, the local headers {}",
            zip.len(),
            seen.len()
        ));
    }
    let by_offset: std::collections::HashMap<u64, &Local> =
        seen.iter().map(|l| (l.offset, l)).collect();
    let mut in_order = true;
    for (i, local) in seen.iter().enumerate() {
        let e = match zip.by_index_data(i) {
            Ok(e) => e,
            Err(e) => return Compared::Unreadable(format!("corrupt zip entry {i}: {e}")),
        };
        let name = || String::from_utf8_lossy(e.name_raw()).into_owned();
        let Some(l) = by_offset.get(&e.header_start()) else {
            return Compared::Differs(format!(
                "the central directory puts `{}` at byte {}, where no local header starts",
                name(),
                e.header_start()
            ));
        };
        let method = match e.compression() {
            zip::CompressionMethod::Stored => 0,
            zip::CompressionMethod::Deflated => 8,
            _ => u16::MAX,
        };
        let same = <[u8; 32]>::from(sha2::Sha256::digest(e.name_raw())) == l.name
            && method == l.method
            && e.crc32() == l.crc
            && e.compressed_size() == l.compressed
            && e.size() == l.size
            && e.is_dir() == l.dir;
        if !same {
            return Compared::Differs(format!(
                "the central directory describes `{}` otherwise than its local header",
                name()
            ));
        }
        in_order &= l.offset == local.offset;
    }
    if in_order {
        Compared::Same
    } else {
        Compared::Reordered
    }
}

/// The members the local headers of the zip `r` (of `len` bytes) describe,
/// in file order, found by seeking from header to header (no member's data
/// is read); at most `max`. `Err` when they cannot be followed (sizes after
/// the data, encryption, an unknown method, a member past the end).
pub(super) fn walk<R: Read + std::io::Seek>(
    r: &mut R,
    len: u64,
    max: usize,
) -> Result<Vec<Local>, String> {
    let mut seen = Vec::new();
    let mut pos = 0u64;
    loop {
        r.seek(std::io::SeekFrom::Start(pos)).map_err(truncated)?;
        let mut header = vec![0u8; 30];
        if r.read_exact(&mut header[..4]).is_err() || &header[..4] != LOCAL {
            return Ok(seen);
        }
        if seen.len() >= max {
            return Err(format!("more than {max} entries"));
        }
        let (local, next) = rest_of_header(r, &mut header, pos, len)?;
        pos = next;
        seen.push(local);
    }
}
