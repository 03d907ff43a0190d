//! The index checks end to end against a local server serving recorded answers.

use std::path::Path;
use std::time::Duration;

use crate::common::{customs, json, run};
use crate::server::{Reply, Server};

const AS_OF: &str = "2026-09-18T00:00:00Z";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Runs `customs audit` against the server with a JSON report; returns (code, report, stderr).
/// The archives are not scanned (the recorded answers name files the test
/// server does not serve, which would make every package's scan unknown).
fn audit(dir: &Path, server: &Server, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut cmd = customs(dir);
    cmd.args([
        "audit",
        "--no-scan",
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--index-url",
        &server.index_url(),
    ]);
    if !extra.contains(&"--timeout") {
        cmd.args(["--timeout", "5"]);
    }
    cmd.args(extra);
    let (code, out, err) = run(&mut cmd);
    assert!(code == 0 || code == 1, "exit {code}: {err}\n{out}");
    (code, json(&out), err)
}

/// (rule, package, line) of every finding, sorted.
fn findings(report: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn cooldown_yanked_hash_mismatch_and_missing_release_on_the_right_lines() {
    let server = Server::start();
    for p in ["urllib3", "requests", "six", "attrs", "docopt"] {
        server.project(p);
    }
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "requirements.txt",
        "urllib3==2.8.0\nrequests==2.32.0\nsix==1.16.0 \\\n    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\nattrs==99.0.0\ndocopt==0.6.2\n",
    );
    let (code, report, err) = audit(
        tmp.path(),
        &server,
        &["--cooldown", "7 days", "requirements.txt"],
    );
    assert_eq!(
        findings(&report),
        vec![
            ("cooldown".into(), "urllib3".into(), 1),
            ("hash-mismatch".into(), "six".into(), 3),
            ("release-missing".into(), "attrs".into(), 5),
            ("yanked".into(), "requests".into(), 2),
        ],
        "{err}"
    );
    assert_eq!(code, 1);
    let cooldown = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "cooldown")
        .unwrap();
    let msg = cooldown["message"].as_str().unwrap();
    assert!(
        msg.contains("2026-09-22T19:29:34") && msg.contains("2.7.0"),
        "{msg}"
    );
    let yanked = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "yanked")
        .unwrap();
    assert!(
        yanked["message"]
            .as_str()
            .unwrap()
            .contains("CVE-2024-35195")
    );
    for p in report["packages"].as_array().unwrap() {
        assert_eq!(p["index"]["status"], "checked", "{p}");
    }
    assert_eq!(report["summary"]["unknown"], 0);
}

#[test]
fn a_uv_lock_gives_cooldown_findings_offline_from_its_own_upload_times() {
    let root = crate::common::root();
    let (code, out, err) = run(customs(&root).args([
        "audit",
        "--offline",
        "--format",
        "json",
        "--as-of",
        "2026-09-18T00:00:00Z",
        "testdata/lockfiles/uv/django-app/uv.lock",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let cooldown: Vec<_> = findings(&report)
        .into_iter()
        .filter(|f| f.0 == "cooldown")
        .collect();
    assert_eq!(
        cooldown,
        vec![("cooldown".to_string(), "tzdata".to_string(), 470)]
    );
    // Offline with an empty cache, everything else is unknown, never passed.
    assert_eq!(report["summary"]["unknown"], 25);
}

#[test]
fn unknown_names_are_unclaimed_with_or_without_a_404_body() {
    let server = Server::start();
    server.route("/pypi/no-such-package-a/json", vec![Reply::status(404)]);
    // B answers 404 with a JSON body: a real index's shape.
    server.route(
        "/pypi/no-such-package-b/json",
        vec![Reply {
            status: 404,
            ..Reply::json(r#"{"message": "Not Found"}"#)
        }],
    );
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "requirements.txt",
        "no-such-package-a==1.0\nno-such-package-b==1.0\n",
    );
    let (code, report, _) = audit(tmp.path(), &server, &["requirements.txt"]);
    assert_eq!(
        findings(&report),
        vec![
            ("unclaimed-name".into(), "no-such-package-a".into(), 1),
            ("unclaimed-name".into(), "no-such-package-b".into(), 2),
        ]
    );
    assert_eq!(code, 1, "unclaimed names are critical");
    // The Simple API was asked too before concluding the name is free.
    assert_eq!(server.hits("/simple/no-such-package-a/"), 1);
}

#[test]
fn a_mirror_without_the_json_api_is_read_through_the_simple_api() {
    let server = Server::start();
    let body = std::fs::read(crate::common::testdata("index/simple/requests.json")).unwrap();
    server.route(
        "/simple/requests/",
        vec![Reply::json(body).header("Content-Type", "application/vnd.pypi.simple.v1+json")],
    );
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "requirements.txt", "requests==2.32.0\n");
    let (_, report, err) = audit(tmp.path(), &server, &["requirements.txt"]);
    assert_eq!(
        findings(&report),
        vec![("yanked".into(), "requests".into(), 1)],
        "{err}"
    );
    let seen = server.seen();
    let simple = seen.iter().find(|s| s.path == "/simple/requests/").unwrap();
    assert_eq!(
        simple.headers["accept"],
        "application/vnd.pypi.simple.v1+json"
    );
}

#[test]
fn redirects_are_followed() {
    let server = Server::start();
    server.route(
        "/pypi/six/json",
        vec![Reply::status(301).header("Location", "/pypi/six-moved/json")],
    );
    let body = std::fs::read(crate::common::testdata("index/json/six.json")).unwrap();
    server.route("/pypi/six-moved/json", vec![Reply::json(body)]);
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "requirements.txt", "six==1.16.0\n");
    let (code, report, err) = audit(tmp.path(), &server, &["requirements.txt"]);
    assert_eq!(code, 0, "{err}");
    assert!(findings(&report).is_empty(), "{report}");
}

#[test]
fn retries_429_with_retry_after_and_500_then_succeeds() {
    let server = Server::start();
    let six = std::fs::read(crate::common::testdata("index/json/six.json")).unwrap();
    let docopt = std::fs::read(crate::common::testdata("index/json/docopt.json")).unwrap();
    server.route(
        "/pypi/six/json",
        vec![
            Reply::status(429).header("Retry-After", "1"),
            Reply::json(six),
        ],
    );
    server.route(
        "/pypi/docopt/json",
        vec![Reply::status(500), Reply::status(503), Reply::json(docopt)],
    );
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "requirements.txt",
        "six==1.16.0\ndocopt==0.6.2\n",
    );
    let started = std::time::Instant::now();
    let (code, report, err) = audit(tmp.path(), &server, &["requirements.txt"]);
    assert_eq!(code, 0, "{err}\n{report}");
    assert_eq!(server.hits("/pypi/six/json"), 2);
    assert_eq!(server.hits("/pypi/docopt/json"), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
}

#[test]
fn failures_are_unknown_never_pass_and_fail_on_unknown_fails() {
    let server = Server::start();
    server.route(
        "/pypi/six/json",
        vec![Reply::json(
            "{\"info\": {\"name\": \"six\"}, \"releases\": {\"1.16",
        )],
    );
    server.route(
        "/pypi/docopt/json",
        vec![Reply::json("<html>not json</html>")],
    );
    server.route("/pypi/attrs/json", vec![Reply::status(503)]);
    server.route(
        "/pypi/requests/json",
        vec![Reply::status(429).header("Retry-After", "3600")],
    );
    server.route(
        "/pypi/urllib3/json",
        vec![Reply::json("{}").delayed(Duration::from_secs(4))],
    );
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "requirements.txt",
        "six==1.16.0\ndocopt==0.6.2\nattrs==23.2.0\nrequests==2.32.3\nurllib3==2.5.0\n",
    );
    let started = std::time::Instant::now();
    let (code, report, _) = audit(tmp.path(), &server, &["--timeout", "1", "requirements.txt"]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 0, "unknowns are warnings by default");
    let reasons: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["rule"], "index-unavailable", "{f}");
            format!("{}: {}", f["package"], f["message"])
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    let all = reasons.join("\n");
    assert!(all.contains("not a JSON API document"), "{all}");
    assert!(
        all.contains("HTTP 503") && all.contains("attempts"),
        "{all}"
    );
    assert!(all.contains("Retry-After"), "{all}");
    assert!(all.contains("timed out"), "{all}");
    assert_eq!(report["summary"]["unknown"], 5);
    assert_eq!(report["packages"][0]["index"]["status"], "unknown");

    let (code, report, _) = audit(
        tmp.path(),
        &server,
        &["--timeout", "1", "--fail-on-unknown", "requirements.txt"],
    );
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["verdict"], "fail");
}

#[test]
fn the_cache_answers_revalidates_and_survives_corruption() {
    let server = Server::start();
    let six = std::fs::read(crate::common::testdata("index/json/six.json")).unwrap();
    server.route(
        "/pypi/six/json",
        vec![
            Reply::json(six)
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=0"),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    write(tmp.path(), "requirements.txt", "six==1.16.0\n");

    // Offline with an empty cache: unknown.
    let (_, report, _) = audit(
        tmp.path(),
        &server,
        &["--offline", "--cache-dir", cache_arg, "requirements.txt"],
    );
    assert_eq!(report["summary"]["unknown"], 1);
    assert_eq!(
        server.hits("/pypi/six/json"),
        0,
        "offline must not touch the network"
    );

    // Online: fetched and cached.
    let (_, report, _) = audit(
        tmp.path(),
        &server,
        &["--cache-dir", cache_arg, "requirements.txt"],
    );
    assert_eq!(report["summary"]["unknown"], 0);
    assert_eq!(server.hits("/pypi/six/json"), 1);

    // max-age=0: revalidated with If-None-Match, answered 304.
    let (_, report, _) = audit(
        tmp.path(),
        &server,
        &["--cache-dir", cache_arg, "requirements.txt"],
    );
    assert_eq!(report["summary"]["unknown"], 0);
    let seen = server.seen();
    assert_eq!(
        seen.last()
            .unwrap()
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );

    // Offline now answers from the cache.
    let (code, report, _) = audit(
        tmp.path(),
        &server,
        &["--offline", "--cache-dir", cache_arg, "requirements.txt"],
    );
    assert_eq!((code, report["summary"]["unknown"].as_u64()), (0, Some(0)));

    // A corrupt entry is refetched, not trusted.
    let entries: Vec<_> = walk(&cache)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "six.json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    std::fs::write(&entries[0], b"{\"garbage").unwrap();
    let before = server.hits("/pypi/six/json");
    let (_, report, _) = audit(
        tmp.path(),
        &server,
        &["--cache-dir", cache_arg, "requirements.txt"],
    );
    assert_eq!(report["summary"]["unknown"], 0);
    assert_eq!(server.hits("/pypi/six/json"), before + 1);

    // --no-cache neither reads nor writes.
    let (_, report, _) = audit(
        tmp.path(),
        &server,
        &["--offline", "--no-cache", "requirements.txt"],
    );
    assert_eq!(report["summary"]["unknown"], 1);
}

#[test]
fn a_fresh_cache_entry_is_used_without_asking() {
    let server = Server::start();
    let six = std::fs::read(crate::common::testdata("index/json/six.json")).unwrap();
    server.route(
        "/pypi/six/json",
        vec![Reply::json(six).header("Cache-Control", "max-age=900")],
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    write(tmp.path(), "requirements.txt", "six==1.16.0\n");
    for _ in 0..3 {
        audit(
            tmp.path(),
            &server,
            &["--cache-dir", cache.to_str().unwrap(), "requirements.txt"],
        );
    }
    assert_eq!(server.hits("/pypi/six/json"), 1);
}

#[test]
fn relative_file_urls_resolve_against_the_document() {
    // urllib3.json lists `../../packages/...` URLs; hashes and times still match.
    let server = Server::start();
    server.project("urllib3");
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "requirements.txt",
        "urllib3==2.5.0 --hash=sha256:3fc47733c7e419d4bc3f6b3dc2b4f890bb743906a30d56ba4a5bfa4bbff92760\n",
    );
    let (code, report, err) = audit(tmp.path(), &server, &["requirements.txt"]);
    assert_eq!(code, 0, "{err}\n{report}");
    assert!(findings(&report).is_empty());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
#[ignore = "live: set CUSTOMS_LIVE_TESTS=1 and run with --ignored"]
fn live_public_index() {
    if std::env::var("CUSTOMS_LIVE_TESTS").as_deref() != Ok("1") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "requirements.txt", "six==1.16.0\n");
    let (code, out, err) =
        run(customs(tmp.path()).args(["audit", "--format", "json", "requirements.txt"]));
    assert_eq!(code, 0, "{err}\n{out}");
}
