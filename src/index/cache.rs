//! The on-disk cache of index answers: a versioned bucket of reduced records,
//! revalidated with `If-None-Match` where the index sent an `ETag`, else kept
//! for the index's `max-age` (15 minutes by default). Writes are atomic; an
//! entry that does not parse is ignored and refetched, never trusted.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::model::{ProjectFacts, ProvenanceListing};
use crate::package::PackageName;

/// Bumped whenever the stored record changes shape.
pub const BUCKET: &str = "index-v1";

/// Default freshness when the index sends no `max-age` (PyPI's own value).
pub const DEFAULT_TTL_SECS: i64 = 15 * 60;

/// One cached answer: project facts, or (`Entry<ProvenanceListing>`) the
/// provenance picture of the Simple API page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry<T = ProjectFacts> {
    /// The document URL.
    pub url: String,
    /// When it was fetched or last revalidated (real time).
    pub fetched_at: Timestamp,
    /// The `ETag` the index sent, if any.
    pub etag: Option<String>,
    /// Seconds the answer stays fresh.
    pub max_age: i64,
    /// The facts, or `None` when the index said the project does not exist.
    pub facts: Option<T>,
}

impl<T> Entry<T> {
    /// Whether the entry is still fresh at `now`.
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        let age = now.as_second() - self.fetched_at.as_second();
        (0..self.max_age).contains(&age)
    }
}

/// A cache rooted at a directory, for one index.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache for the index at `index_url` under `root`.
    pub fn new(root: &Path, index_url: &str) -> Self {
        let digest = sha2::Sha256::digest(index_url.as_bytes());
        let host: String = url::Url::parse(index_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
            .take(64)
            .collect();
        Self {
            dir: root
                .join(BUCKET)
                .join(format!("{host}-{}", hex::encode(&digest[..6]))),
        }
    }

    fn path(&self, name: &PackageName) -> PathBuf {
        self.dir.join(format!("{}.json", name.as_str()))
    }

    fn listing_path(&self, name: &PackageName) -> PathBuf {
        self.dir.join(format!("{}.provenance.json", name.as_str()))
    }

    fn document_path(&self, url: &str) -> PathBuf {
        let digest = sha2::Sha256::digest(url.as_bytes());
        self.dir
            .join("provenance")
            .join(format!("{}.json", hex::encode(&digest[..16])))
    }

    /// Reads an entry; a missing, unreadable or corrupt entry is `None`.
    pub fn get(&self, name: &PackageName) -> Option<Entry> {
        read(&self.path(name))
    }

    /// Writes an entry atomically (temporary file + rename). Errors are
    /// returned so the caller can warn; a cache that cannot be written only
    /// costs speed.
    pub fn put(&self, name: &PackageName, entry: &Entry) -> std::io::Result<()> {
        write(&self.path(name), entry)
    }

    /// The cached provenance listing of a project.
    pub fn get_listing(&self, name: &PackageName) -> Option<Entry<ProvenanceListing>> {
        read(&self.listing_path(name))
    }

    /// Stores the provenance listing of a project.
    pub fn put_listing(
        &self,
        name: &PackageName,
        entry: &Entry<ProvenanceListing>,
    ) -> std::io::Result<()> {
        write(&self.listing_path(name), entry)
    }

    /// A cached provenance object (immutable: a file's attestations are
    /// uploaded with it and never change).
    pub fn get_document(&self, url: &str) -> Option<Vec<u8>> {
        let doc: Document = read(&self.document_path(url))?;
        (doc.url == url).then_some(doc.body.into_bytes())
    }

    /// Removes a stored provenance object, if any.
    pub fn forget_document(&self, url: &str) {
        let _ = std::fs::remove_file(self.document_path(url));
    }

    /// Stores a provenance object (only valid UTF-8 JSON is stored).
    pub fn put_document(&self, url: &str, body: &[u8]) -> std::io::Result<()> {
        let body = String::from_utf8(body.to_vec()).map_err(std::io::Error::other)?;
        write(
            &self.document_path(url),
            &Document {
                url: url.to_string(),
                body,
            },
        )
    }
}

/// A stored provenance object with the URL it came from.
#[derive(Serialize, Deserialize)]
struct Document {
    url: String,
    body: String,
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write<T: Serialize>(target: &Path, value: &T) -> std::io::Result<()> {
    {
        let dir = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        // No URL here carries credentials: index URLs are stripped of them
        // when parsed, file URLs when an answer is read (`wire::resolve`).
        let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(
            ".{}.{}.{}.tmp",
            target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, target).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_freshness_and_corruption() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path(), "https://index.example/simple");
        let name = PackageName::new("six").unwrap();
        assert!(cache.get(&name).is_none());
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let entry = Entry {
            url: "u".into(),
            fetched_at: now,
            etag: Some("\"abc\"".into()),
            max_age: 900,
            facts: None,
        };
        cache.put(&name, &entry).unwrap();
        let back = cache.get(&name).unwrap();
        assert_eq!(back.etag.as_deref(), Some("\"abc\""));
        assert!(back.is_fresh(now));
        assert!(!back.is_fresh(now + jiff::SignedDuration::from_secs(900)));
        std::fs::write(cache.path(&name), b"{not json").unwrap();
        assert!(
            cache.get(&name).is_none(),
            "a corrupt entry is never trusted"
        );
        let other = Cache::new(tmp.path(), "https://mirror.example/simple");
        assert_ne!(other.dir, cache.dir);
    }
}
