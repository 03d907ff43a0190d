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

/// Serves an OSV export of `records` at `/osv/all.zip` and returns its URL.
pub(crate) fn serve_export(server: &Server, records: &[(&str, &str)]) -> String {
    server.route("/osv/all.zip", vec![Reply::json(export(records))]);
    server.index_url().replace("/simple", "/osv/all.zip")
}

/// A `last_affected` bound (the release it names is affected).
const DOCOPT_LAST_AFFECTED: (&str, &str) = (
    "GHSA-last-affe-cted.json",
    r#"{"id": "GHSA-last-affe-cted", "summary": "Option parsing",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "docopt"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "0.6.2"}]}]}]}"#,
);

/// A range with a fix, aliased by a GHSA id.
const REQUESTS_PYSEC: (&str, &str) = (
    "PYSEC-2026-3.json",
    r#"{"id": "PYSEC-2026-3", "aliases": ["GHSA-abcd-efgh-ijkl"], "summary": "Headers leak",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.10.0"}]}]}]}"#,
);

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

/// `audit` and `check` match the locked releases against an export served
/// by the test server: a MAL record by its version list, a PYSEC record by
/// its range (with its GHSA alias merged into one finding), a withdrawn
/// record ignored, a `last_affected` bound included; then the same from the
/// cache with `--offline`.
#[test]
fn audit_and_check_report_known_malware_and_vulnerabilities() {
    let server = Server::start();
    for p in ["sampleproject", "requests", "urllib3", "docopt"] {
        server.project(p);
    }
    let records = [
        (
            "MAL-2026-9.json",
            r#"{"id": "MAL-2026-9", "summary": "Malicious code in sampleproject",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "sampleproject"}, "versions": ["1.3.1"]}]}"#,
        ),
        (
            "PYSEC-2026-3.json",
            r#"{"id": "PYSEC-2026-3", "aliases": ["GHSA-abcd-efgh-ijkl"], "summary": "Headers leak",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "Requests"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.10.0"}]}]}],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}"#,
        ),
        (
            "GHSA-abcd-efgh-ijkl.json",
            r#"{"id": "GHSA-abcd-efgh-ijkl", "aliases": ["PYSEC-2026-3"],
                "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.10.0"}]}]}],
                "database_specific": {"severity": "MODERATE"}}"#,
        ),
        (
            "PYSEC-2020-1.json",
            r#"{"id": "PYSEC-2020-1", "withdrawn": "2021-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "urllib3"}, "versions": ["2.8.0"]}]}"#,
        ),
        DOCOPT_LAST_AFFECTED,
    ];
    let url = serve_export(&server, &records);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "sampleproject==1.3.1\nrequests==2.9.1\nurllib3==2.8.0\ndocopt==0.6.2\n",
    )
    .unwrap();
    let audit_as = |format: &str, extra: &[&str]| {
        let mut cmd = customs(tmp.path());
        cmd.env_remove("CUSTOMS_NO_ADVISORIES").args([
            "audit",
            "--no-scan",
            "--no-provenance",
            "--format",
            format,
            "--as-of",
            "2030-01-01T00:00:00Z",
            "--index-url",
            &server.index_url(),
            "--advisory-db",
            &url,
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "requirements.txt",
        ]);
        cmd.args(extra);
        run(&mut cmd)
    };
    let audit = |extra: &[&str]| {
        let (code, out, err) = audit_as("json", extra);
        (code, crate::common::json(&out), err)
    };
    let advisories = |report: &serde_json::Value| -> Vec<(String, String, String, String)> {
        let mut v: Vec<_> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "known-malware" || f["rule"] == "vulnerability")
            .map(|f| {
                let ev = |label: &str| {
                    f["evidence"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|e| e["label"] == label)
                        .and_then(|e| e["value"].as_str())
                        .unwrap_or("")
                        .to_string()
                };
                (
                    f["package"].as_str().unwrap().to_string(),
                    format!(
                        "{} {}",
                        f["rule"].as_str().unwrap(),
                        f["severity"].as_str().unwrap()
                    ),
                    format!("{} [{}]", ev("advisory"), ev("aliases")),
                    ev("nearest-fix"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let want = vec![
        (
            "docopt".to_string(),
            "vulnerability medium".to_string(),
            "GHSA-last-affe-cted []".to_string(),
            String::new(),
        ),
        (
            "requests".into(),
            "vulnerability high".into(),
            "PYSEC-2026-3 [GHSA-abcd-efgh-ijkl]".into(),
            "2.10.0".into(),
        ),
        (
            "sampleproject".into(),
            "known-malware critical".into(),
            "MAL-2026-9 []".into(),
            String::new(),
        ),
    ];
    let (code, report, err) = audit(&[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(advisories(&report), want, "{err}");
    // The cache answers offline, and says how old it is.
    let (code, report, err) = audit(&["--offline"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(advisories(&report), want);
    assert!(
        err.contains("advisories: offline, using the database built"),
        "{err}"
    );
    assert_eq!(server.hits("/osv/all.zip"), 1, "fresh: fetched once");
    // SARIF: each advisory result links to its advisory, through the message
    // and an `OSV` taxonomy whose taxa carry the help URIs.
    let (code, out, err) = audit_as("sarif", &["--offline"]);
    assert_eq!(code, 1, "{err}");
    let sarif = crate::common::json(&out);
    check_advisory_sarif(&sarif);
    // `check NAME==VERSION` runs the same checks.
    let (code, out, err) = run(customs(tmp.path())
        .env_remove("CUSTOMS_NO_ADVISORIES")
        .args([
            "check",
            "--format",
            "json",
            "--no-scan",
            "--no-provenance",
            "--as-of",
            "2030-01-01T00:00:00Z",
            "--index-url",
            &server.index_url(),
            "--advisory-db",
            &url,
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "sampleproject==1.3.1",
        ]));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("known-malware"), "{out}");
}

#[test]
fn no_database_is_unknown_not_a_pass() {
    let server = Server::start();
    server.project("six");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let (code, out, err) = run(customs(tmp.path())
        .env_remove("CUSTOMS_NO_ADVISORIES")
        .args([
            "audit",
            "--format",
            "json",
            "--no-scan",
            "--no-provenance",
            "--offline",
            "--index-url",
            &server.index_url(),
            "--advisory-db",
            "https://files.example/osv/all.zip",
            "requirements.txt",
        ]));
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        err.contains("no database for https://files.example/osv/all.zip")
            && err.contains("advisories are unknown"),
        "{err}"
    );
    let report = crate::common::json(&out);
    let a = &report["packages"][0]["advisories"];
    assert_eq!(a["status"], "unknown", "{a}");
    assert!(a["reason"].as_str().unwrap().contains("offline"), "{a}");
    assert_eq!(a["matches"], serde_json::json!([]), "{a}");
    assert_eq!(report["summary"]["unknown"], 1, "{report}");
}

/// `advisory-db` in the configuration names the export; an `[[allow]]`
/// entry with an advisory `id` suppresses that advisory (by its id or any
/// alias) and nothing else.
#[test]
fn the_configuration_names_the_database_and_allows_by_advisory_id() {
    let server = Server::start();
    server.project("requests").project("docopt");
    let records = [REQUESTS_PYSEC, DOCOPT_LAST_AFFECTED];
    let url = serve_export(&server, &records);
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "requests==2.9.1\ndocopt==0.6.2\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("customs.toml"),
        format!(
            "advisory-db = \"{url}\"\n\n[[allow]]\nrule = \"vulnerability\"\nid = \"GHSA-ABCD-efgh-ijkl\"\nreason = \"the leaking redirect is not used\"\nexpires = \"2099-01-01\"\n"
        ),
    )
    .unwrap();
    let (code, out, err) = run(customs(tmp.path())
        .env_remove("CUSTOMS_NO_ADVISORIES")
        .args([
            "audit",
            "--no-scan",
            "--no-provenance",
            "--format",
            "json",
            "--as-of",
            "2030-01-01T00:00:00Z",
            "--index-url",
            &server.index_url(),
            "requirements.txt",
        ]));
    assert!(code == 0 || code == 1, "{err}");
    let report = crate::common::json(&out);
    let vulns: Vec<(String, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "vulnerability")
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_string(),
                !f["suppressed"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        vulns,
        vec![
            ("docopt".to_string(), false),
            ("requests".to_string(), true)
        ],
        "{err}"
    );
    // `packages[].advisories`: the status, the database, each match.
    let requests = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "requests")
        .unwrap();
    let a = &requests["advisories"];
    assert_eq!(a["status"], "checked", "{a}");
    assert!(
        a["database"].as_str().unwrap().contains("/osv/all.zip"),
        "{a}"
    );
    assert_eq!(a["matches"][0]["id"], "PYSEC-2026-3", "{a}");
    assert_eq!(a["matches"][0]["aliases"][0], "GHSA-abcd-efgh-ijkl", "{a}");
    assert_eq!(a["matches"][0]["nearest_fix"], "2.10.0", "{a}");
    assert_eq!(a["matches"][0]["allowed"], true, "{a}");
    assert_eq!(server.hits("/osv/all.zip"), 1);
}

/// A source that gave an ETag is asked again with it; a 304 keeps the
/// database and starts its age again.
#[test]
fn an_unchanged_export_is_not_downloaded_again() {
    let server = Server::start();
    server.route(
        "/osv/all.zip",
        vec![
            Reply::json(export(&[("MAL-2026-1.json", MAL)])).header("ETag", "\"v1\""),
            Reply::status(304),
        ],
    );
    let url = server.index_url().replace("/simple", "/osv/all.zip");
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let update = || {
        run(customs(tmp.path()).args([
            "advisories",
            "update",
            "--advisory-db",
            &url,
            "--cache-dir",
            cache.path().to_str().unwrap(),
        ]))
    };
    let (code, out, err) = update();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 records read"), "{out}");
    let (code, out, err) = update();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("has not changed"), "{out}");
    let asked: Vec<Option<String>> = server
        .seen()
        .iter()
        .filter(|s| s.path == "/osv/all.zip")
        .map(|s| s.headers.get("if-none-match").cloned())
        .collect();
    assert_eq!(asked, vec![None, Some("\"v1\"".to_string())]);
    let (code, out, _) = run(customs(tmp.path()).args([
        "advisories",
        "status",
        "--advisory-db",
        &url,
        "--cache-dir",
        cache.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("1 records from"), "{out}");
}

/// A source that cannot be reached is not asked again for an hour (an audit
/// behind a firewall would otherwise wait for the retries on every run),
/// and each run still says the advisories are unknown.
#[test]
fn an_unreachable_source_is_not_retried_on_every_run() {
    let server = Server::start();
    server.project("six");
    server.route("/osv/all.zip", vec![Reply::status(404)]);
    let url = server.index_url().replace("/simple", "/osv/all.zip");
    let tmp = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let audit = || {
        run(customs(tmp.path())
            .env_remove("CUSTOMS_NO_ADVISORIES")
            .args([
                "audit",
                "--no-scan",
                "--no-provenance",
                "--index-url",
                &server.index_url(),
                "--advisory-db",
                &url,
                "--cache-dir",
                cache.path().to_str().unwrap(),
                "requirements.txt",
            ]))
    };
    let (code, _, err) = audit();
    assert!(code == 0 || code == 1, "{err}");
    assert!(
        err.contains("cannot refresh from") && err.contains("HTTP 404"),
        "{err}"
    );
    let asked = server.hits("/osv/all.zip");
    let (code, _, err) = audit();
    assert!(code == 0 || code == 1, "{err}");
    assert!(err.contains("tried again an hour later"), "{err}");
    assert!(err.contains("advisories are unknown"), "{err}");
    assert_eq!(server.hits("/osv/all.zip"), asked, "not asked again");
    // The index answered; only the advisories are unknown, and with
    // --fail-on-unknown that fails the run.
    let (code, out, err) = run(customs(tmp.path())
        .env_remove("CUSTOMS_NO_ADVISORIES")
        .args([
            "audit",
            "--format",
            "json",
            "--fail-on-unknown",
            "--no-scan",
            "--no-provenance",
            "--index-url",
            &server.index_url(),
            "--advisory-db",
            &url,
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "requirements.txt",
        ]));
    assert_eq!(code, 1, "{err}");
    let report = crate::common::json(&out);
    assert_eq!(
        report["packages"][0]["index"]["status"], "checked",
        "{report}"
    );
    assert_eq!(
        report["packages"][0]["advisories"]["status"], "unknown",
        "{report}"
    );
    assert_eq!(report["summary"]["unknown"], 1, "{report}");
    assert_eq!(report["summary"]["verdict"], "fail", "{report}");
}

/// The SARIF of the advisory audit: taxa with help URIs, results citing them.
fn check_advisory_sarif(sarif: &serde_json::Value) {
    let run = &sarif["runs"][0];
    let taxonomy = &run["taxonomies"][0];
    assert_eq!(taxonomy["name"], "OSV", "{sarif}");
    let taxa: Vec<(&str, &str)> = taxonomy["taxa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["helpUri"].as_str().unwrap()))
        .collect();
    assert_eq!(
        taxa,
        [
            (
                "GHSA-last-affe-cted",
                "https://osv.dev/vulnerability/GHSA-last-affe-cted"
            ),
            ("MAL-2026-9", "https://osv.dev/vulnerability/MAL-2026-9"),
            ("PYSEC-2026-3", "https://osv.dev/vulnerability/PYSEC-2026-3"),
        ]
    );
    let results = run["results"].as_array().unwrap();
    let malware = results
        .iter()
        .find(|r| r["ruleId"] == "known-malware")
        .unwrap_or_else(|| panic!("{sarif}"));
    assert_eq!(malware["taxa"][0]["id"], "MAL-2026-9");
    assert_eq!(malware["taxa"][0]["index"], 1);
    assert_eq!(malware["taxa"][0]["toolComponent"]["name"], "OSV");
    assert!(
        malware["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("(advisory: https://osv.dev/vulnerability/MAL-2026-9)"),
        "{malware}"
    );
    // Results of other rules cite no advisory.
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"] != "known-malware" && r["ruleId"] != "vulnerability")
            .all(|r| r.get("taxa").is_none())
    );
    crate::common::assert_valid_sarif(sarif);
}
