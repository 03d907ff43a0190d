//! Index credentials never appear in any output or cache file, and are sent
//! only to the index's own host.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{customs, run};
use crate::server::{Reply, Server};

const SECRET: &str = "s3cr3t-T0KEN-Zq81";

/// Every byte of every file under `dir`, as (path, bytes).
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// How the credentials are given.
#[derive(Debug, Clone, Copy)]
enum Given {
    InUrl,
    PipIndexUrl,
    Netrc,
}

/// Runs `args` with the credentials given as `how` for the index at
/// `index` (`scheme://host:port/simple`), all outputs and the cache in `dir`;
/// fails if the secret is in any byte of them.
fn assert_no_leak(dir: &Path, index: &str, how: Given, args: &[&str], label: &str) {
    let cache = dir.join(format!("cache-{label}"));
    let (scheme, rest) = index.split_once("://").unwrap();
    let with_creds = format!("{scheme}://__token__:{SECRET}@{rest}");
    let mut cmd: Command = customs(dir);
    cmd.args(args).args([
        "--timeout",
        "1",
        "--cache-dir",
        cache.to_str().unwrap(),
        "--json-file",
        "out.json",
        "--sarif-file",
        "out.sarif",
        "--summary-file",
        "out.md",
    ]);
    match how {
        Given::InUrl => {
            cmd.args(["--index-url", &with_creds]);
        }
        Given::PipIndexUrl => {
            cmd.env("PIP_INDEX_URL", &with_creds);
        }
        Given::Netrc => {
            let netrc = dir.join("netrc");
            let host = rest.split(['/', ':']).next().unwrap();
            std::fs::write(
                &netrc,
                format!("machine {host} login __token__ password {SECRET}\n"),
            )
            .unwrap();
            cmd.env("NETRC", &netrc).args(["--index-url", index]);
        }
    }
    let formats: &[&str] = match how {
        Given::InUrl => &["github", "table"],
        _ => &["github"],
    };
    for format in formats {
        let mut c = Command::new(cmd.get_program());
        c.current_dir(dir);
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.args(cmd.get_args()).args(["--format", format]);
        let (code, out, err) = run(&mut c);
        let what = format!("{label} {how:?} --format {format} (exit {code})");
        assert!(code <= 2, "{what}: {err}");
        assert!(!out.contains(SECRET), "{what}: stdout\n{out}");
        assert!(!err.contains(SECRET), "{what}: stderr\n{err}");
        for f in ["out.json", "out.sarif", "out.md"] {
            if let Ok(bytes) = std::fs::read(dir.join(f)) {
                assert!(!contains(&bytes, SECRET), "{what}: {f}");
            }
        }
        for (path, bytes) in files_under(&cache) {
            assert!(!contains(&bytes, SECRET), "{what}: {}", path.display());
            assert!(
                !path.to_string_lossy().contains(SECRET),
                "{what}: {}",
                path.display()
            );
        }
    }
}

fn commands<'a>() -> Vec<(&'a str, Vec<&'a str>)> {
    vec![
        (
            "audit",
            vec![
                "audit",
                "--as-of",
                "2026-09-18T00:00:00Z",
                "requirements.txt",
            ],
        ),
        ("check", vec!["check", "six==1.16.0", "reqeusts"]),
        ("scan", vec!["scan", "six-1.16.0.tar.gz"]),
    ]
}

fn workdir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    // An inert sdist for `scan`.
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(tmp.path().join("six-1.16.0.tar.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    let data = b"print('hello')\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, "six-1.16.0/six.py", &data[..])
        .unwrap();
    tar.into_inner().unwrap().finish().unwrap();
    tmp
}

#[test]
fn failing_and_answering_indexes_never_show_the_credentials() {
    let tmp = workdir();
    let d = tmp.path();
    // Connection refused: a port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let failing500 = Server::start();
    failing500.route("/pypi/six/json", vec![Reply::status(500)]);
    failing500.route("/simple/six/", vec![Reply::status(500)]);
    let bad_json = Server::start();
    bad_json.route("/pypi/six/json", vec![Reply::json("{not json")]);
    bad_json.route("/simple/six/", vec![Reply::json("{not json")]);
    let answering = Server::start();
    answering.project("six");
    // A Simple page whose provenance URL is relative: joined with the page's
    // URL, it must not pick up credentials on its way into the cache.
    let simple = serde_json::json!({
        "meta": {"api-version": "1.4"},
        "name": "six",
        "files": [{
            "filename": "six-1.16.0.tar.gz",
            "url": "/files/six-1.16.0.tar.gz",
            "hashes": {"sha256": "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"},
            "provenance": "/integrity/six/1.16.0/six-1.16.0.tar.gz/provenance",
        }],
    });
    answering.route(
        "/simple/six/",
        vec![
            Reply::json(simple.to_string())
                .header("Content-Type", "application/vnd.pypi.simple.v1+json"),
        ],
    );
    // An index whose answer puts the credentials into its file URLs.
    let echoing = Server::start();
    let six_doc = std::fs::read_to_string(crate::common::testdata("index/json/six.json"))
        .unwrap()
        .replace(
            "https://files.example/",
            &format!("https://__token__:{SECRET}@files.example/"),
        );
    echoing.route("/pypi/six/json", vec![Reply::json(six_doc)]);
    let indexes = [
        ("echoing", echoing.index_url()),
        ("refused", format!("http://127.0.0.1:{closed}/simple")),
        ("http-500", failing500.index_url()),
        ("bad-json", bad_json.index_url()),
        // TLS to a plain-HTTP server: the handshake fails.
        (
            "tls",
            format!("https://127.0.0.1:{}/simple", answering.port),
        ),
        ("answering", answering.index_url()),
    ];
    for (label, index) in &indexes {
        for how in [Given::InUrl, Given::PipIndexUrl, Given::Netrc] {
            for (name, args) in commands() {
                assert_no_leak(d, index, how, &args, &format!("{label}-{name}"));
            }
        }
    }
}

#[test]
fn credentials_go_to_the_index_host_only() {
    let tmp = workdir();
    let d = tmp.path();
    let files = Server::start();
    let index = Server::start();
    // The index names a file on another address (host:port); the file is served there.
    let wheel = {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.start_file("six.py", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(b"print(1)\n").unwrap();
        z.finish().unwrap().into_inner()
    };
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&wheel))
    };
    let doc = serde_json::json!({
        "info": {"name": "six", "project_urls": {}},
        "releases": {
            "1.0": [{"filename": "six-1.0-py3-none-any.whl", "url": format!("http://127.0.0.1:{}/files/six-1.0-py3-none-any.whl", files.port), "digests": {"sha256": sha}, "upload_time_iso_8601": "2020-01-01T00:00:00Z", "yanked": false, "size": wheel.len(), "packagetype": "bdist_wheel"}],
        },
    });
    index.route("/pypi/six/json", vec![Reply::json(doc.to_string())]);
    files.route("/files/six-1.0-py3-none-any.whl", vec![Reply::json(wheel)]);
    // And a redirect from the index to the other address.
    index.route(
        "/pypi/moved/json",
        vec![Reply::status(302).header(
            "Location",
            &format!("http://127.0.0.1:{}/pypi/moved/json", files.port),
        )],
    );
    files.route("/pypi/moved/json", vec![Reply::status(404)]);
    std::fs::write(d.join("requirements.txt"), "six==1.0\nmoved==1.0\n").unwrap();
    let with_creds = index
        .index_url()
        .replace("http://", &format!("http://__token__:{SECRET}@"));
    for how in ["url", "netrc"] {
        let mut cmd = customs(d);
        cmd.args([
            "audit",
            "--no-provenance",
            "--timeout",
            "2",
            "--format",
            "json",
            "requirements.txt",
        ]);
        if how == "url" {
            cmd.args(["--index-url", &with_creds]);
        } else {
            let netrc = d.join("netrc");
            std::fs::write(
                &netrc,
                format!("machine 127.0.0.1 login __token__ password {SECRET}\n"),
            )
            .unwrap();
            cmd.env("NETRC", &netrc)
                .args(["--index-url", &index.index_url()]);
        }
        let (code, out, err) = run(&mut cmd);
        assert!(code <= 1, "{how}: {err}\n{out}");
        let auth = |s: &crate::server::Seen| s.headers.get("authorization").cloned();
        let to_index: Vec<_> = index.seen();
        assert!(
            to_index
                .iter()
                .any(|s| s.path == "/pypi/six/json"
                    && auth(s).is_some_and(|a| a.starts_with("Basic "))),
            "{how}: the index got no credentials: {to_index:?}"
        );
        let to_files = files.seen();
        assert!(
            to_files
                .iter()
                .any(|s| s.path == "/files/six-1.0-py3-none-any.whl"),
            "{how}: the file was not downloaded: {to_files:?}\n{err}"
        );
        assert!(
            to_files.iter().any(|s| s.path == "/pypi/moved/json"),
            "{how}: the redirect was not followed: {to_files:?}"
        );
        for s in &to_files {
            assert_eq!(auth(s), None, "{how}: credentials sent to {}", s.path);
        }
        // The warning about plain HTTP is for hosts other than loopback.
        assert!(!err.contains("plain HTTP"), "{err}");
    }
}

#[test]
fn credentials_over_plain_http_to_a_remote_host_are_warned_about_once() {
    let tmp = workdir();
    let (_, _, err) = run(customs(tmp.path()).args([
        "audit",
        "--offline",
        "--index-url",
        &format!("http://__token__:{SECRET}@index.example/simple"),
        "requirements.txt",
    ]));
    assert_eq!(err.matches("plain HTTP").count(), 1, "{err}");
    assert!(!err.contains(SECRET));
}

#[test]
fn uv_named_index_credentials_from_the_environment_are_sent_to_that_index() {
    use base64::Engine;
    let tmp = workdir();
    let d = tmp.path();
    let index = Server::start();
    index.project("six");
    std::fs::write(
        d.join("pyproject.toml"),
        format!(
            "[project]\nname = \"app\"\n\n[[tool.uv.index]]\nname = \"internal-mirror\"\nurl = \"{}\"\n",
            index.index_url()
        ),
    )
    .unwrap();
    let (code, out, err) = run(customs(d)
        .args([
            "audit",
            "--no-scan",
            "--no-provenance",
            "--format",
            "json",
            "--index-url",
            &index.index_url(),
            "requirements.txt",
        ])
        .env("UV_INDEX_INTERNAL_MIRROR_USERNAME", "deploy")
        .env("UV_INDEX_INTERNAL_MIRROR_PASSWORD", SECRET));
    assert!(code <= 1, "{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("deploy:{SECRET}"))
    );
    let seen = index.seen();
    assert!(
        seen.iter()
            .any(|s| s.headers.get("authorization") == Some(&want)),
        "{seen:?}"
    );
}

#[test]
fn a_pyproject_cannot_send_uv_index_secrets_to_a_host_nobody_configured() {
    let tmp = workdir();
    let d = tmp.path();
    let index = Server::start();
    index.project("six");
    let elsewhere = Server::start();
    elsewhere.project("six");
    std::fs::write(
        d.join("pyproject.toml"),
        format!(
            "[[tool.uv.index]]\nname = \"internal\"\nurl = \"{}\"\n",
            elsewhere.index_url().replace("127.0.0.1", "localhost")
        ),
    )
    .unwrap();
    let (code, _, err) = run(customs(d)
        .args([
            "audit",
            "--no-scan",
            "--no-provenance",
            "--index-url",
            &index.index_url(),
            "requirements.txt",
        ])
        .env("UV_INDEX_INTERNAL_USERNAME", "deploy")
        .env("UV_INDEX_INTERNAL_PASSWORD", SECRET));
    assert!(code <= 1, "{err}");
    assert!(
        err.contains("UV_INDEX_INTERNAL_USERNAME/PASSWORD not sent to localhost"),
        "{err}"
    );
    for s in index.seen().iter().chain(elsewhere.seen().iter()) {
        assert_eq!(s.headers.get("authorization"), None, "{}", s.path);
    }
}
