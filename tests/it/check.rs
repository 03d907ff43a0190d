//! `customs check NAME[==VERSION]...`.

use crate::common::{customs, json, run};
use crate::server::{Reply, Server};

#[test]
fn typosquats_are_named_offline_with_the_target() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(customs(tmp.path()).args([
        "check",
        "--offline",
        "--format",
        "json",
        "reqeusts",
        "requests",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let squats: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "typosquat")
        .collect();
    assert_eq!(squats.len(), 1);
    assert_eq!(squats[0]["package"], "reqeusts");
    assert_eq!(squats[0]["location"]["line"], 1);
    assert!(
        squats[0]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["label"] == "target" && e["value"] == "requests")
    );
    // Offline, the index checks are unknown, never passed.
    assert_eq!(report["summary"]["unknown"], 2);
}

#[test]
fn plausible_but_nonexistent_names_are_unclaimed() {
    let server = Server::start();
    server.project("six");
    server.route("/pypi/flask-jwt-simple-auth/json", vec![Reply::status(404)]);
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(customs(tmp.path()).args([
        "check",
        "--no-scan",
        "--format",
        "json",
        "--index-url",
        &server.index_url(),
        "flask-jwt-simple-auth",
        "six==1.16.0",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let rules: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["package"].as_str().unwrap()))
        .collect();
    assert_eq!(rules, vec![("unclaimed-name", "flask-jwt-simple-auth")]);
}

#[test]
fn young_thin_projects_are_new() {
    let server = Server::start();
    server.project("forformat");
    let tmp = tempfile::tempdir().unwrap();
    let (_, out, err) = run(customs(tmp.path()).args([
        "check",
        "--format",
        "json",
        "--as-of",
        "2026-09-01T00:00:00Z",
        "--index-url",
        &server.index_url(),
        "forformat",
    ]));
    let report = json(&out);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "new-project")
        .unwrap_or_else(|| panic!("{err}\n{out}"));
    assert!(f["message"].as_str().unwrap().contains("2026-08-14"), "{f}");
}

#[test]
fn invalid_names_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(customs(tmp.path()).args(["check", "--offline", "not a name!"]));
    assert_eq!(code, 2);
    assert!(err.contains("argument 1"), "{err}");
}
