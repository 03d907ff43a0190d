//! `audit --range-reads-over SIZE`: a large wheel read by HTTP ranges from a
//! local server that counts the bytes it sends; servers that ignore ranges or
//! lie in `Content-Range`, and a wheel whose RECORD disagrees, are read whole.

use std::io::Write as _;

use crate::common::{audit_json, json, record_digest, run, sha256_hex};
use crate::server::{Ranges, Reply, Server};

const WHEEL: &str = "inertpkg-1.0-py3-none-any.whl";
const PATH: &str = "/files/inertpkg-1.0-py3-none-any.whl";

/// Incompressible bytes that start like an ELF executable.
fn native(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = b"\x7fELF\x02\x01\x01".to_vec();
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A ~3 MiB wheel: a startup hook, a module, a large "extension" between
/// them, and a RECORD (true, or wrong for the `.pth` when `tamper`).
fn wheel(tamper: bool) -> Vec<u8> {
    let pth: &[u8] = b"import base64; exec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n";
    let module: &[u8] = b"def hello():\n    return 'hi'\n";
    let so = native(3 << 20);
    let wheel_meta: &[u8] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let metadata: &[u8] = b"Metadata-Version: 2.1\nName: inertpkg\nVersion: 1.0\n";
    let members: Vec<(&str, &[u8])> = vec![
        ("inertpkg.pth", pth),
        ("inertpkg/_native.bin", &so),
        ("inertpkg/__init__.py", module),
        ("inertpkg-1.0.dist-info/WHEEL", wheel_meta),
        ("inertpkg-1.0.dist-info/METADATA", metadata),
    ];
    let mut record = String::new();
    for (path, data) in &members {
        let digest = if tamper && path.ends_with(".pth") {
            record_digest(b"something else")
        } else {
            record_digest(data)
        };
        record.push_str(&format!("{path},sha256={digest},{}\n", data.len()));
    }
    record.push_str("inertpkg-1.0.dist-info/RECORD,,\n");
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in members
        .iter()
        .copied()
        .chain([("inertpkg-1.0.dist-info/RECORD", record.as_bytes())])
    {
        z.start_file(path, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// Serves the project with its wheel, answering ranges as `ranges` says.
fn serve(server: &Server, bytes: &[u8], ranges: Ranges) {
    server.route(
        PATH,
        vec![
            Reply::bytes(bytes.to_vec())
                .header("Content-Type", "application/octet-stream")
                .ranges(ranges),
        ],
    );
    let doc = serde_json::json!({
        "info": {"name": "inertpkg", "project_urls": {"Source": "https://git.example/x"}},
        "releases": {"1.0": [{
            "filename": WHEEL,
            "url": PATH,
            "digests": {"sha256": sha256_hex(bytes)},
            "upload_time_iso_8601": "2025-01-01T00:00:00Z",
            "yanked": false,
            "size": bytes.len(),
            "packagetype": "bdist_wheel"
        }]}
    });
    server.route("/pypi/inertpkg/json", vec![Reply::json(doc.to_string())]);
}

/// Audits `inertpkg==1.0` with a fresh cache; the report.
fn audit(server: &Server, extra: &[&str]) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "inertpkg==1.0\n").unwrap();
    let mut cmd = audit_json(tmp.path(), &server.index_url());
    cmd.args(extra).arg("requirements.txt");
    let (code, out, err) = run(&mut cmd);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    json(&out)
}

/// (rule, member, severity) of each finding, sorted.
fn judged(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["location"]["path"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn reason(report: &serde_json::Value) -> String {
    report["packages"][0]["scan"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_large_wheel_read_by_ranges_is_judged_as_when_read_whole() {
    let bytes = wheel(false);
    let whole = Server::start();
    serve(&whole, &bytes, Ranges::Honour);
    let expected = audit(&whole, &[]);
    assert_eq!(whole.bytes_sent(PATH), bytes.len() as u64);
    let rules = judged(&expected);
    assert!(
        rules
            .iter()
            .any(|(r, p, _)| r == "pth-startup-hook" && p == "inertpkg.pth"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|(r, _, _)| r == "binary-payload"),
        "the extension's head is read: {rules:?}"
    );

    let ranged = Server::start();
    serve(&ranged, &bytes, Ranges::Honour);
    let report = audit(&ranged, &["--range-reads-over", "1MB"]);
    assert_eq!(judged(&report), rules, "{report}");
    let sent = ranged.bytes_sent(PATH);
    assert!(
        sent * 10 < bytes.len() as u64,
        "{sent} of {} bytes sent",
        bytes.len()
    );
    let why = reason(&report);
    assert!(why.contains("read by range requests"), "{why}");
    assert!(why.contains("verified by the wheel's RECORD"), "{why}");
    assert_eq!(report["packages"][0]["scan"]["status"], "scanned");
    assert!(
        ranged
            .seen()
            .iter()
            .filter(|s| s.path == PATH)
            .all(|s| s.headers.contains_key("range")),
        "every request was a range"
    );

    // Below the threshold the wheel is read whole.
    let small = Server::start();
    serve(&small, &bytes, Ranges::Honour);
    let report = audit(&small, &["--range-reads-over", "100MB"]);
    assert_eq!(small.bytes_sent(PATH), bytes.len() as u64);
    assert!(!reason(&report).contains("range"), "{report}");
}

#[test]
fn servers_that_ignore_or_misstate_ranges_get_the_wheel_read_whole() {
    let bytes = wheel(false);
    let expected = {
        let s = Server::start();
        serve(&s, &bytes, Ranges::Ignore);
        judged(&audit(&s, &[]))
    };
    for (ranges, says) in [
        (Ranges::Ignore, "ignores range requests"),
        (Ranges::LieInHeader, "the server says it sent"),
    ] {
        let server = Server::start();
        serve(&server, &bytes, ranges);
        let report = audit(&server, &["--range-reads-over", "1MB"]);
        assert_eq!(judged(&report), expected, "{ranges:?}: {report}");
        let why = reason(&report);
        assert!(why.contains("not read by ranges"), "{ranges:?}: {why}");
        assert!(why.contains(says), "{ranges:?}: {why}");
        assert!(why.contains("so read whole"), "{why}");
        assert_eq!(report["packages"][0]["scan"]["status"], "scanned");
        // The whole file was fetched and checked against the index's sha256.
        let whole = server
            .seen()
            .iter()
            .filter(|s| s.path == PATH && !s.headers.contains_key("range"))
            .count();
        assert_eq!(whole, 1, "{ranges:?}");
    }
}

#[test]
fn a_wheel_whose_record_disagrees_is_read_whole_and_the_mismatch_is_a_finding() {
    let bytes = wheel(true);
    let server = Server::start();
    serve(&server, &bytes, Ranges::Honour);
    let report = audit(&server, &["--range-reads-over", "1MB"]);
    let rules = judged(&report);
    assert!(
        rules.contains(&(
            "record-mismatch".to_string(),
            "inertpkg.pth".to_string(),
            "high".to_string()
        )),
        "{rules:?}"
    );
    let why = reason(&report);
    assert!(why.contains("disagrees with the wheel's RECORD"), "{why}");
    assert!(why.contains("so read whole"), "{why}");
    // Read whole, the same wheel gives the same verdict.
    let whole = Server::start();
    serve(&whole, &bytes, Ranges::Honour);
    assert_eq!(judged(&audit(&whole, &[])), rules);
}
