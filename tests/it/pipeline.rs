//! The audit's pipeline: archives are fetched and scanned as soon as their
//! package's index answer arrives, not once every answer is in.

use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::common::{audit_json, json, sha256_hex};
use crate::server::{Reply, Server};

/// A pure wheel with one harmless module.
fn wheel(name: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in [
        (
            format!("{name}/__init__.py"),
            "def hello():\n    return 'hi'\n",
        ),
        (
            format!("{name}-1.0.dist-info/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
    ] {
        z.start_file(path, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data.as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Serves `name==1.0` with its wheel; the JSON answer comes after `delay`.
fn serve(server: &Server, name: &str, delay: Duration) -> String {
    let file = format!("{name}-1.0-py3-none-any.whl");
    let path = format!("/files/{file}");
    let bytes = wheel(name);
    let doc = serde_json::json!({
        "info": {"name": name, "project_urls": {"Source": "https://git.example/x"}},
        "releases": {"1.0": [{
            "filename": file,
            "url": path,
            "digests": {"sha256": sha256_hex(&bytes)},
            "upload_time_iso_8601": "2025-01-01T00:00:00Z",
            "yanked": false,
            "size": bytes.len(),
            "packagetype": "bdist_wheel"
        }]}
    });
    server.route(&path, vec![Reply::bytes(bytes)]);
    server.route(
        &format!("/pypi/{name}/json"),
        vec![Reply::json(doc.to_string()).delayed(delay)],
    );
    path
}

#[test]
fn an_archive_is_fetched_while_the_index_is_still_answering_for_others() {
    let server = Server::start();
    let slow = Duration::from_secs(4);
    let fast_wheel = serve(&server, "fastpkg", Duration::ZERO);
    let slow_wheel = serve(&server, "slowpkg", slow);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "fastpkg==1.0\nslowpkg==1.0\n",
    )
    .unwrap();
    let started = Instant::now();
    let child = audit_json(tmp.path(), &server.index_url())
        .arg("requirements.txt")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Before the slow answer arrives, the fast package's wheel is asked for.
    let mut fetched_at = None;
    while started.elapsed() < slow + Duration::from_secs(20) {
        if server.hits(&fast_wheel) > 0 {
            fetched_at = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let fetched_at = fetched_at.expect("the fast wheel was never fetched");
    assert!(
        fetched_at < slow,
        "fetched after {fetched_at:?}, not before the slow answer ({slow:?}): {stderr}"
    );
    // Both were scanned, each once.
    let report = json(&String::from_utf8_lossy(&out.stdout));
    for p in report["packages"].as_array().unwrap() {
        assert_eq!(p["scan"]["status"], "scanned", "{p}");
    }
    assert_eq!(server.hits(&fast_wheel), 1);
    assert_eq!(server.hits(&slow_wheel), 1);
}
