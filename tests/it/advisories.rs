//! `customs advisories update|status`: the OSV export is fetched from the
//! local test server (or read from a file), built into the cache, and a
//! damaged download never replaces a good database.

use std::io::Write;

use crate::common::{customs, run};
use crate::server::{Reply, Server};

fn export(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in files {
        w.start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const MAL: &str = r#"{"id": "MAL-2026-1", "summary": "Malicious code in demo-x",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-x"}, "versions": ["0.0.1"]}]}"#;
const PYSEC: &str = r#"{"id": "PYSEC-2026-2", "aliases": ["GHSA-aaaa-bbbb-cccc"],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2"}]}]}]}"#;
const WITHDRAWN: &str = r#"{"id": "PYSEC-2020-9", "withdrawn": "2021-01-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-lib"}, "versions": ["1.0"]}]}"#;

#[test]
fn update_builds_the_database_and_a_damaged_download_keeps_the_old_one() {
    let server = Server::start();
    let good = export(&[
        ("MAL-2026-1.json", MAL),
        ("PYSEC-2026-2.json", PYSEC),
        ("PYSEC-2020-9.json", WITHDRAWN),
    ]);
    let truncated = good[..good.len() / 2].to_vec();
    server.route(
        "/osv/all.zip",
        vec![Reply::json(good), Reply::json(truncated)],
    );
    let url = server.index_url().replace("/simple", "/osv/all.zip");
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let advisories = |action: &str| {
        run(customs(tmp.path()).args([
            "advisories",
            action,
            "--advisory-db",
            &url,
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "--as-of",
            "2030-01-01T00:00:00Z",
        ]))
    };
    let (code, out, err) = advisories("status");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("advisories: none"), "{out}");
    let (code, out, err) = advisories("update");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 records read"), "{out}");
    assert!(out.contains("2 about 2 packages"), "{out}");
    let (code, out, err) = advisories("status");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("3 records from http://127.0.0.1"), "{out}");
    assert!(out.contains("hours old"), "{out}");
    // The second answer is cut in half: refused, named, and the first stays.
    let (code, _, err) = advisories("update");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/osv/all.zip"), "{err}");
    assert!(err.contains("not a zip"), "{err}");
    let (code, out, _) = advisories("status");
    assert_eq!(code, 0);
    assert!(out.contains("3 records from"), "{out}");
}

#[test]
fn a_local_export_and_a_missing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("osv.zip");
    std::fs::write(&zip, export(&[("MAL-2026-1.json", MAL)])).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let update = |source: &str| {
        run(customs(tmp.path()).args([
            "advisories",
            "update",
            "--advisory-db",
            source,
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ]))
    };
    let (code, out, err) = update(zip.to_str().unwrap());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 records read"), "{out}");
    let missing = tmp.path().join("nowhere.zip");
    let (code, _, err) = update(missing.to_str().unwrap());
    assert_eq!(code, 2);
    assert!(err.contains("nowhere.zip"), "{err}");
}
