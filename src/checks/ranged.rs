//! Very large wheels read by HTTP ranges (`--range-reads-over SIZE`): the
//! central directory, the members the scanner reads whole and the first
//! bytes of the others, never the rest. The whole-file sha256 cannot be
//! checked this way, so every member read whole is checked against the
//! wheel's RECORD (and its CRC); a wheel without a RECORD, or one that
//! disagrees with it, is read whole instead.

use crate::index::IndexClient;
use crate::scan::sparse::{self, Sparse};
use crate::scan::{ArchiveScan, Limits, archive, record};

/// Requests in flight at once for one wheel.
const PARALLEL: usize = 8;

/// A wheel scanned by ranges.
pub struct RangeRead {
    pub scan: ArchiveScan,
    /// Bytes fetched, of the file's `len`.
    pub fetched: u64,
    pub requests: u64,
}

impl RangeRead {
    /// What the scan status says of it.
    pub fn note(&self, filename: &str, len: u64) -> String {
        format!(
            "{filename} read by range requests ({} of {} in {} requests): its members were verified by the wheel's RECORD and their CRCs, not the file by its sha256",
            mib(self.fetched),
            mib(len),
            self.requests
        )
    }
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
}

/// Fetches the parts of the wheel at `url` (`len` bytes, as the index
/// says) that the scanner reads: the central directory, the members it
/// reads whole and the start of the others. Blocking: each request runs on
/// `handle`. `Err` says why the wheel must be read whole instead.
pub fn fetch(
    client: IndexClient,
    handle: tokio::runtime::Handle,
    url: String,
    len: u64,
) -> Result<Sparse, String> {
    let fetch: sparse::Fetcher = Box::new(move |first, last| {
        handle
            .block_on(client.range(&url, first, last, len))
            .map_err(|e| e.to_string())
    });
    // Never more than a whole download would have been.
    let file = Sparse::new(len, super::archives::MAX_DOWNLOAD as u64, fetch);
    let (offset, size) = sparse::directory(&file)?;
    let directory = file.exact(offset, size)?;
    let entries = sparse::entries(&directory, Limits::default().max_entries)?;
    if !entries.iter().any(|e| record::is_record(&e.name)) {
        return Err("the wheel has no RECORD to check its members against".into());
    }
    // A member the scanner would read whole but cannot (over its cap) is a
    // gap whichever way the wheel is read; by ranges it would also be
    // fetched in full first.
    let max = Limits::default().max_member;
    if let Some(e) = entries
        .iter()
        .find(|e| crate::scan::wanted_whole(&e.name) && e.compressed > max)
    {
        return Err(format!(
            "{} is {} MiB compressed, above what the scanner reads of a member",
            e.name,
            e.compressed >> 20
        ));
    }
    fetch_all(
        &file,
        &sparse::plan(&entries, &crate::scan::wanted_whole, len),
    )?;
    Ok(file)
}

/// Scans a wheel [`fetch`]ed by ranges (what is still missing is fetched as
/// the reader needs it). `Err` says why the wheel must be read whole instead.
pub fn scan(file: &Sparse, filename: &str) -> Result<RangeRead, String> {
    let scan =
        crate::scan::scan_source(filename, archive::Source::Ranges(file), &Limits::default())
            .map_err(|e| e.to_string())?;
    if let Some(failure) = file.failure() {
        return Err(format!("a range request failed: {failure}"));
    }
    let r = &scan.record;
    if !r.present {
        return Err("no RECORD was read (is it a wheel?)".into());
    }
    if !r.vouches() {
        return Err(format!(
            "what was read disagrees with the wheel's RECORD ({} differ, {} not listed, {} listed without a hash)",
            r.mismatched, r.unlisted, r.unhashed
        ));
    }
    if !scan.gaps.is_empty() {
        return Err(format!("the read left gaps: {}", scan.gaps.join("; ")));
    }
    Ok(RangeRead {
        fetched: file.fetched(),
        requests: file.requests(),
        scan,
    })
}

/// Fetches the planned ranges, [`PARALLEL`] at a time; the first error wins.
fn fetch_all(file: &Sparse, ranges: &[(u64, u64)]) -> Result<(), String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL.min(ranges.len()))
            .map(|_| {
                scope.spawn(|| {
                    while let Some(&(first, last)) =
                        ranges.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        file.ensure(first, last)?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err("a range worker failed".into()))
        })
    })
}
