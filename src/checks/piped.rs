//! Large archives read as they download: the bytes go through sha256 and,
//! through a short queue, to a scan that inflates and reads them as they
//! come (a tar in order; a zip by its local headers, then checked against
//! its central directory: [`crate::scan::archive::Once`]). Nothing of the
//! file is held (pillow's sdist is 47 MB, pyarrow's wheels 28-47 MB). The
//! scan's verdict counts only once the whole file has the expected sha256;
//! until then it is thrown away with everything else the scan read.
//!
//! A scan that needs a second read (a file setup.py runs, the loaders of a
//! binary, a module a `.pth` imports: 6 of the 489 files of the 297-pin
//! bench, all read so), a zip whose directory disagrees with its local headers, and a
//! download that broke and started again all end in "read it whole": the
//! caller downloads the file again and reads it from memory, as before.

use sha2::Digest as _;

use crate::index::{Body, FileFacts, IndexClient};
use crate::scan::archive::Once;
use crate::scan::{ArchiveScan, Limits, scan_stream};

/// Batches queued between the download and the scan. The scan inflates
/// and parses as fast as most links bring bytes: a longer queue only holds
/// more.
const QUEUED: usize = 16;
/// Bytes handed on at once: the body's chunks (16 KiB HTTP/2 frames) are
/// gathered, so the scan's thread is woken once for many.
const BATCH: usize = 64 * 1024;

/// How a piped scan ended.
pub enum Piped {
    /// The scan of the bytes that have the expected sha256.
    Scanned(ArchiveScan),
    /// The file must be read whole (see the module's note).
    ReadWhole,
    /// The bytes are not the expected ones.
    Mismatch { expected: String, got: String },
    /// The download or the scan failed.
    Failed(String),
}

/// Downloads `file` (of `len` bytes, as the index says) and scans it as it
/// arrives; the bytes must have every `expected` sha256.
pub async fn scan(client: &IndexClient, file: &FileFacts, len: u64, expected: &[String]) -> Piped {
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUED);
    let name = file.filename.clone();
    let scanning = tokio::task::spawn_blocking(move || {
        let once = Once::new(
            Box::new(Queue {
                rx,
                chunk: Vec::new(),
                at: 0,
            }),
            len,
        );
        scan_stream(&name, &once, &Limits::default())
    });
    // The download goes at the scan's pace: a scan as slow as 1 MiB a
    // second does not time it out.
    let timeout = client.config().timeout + std::time::Duration::from_secs(len >> 20);
    let mut pipe = Pipe {
        tx: Some(tx),
        timeout,
        sha: sha2::Sha256::new(),
        batch: Vec::with_capacity(BATCH),
        sent: false,
        broken: false,
    };
    let got = client
        .download_into(&file.url, super::archives::MAX_DOWNLOAD, &mut pipe)
        .await;
    if got.is_ok() {
        pipe.flush().await;
    }
    // The scan sees the end of the stream only once the queue is closed.
    pipe.tx = None;
    let scanned = scanning.await;
    // A body over the cap is over it read whole too.
    let over_cap = got.as_ref().is_err_and(|e| e.contains("larger than"));
    if got.is_err() && pipe.sent && !over_cap || pipe.broken {
        // Broke off after the scan took bytes: not tried again here (the
        // scan has read them), but read whole, which tries again itself.
        return Piped::ReadWhole;
    }
    if let Err(e) = got {
        return Piped::Failed(format!("{}: download failed: {e}", file.filename));
    }
    let sha = hex::encode(pipe.sha.finalize());
    if let Some(want) = expected.iter().find(|e| **e != sha) {
        return Piped::Mismatch {
            expected: want.clone(),
            got: sha,
        };
    }
    match scanned {
        Ok(Ok(Some(scan))) => Piped::Scanned(scan),
        Ok(Ok(None)) => Piped::ReadWhole,
        Ok(Err(e)) => Piped::Failed(e.to_string()),
        Err(e) => Piped::Failed(format!("{}: the scan failed: {e}", file.filename)),
    }
}

/// The download's end of the queue: every byte is hashed, and handed on
/// while the scan still reads (one that has stopped, at the end of the tar
/// or at a cap, gets nothing more; the hash still covers every byte).
struct Pipe {
    tx: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    /// How long the download may take.
    timeout: std::time::Duration,
    sha: sha2::Sha256,
    /// Bytes not handed on yet.
    batch: Vec<u8>,
    sent: bool,
    /// The download started again after bytes were handed on: what the
    /// scan read is not the file.
    broken: bool,
}

impl Body for Pipe {
    fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        if self.broken {
            return Ok(());
        }
        self.sha.update(chunk);
        self.sent = true;
        if self.tx.is_none() {
            return Ok(());
        }
        self.batch.extend_from_slice(chunk);
        if self.batch.len() < BATCH {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(tx) = &self.tx
            && let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = tx.try_send(batch)
        {
            // Cannot happen after `room` (this is the only sender); if it
            // did, the scan would miss bytes: it is not used.
            self.broken = true;
            self.tx = None;
        }
        Ok(())
    }

    fn restart(&mut self) {
        if self.sent {
            // Ends the scan's stream: it reads no more.
            self.broken = true;
            self.tx = None;
        }
        self.sha = sha2::Sha256::new();
        self.batch.clear();
    }

    fn timeout(&self) -> Option<std::time::Duration> {
        Some(self.timeout)
    }

    fn retries(&self) -> bool {
        !self.sent
    }

    fn room(&mut self) -> Option<futures::future::BoxFuture<'_, ()>> {
        let tx = self.tx.as_ref()?;
        Some(Box::pin(async move {
            // A closed queue (the scan has stopped reading) has no room to
            // wait for.
            let _ = tx.reserve().await;
        }))
    }
}

impl Pipe {
    /// Hands on the last bytes.
    async fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if let Some(tx) = &self.tx
            && !batch.is_empty()
        {
            // A scan that has stopped reading needs no more.
            let _ = tx.send(batch).await;
        }
    }
}

/// The scan's end of the queue, as a reader.
struct Queue {
    rx: tokio::sync::mpsc::Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
}

impl std::io::Read for Queue {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                // The download ended (or failed: then the scan is not used).
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
