//! Fault injection for the index client over loopback, and the never-execute
//! guarantee: every fault ends in a finding naming the cause, nothing hangs,
//! nothing is reported as passing; no package code ever runs.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::{customs, json, run};
use crate::server::{Reply, Server};

fn unknown_reason(index_url: &str, timeout: &str) -> (String, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let started = Instant::now();
    let (code, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--no-scan",
        "--no-config",
        "--format",
        "json",
        "--fail-on-unknown",
        "--timeout",
        timeout,
        "--index-url",
        index_url,
        "requirements.txt",
    ]));
    let elapsed = started.elapsed();
    assert_eq!(
        code, 1,
        "an unknown package must fail with --fail-on-unknown: {err}\n{out}"
    );
    let report = json(&out);
    assert_eq!(report["summary"]["unknown"], 1, "{report}");
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "index-unavailable", "{report}");
    (f["message"].as_str().unwrap().to_string(), elapsed)
}

#[test]
fn connection_refused() {
    // Bind then drop: the port is closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (reason, elapsed) = unknown_reason(&format!("http://127.0.0.1:{port}/simple"), "5");
    assert!(reason.contains("cannot connect"), "{reason}");
    assert!(elapsed < Duration::from_secs(20));
}

#[test]
fn reset_mid_body_gzip_lies_huge_bodies_and_redirect_loops() {
    let server = Server::start();
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::json("{\"info\": {\"name\"").header("Content-Length", "100000"),
            "body",
        ),
        (
            Reply::json("this is not gzip").header("Content-Encoding", "gzip"),
            "body",
        ),
        (
            Reply::json("{}").header("Content-Length", "500000000"),
            "larger than",
        ),
        (
            Reply::status(301).header("Location", "/pypi/six/json"),
            "redirect",
        ),
    ];
    for (reply, want) in cases {
        server.route("/pypi/six/json", vec![reply]);
        let (reason, elapsed) = unknown_reason(&server.index_url(), "5");
        assert!(
            reason.to_ascii_lowercase().contains(want),
            "expected `{want}` in: {reason}"
        );
        assert!(elapsed < Duration::from_secs(30), "{want}: {elapsed:?}");
    }
}

#[test]
fn stalls_end_at_the_timeout_and_5xx_storms_give_up() {
    let server = Server::start();
    server.route(
        "/pypi/six/json",
        vec![Reply::json("{}").delayed(Duration::from_secs(30))],
    );
    let (reason, elapsed) = unknown_reason(&server.index_url(), "1");
    assert!(reason.contains("timed out"), "{reason}");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    server.route("/pypi/six/json", vec![Reply::status(502)]);
    let (reason, _) = unknown_reason(&server.index_url(), "2");
    assert!(
        reason.contains("502") && reason.contains("attempts"),
        "{reason}"
    );
}

#[test]
fn tls_failures_name_the_cause() {
    // A plain-HTTP server spoken to over TLS.
    let server = Server::start();
    let (reason, _) = unknown_reason(&format!("https://127.0.0.1:{}/simple", server.port), "5");
    assert!(
        reason.contains("cannot connect") || reason.contains("request failed"),
        "{reason}"
    );
}

#[test]
fn package_code_never_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let marker = d.join("EXECUTED");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let payload = format!(
        "import socket, pathlib\npathlib.Path({marker:?}).write_text('ran')\nsocket.create_connection(('127.0.0.1', {port}))\n",
        marker = marker.to_str().unwrap()
    );
    let pth = format!(
        "import pathlib; pathlib.Path({:?}).write_text('pth')\n",
        marker.to_str().unwrap()
    );
    let sdist = {
        let path = d.join("trap-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (name, body) in [
            ("trap-1.0/setup.py", payload.as_str()),
            ("trap-1.0/sitecustomize.py", payload.as_str()),
            ("trap-1.0/trap/__init__.py", payload.as_str()),
            ("trap-1.0/trap.pth", pth.as_str()),
            (
                "trap-1.0/pyproject.toml",
                "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
            ),
            ("trap-1.0/backend.py", payload.as_str()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o755);
            tar.append_data(&mut h, name, body.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    };
    let (code, _, err) =
        run(customs(d).args(["scan", "--format", "json", sdist.to_str().unwrap()]));
    assert!(code == 0 || code == 1, "{err}");
    std::fs::write(
        d.join("requirements.txt"),
        format!("./{}\n", "trap-1.0.tar.gz"),
    )
    .unwrap();
    let (code, _, err) =
        run(customs(d).args(["audit", "--offline", "--format", "json", "requirements.txt"]));
    assert!(code == 0 || code == 1, "{err}");
    assert!(!marker.exists(), "package code ran");
    assert!(
        listener.accept().is_err(),
        "package code opened a connection"
    );
}
