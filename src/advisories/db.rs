//! The advisory database on disk: an OSV export (a zip of OSV JSON records)
//! turned once, when it is fetched, into two files in one directory:
//!
//! - `records.jsonl`: each record that names a package on the Python index,
//!   on one line;
//! - `index.json`: the normalised name of each package -> the byte ranges
//!   of its records' lines, with what the export was (source, record
//!   counts, when it was built).
//!
//! An audit reads the small index and then only the lines of the packages
//! it locks, so a 300-package audit costs milliseconds, not a zip scan. A
//! new database is written beside the old one and renamed over it only
//! when whole: a failed or partial download never loses the previous one.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::osv::Record;

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The export is not a zip.
    #[error("{source_name}: not a zip archive: {reason}")]
    NotZip {
        /// Where the export came from.
        source_name: String,
        /// The zip reader's words.
        reason: String,
    },
    /// A member is not an OSV record.
    #[error("{source_name}: {member} is not an OSV record: {reason}")]
    BadRecord {
        /// Where the export came from.
        source_name: String,
        /// The zip member.
        member: String,
        /// The JSON reader's words.
        reason: String,
    },
    /// The export holds no record at all (a truncated or wrong download).
    #[error("{0}: holds no OSV record")]
    Empty(String),
    /// Reading or writing the database directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The index file does not parse.
    #[error("{path}: the advisory index is damaged ({reason}); run `customs advisories update`")]
    Damaged {
        /// The index file.
        path: PathBuf,
        /// The JSON reader's words.
        reason: String,
    },
}

/// The largest member of an export read (a record is a few KiB).
const MAX_RECORD: u64 = 4 << 20;
/// The most members an export may have.
const MAX_MEMBERS: usize = 2_000_000;

/// The index file's contents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Index {
    /// Where the export came from (a URL or a path).
    pub source: String,
    /// When the database was built (RFC 3339).
    pub built: String,
    /// Records in the export.
    pub records: usize,
    /// Of them, records kept (naming a package on the Python index and not
    /// withdrawn).
    pub kept: usize,
    /// Normalised name -> (offset, length) of each of its records' lines.
    pub names: BTreeMap<String, Vec<(u64, u32)>>,
    /// The export's ETag, for a conditional refresh.
    #[serde(default)]
    pub etag: Option<String>,
    /// When the source last said the export had not changed (RFC 3339).
    #[serde(default)]
    pub checked: Option<String>,
}

impl Index {
    /// When the database was last known current: checked, else built.
    pub fn current_since(&self) -> &str {
        self.checked.as_deref().unwrap_or(&self.built)
    }
}

/// A database built in memory from an export, before it is written.
#[derive(Debug)]
pub struct Built {
    /// The index.
    pub index: Index,
    /// The records' lines.
    pub lines: Vec<u8>,
}

/// Builds the database from the bytes of an OSV export. Every member whose
/// name ends in `.json` must be an OSV record (an object with an `id`);
/// anything else is an error naming the member, so that a wrong or damaged
/// download never replaces a good database.
pub fn build(export: &[u8], source_name: &str, built: &str) -> Result<Built, DbError> {
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(export)).map_err(|e| DbError::NotZip {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?;
    if zip.len() > MAX_MEMBERS {
        return Err(DbError::NotZip {
            source_name: source_name.to_string(),
            reason: format!("more than {MAX_MEMBERS} members"),
        });
    }
    let bad = |member: &str, reason: String| DbError::BadRecord {
        source_name: source_name.to_string(),
        member: member.to_string(),
        reason,
    };
    let mut lines = Vec::new();
    let mut names: BTreeMap<String, Vec<(u64, u32)>> = BTreeMap::new();
    let (mut records, mut kept) = (0usize, 0usize);
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| bad(&format!("member {i}"), e.to_string()))?;
        let member = String::from_utf8_lossy(file.name_raw()).into_owned();
        if file.is_dir() || !member.ends_with(".json") {
            continue;
        }
        if file.size() > MAX_RECORD {
            return Err(bad(&member, format!("larger than {MAX_RECORD} bytes")));
        }
        let mut text = Vec::new();
        (&mut file)
            .take(MAX_RECORD + 1)
            .read_to_end(&mut text)
            .map_err(|e| bad(&member, e.to_string()))?;
        let value: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| bad(&member, e.to_string()))?;
        let record: Record =
            serde_json::from_value(value.clone()).map_err(|e| bad(&member, e.to_string()))?;
        if record.id.is_empty() {
            return Err(bad(&member, "no `id`".into()));
        }
        records += 1;
        let affected = record.names();
        if record.withdrawn.is_some() || affected.is_empty() {
            continue;
        }
        kept += 1;
        let line = serde_json::to_vec(&value).map_err(|e| bad(&member, e.to_string()))?;
        let offset = lines.len() as u64;
        let len = u32::try_from(line.len()).unwrap_or(u32::MAX);
        lines.extend_from_slice(&line);
        lines.push(b'\n');
        for name in affected {
            names.entry(name).or_default().push((offset, len));
        }
    }
    if records == 0 {
        return Err(DbError::Empty(source_name.to_string()));
    }
    Ok(Built {
        index: Index {
            source: source_name.to_string(),
            built: built.to_string(),
            records,
            kept,
            names,
            etag: None,
            checked: None,
        },
        lines,
    })
}

const INDEX: &str = "index.json";
const LINES: &str = "records.jsonl";

impl Built {
    /// Writes the database into `dir`, replacing what was there only once
    /// both files are whole: the lines go to a file of their own name, then
    /// the index that names them is renamed into place. An index always
    /// points at the lines it was built with; the previous lines file is
    /// removed last.
    pub fn write(&self, dir: &Path) -> Result<(), DbError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DbError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        // A fresh pair of files per build, named by a stamp the index
        // records; the index is renamed into place last.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let stamp = format!("{}-{nanos}", std::process::id());
        let lines_name = format!("records-{stamp}.jsonl");
        let lines_path = dir.join(&lines_name);
        std::fs::write(&lines_path, &self.lines).map_err(io(&lines_path))?;
        let on_disk = OnDisk {
            index: self.index.clone(),
            lines: lines_name,
        };
        let json = serde_json::to_vec(&on_disk).map_err(|e| DbError::Io {
            path: dir.join(INDEX),
            source: std::io::Error::other(e),
        })?;
        let tmp = dir.join(format!("{INDEX}.{stamp}.tmp"));
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        let old = Database::open(dir).ok().map(|d| d.lines);
        std::fs::rename(&tmp, dir.join(INDEX)).map_err(io(&tmp))?;
        // The previous build's lines are no longer named by any index.
        if let Some(old) = old
            && old != lines_path
        {
            let _ = std::fs::remove_file(old);
        }
        let _ = std::fs::remove_file(dir.join(LINES));
        Ok(())
    }
}

/// The index file as written: the index and the name of its lines file.
#[derive(Debug, Serialize, Deserialize)]
struct OnDisk {
    index: Index,
    lines: String,
}

/// Records that the source still serves the export the database in `dir`
/// was built from (an HTTP 304): its age starts again at `when`.
pub fn mark_current(dir: &Path, when: &str) -> Result<(), DbError> {
    let path = dir.join(INDEX);
    let text = std::fs::read(&path).map_err(|source| DbError::Io {
        path: path.clone(),
        source,
    })?;
    let mut on_disk: OnDisk = serde_json::from_slice(&text).map_err(|e| DbError::Damaged {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    on_disk.index.checked = Some(when.to_string());
    let json = serde_json::to_vec(&on_disk).map_err(|e| DbError::Io {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    let tmp = dir.join(format!("{INDEX}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, json).map_err(|source| DbError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| DbError::Io { path, source })
}

/// An opened database.
#[derive(Debug)]
pub struct Database {
    /// What it holds.
    pub index: Index,
    lines: PathBuf,
}

impl Database {
    /// Opens the database in `dir` (reads the index only).
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        let path = dir.join(INDEX);
        let text = std::fs::read(&path).map_err(|source| DbError::Io {
            path: path.clone(),
            source,
        })?;
        let on_disk: OnDisk = serde_json::from_slice(&text).map_err(|e| DbError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if on_disk.lines.contains(['/', '\\']) || on_disk.lines.starts_with('.') {
            return Err(DbError::Damaged {
                path,
                reason: format!("names a lines file outside it: {}", on_disk.lines),
            });
        }
        Ok(Self {
            index: on_disk.index,
            lines: dir.join(on_disk.lines),
        })
    }

    /// The records that name the package `name` (normalised), in the order
    /// of the export. A line that no longer parses is an error naming the
    /// file.
    pub fn records_for(&self, name: &str) -> Result<Vec<Record>, DbError> {
        let Some(spans) = self.index.names.get(name) else {
            return Ok(Vec::new());
        };
        let io = |source| DbError::Io {
            path: self.lines.clone(),
            source,
        };
        let mut file = std::fs::File::open(&self.lines).map_err(io)?;
        let mut out = Vec::with_capacity(spans.len());
        for &(offset, len) in spans {
            if u64::from(len) > MAX_RECORD {
                return Err(DbError::Damaged {
                    path: self.lines.clone(),
                    reason: format!("a record of {len} bytes at byte {offset}"),
                });
            }
            let mut buf = vec![0; len as usize];
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.read_exact(&mut buf).map_err(io)?;
            let record: Record = serde_json::from_slice(&buf).map_err(|e| DbError::Damaged {
                path: self.lines.clone(),
                reason: format!("the record at byte {offset}: {e}"),
            })?;
            out.push(record);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn export(files: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, data) in files {
            w.start_file(*path, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const MAL: &str = r#"{"id": "MAL-2025-1", "summary": "Malicious code in demo-x",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Demo_X"}, "versions": ["0.0.1"]}]}"#;
    const PYSEC: &str = r#"{"id": "PYSEC-2024-1", "aliases": ["GHSA-aaaa-bbbb-cccc"],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]},
          {"package": {"ecosystem": "PyPI", "name": "demo-x"}, "versions": ["0.0.1"]}]}"#;
    const WITHDRAWN: &str = r#"{"id": "PYSEC-2020-9", "withdrawn": "2021-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"}, "versions": ["1.0"]}]}"#;

    #[test]
    fn an_export_is_indexed_by_name_and_read_back_per_package() {
        let zip = export(&[
            ("MAL-2025-1.json", MAL),
            ("PYSEC-2024-1.json", PYSEC),
            ("PYSEC-2020-9.json", WITHDRAWN),
            ("README.txt", "not a record"),
        ]);
        let built = build(&zip, "test export", "2026-12-03T00:00:00Z").unwrap();
        assert_eq!((built.index.records, built.index.kept), (3, 2));
        let dir = tempfile::tempdir().unwrap();
        built.write(dir.path()).unwrap();
        let db = Database::open(dir.path()).unwrap();
        let ids = |name: &str| -> Vec<String> {
            db.records_for(name)
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(ids("demo-x"), ["MAL-2025-1", "PYSEC-2024-1"]);
        assert_eq!(ids("demo-lib"), ["PYSEC-2024-1"]);
        assert!(ids("other").is_empty());
        assert!(db.records_for("demo-lib").unwrap()[0].affects("demo-lib", "1.1"));
    }

    #[test]
    fn a_bad_export_is_refused_and_the_old_database_survives() {
        let dir = tempfile::tempdir().unwrap();
        let good = build(&export(&[("MAL-2025-1.json", MAL)]), "first", "t1").unwrap();
        good.write(dir.path()).unwrap();
        let zip = export(&[("MAL-2025-1.json", MAL), ("PYSEC-2024-1.json", PYSEC)]);
        // Truncated in transit.
        let err = build(&zip[..zip.len() / 2], "https://files.example/all.zip", "t2").unwrap_err();
        assert!(
            err.to_string().contains("https://files.example/all.zip"),
            "{err}"
        );
        // A member that is not a record.
        let err = build(&export(&[("x.json", "{\"summary\": 1")]), "mirror", "t2").unwrap_err();
        assert!(err.to_string().contains("x.json"), "{err}");
        // An archive without records (an error page zipped, a wrong URL).
        let err = build(&export(&[("index.html", "<html>")]), "mirror", "t2").unwrap_err();
        assert!(matches!(err, DbError::Empty(_)), "{err}");
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(db.index.source, "first");
        assert_eq!(db.records_for("demo-x").unwrap().len(), 1);
        // A good one replaces it, and the old lines go.
        build(&zip, "second", "t3")
            .unwrap()
            .write(dir.path())
            .unwrap();
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(db.index.source, "second");
        assert_eq!(db.records_for("demo-x").unwrap().len(), 2);
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "one index, one lines file");
    }

    #[test]
    fn a_damaged_index_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(INDEX), "{").unwrap();
        let err = Database::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("index.json"), "{err}");
        assert!(
            err.to_string().contains("customs advisories update"),
            "{err}"
        );
    }
}
