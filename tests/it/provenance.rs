//! PEP 740 provenance: offline verification of the real provenance objects and
//! attestations in `../shared/fixtures/pypi` (not copied into the project: the
//! tests say they were skipped when `../shared` is absent), and audits against a
//! local index that serves them with constructed release histories.

use std::path::PathBuf;

use base64::Engine as _;
use customs::provenance::{Provenance, Publisher, Verdict, Verifier};

use crate::common::shared;

fn fixtures() -> Option<PathBuf> {
    let dir = shared().map(|s| s.join("fixtures/pypi"));
    if dir.is_none() {
        println!("skipped: ../shared/fixtures/pypi is not here (it is in CI)");
    }
    dir
}

/// The sha256 subjects of an attestation's statement.
fn subject(attestation: &serde_json::Value) -> String {
    let b64 = attestation["envelope"]["statement"].as_str().unwrap();
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap();
    statement["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The sha256 the JSON API lists for a file.
fn index_sha256(json: &str, filename: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    for files in doc["releases"].as_object().unwrap().values() {
        for f in files.as_array().unwrap() {
            if f["filename"] == filename {
                return f["digests"]["sha256"].as_str().unwrap().to_string();
            }
        }
    }
    panic!("{filename} not in the JSON document");
}

#[test]
fn the_real_provenance_objects_verify_offline_against_the_embedded_root() {
    let Some(dir) = fixtures() else { return };
    let verifier = Verifier::embedded().unwrap();
    for (prov, json, filename, publisher) in [
        (
            "provenance/sampleproject-4.0.0.tar.gz.provenance.json",
            "json/sampleproject.json",
            "sampleproject-4.0.0.tar.gz",
            "GitHub pypa/sampleproject release.yml",
        ),
        (
            "provenance/pypi_attestations-0.0.19.tar.gz.provenance.json",
            "json/pypi-attestations.json",
            "pypi_attestations-0.0.19.tar.gz",
            "GitHub trailofbits/pypi-attestations release.yml",
        ),
    ] {
        let doc = Provenance::parse(&std::fs::read(dir.join(prov)).unwrap()).unwrap();
        let sha = index_sha256(&std::fs::read_to_string(dir.join(json)).unwrap(), filename);
        assert_eq!(doc.bundles.len(), 1);
        let bundle = &doc.bundles[0];
        assert_eq!(bundle.publisher.to_string(), publisher);
        for a in &bundle.attestations {
            let t = std::time::Instant::now();
            let verdict = verifier.verify(a, &sha, &bundle.publisher);
            let took = t.elapsed();
            match verdict {
                Verdict::Verified { identity } => {
                    assert!(
                        identity.contains(".github/workflows/release.yml@"),
                        "{identity}"
                    );
                }
                other => panic!("{prov}: {other:?}"),
            }
            println!("{prov}: verified in {took:?}");
            // A digest that is not the file's is refused before any crypto.
            let mut wrong = sha.clone();
            wrong.replace_range(0..1, if sha.starts_with('0') { "1" } else { "0" });
            assert!(
                matches!(verifier.verify(a, &wrong, &bundle.publisher), Verdict::Invalid(m) if m.contains("not this file")),
                "{prov}"
            );
            // The same attestation claimed for another publisher is refused.
            let mut other: Publisher = bundle.publisher.clone();
            other.repository = Some("attacker/sampleproject".into());
            assert!(
                matches!(verifier.verify(a, &sha, &other), Verdict::Invalid(m) if m.contains("is not the publisher")),
                "{prov}"
            );
        }
    }
}

#[test]
fn single_attestations_gitlab_slsa_and_a_staging_signed_wheel() {
    let Some(dir) = fixtures() else { return };
    let verifier = Verifier::embedded().unwrap();
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("attestations").join(name)).unwrap())
            .unwrap()
    };
    let gitlab = Publisher::from_json(&serde_json::json!({
        "kind": "GitLab", "repository": "facutuesca/gitlab-oidc-project",
        "workflow_filepath": ".gitlab-ci.yml"
    }))
    .unwrap();
    let a = read("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation.json");
    let verdict = verifier.verify(&a, &subject(&a), &gitlab);
    assert!(
        matches!(&verdict, Verdict::Verified { identity } if identity.starts_with("https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@")),
        "{verdict:?}"
    );

    let github = Publisher::from_json(&serde_json::json!({
        "kind": "GitHub", "repository": "trailofbits/pypi-attestations", "workflow": "release.yml"
    }))
    .unwrap();
    for name in [
        "pypi_attestations-0.0.19.tar.gz.publish.attestation.json",
        "pypi_attestations-0.0.19.tar.gz.slsa.attestation.json",
    ] {
        let a = read(name);
        let verdict = verifier.verify(&a, &subject(&a), &github);
        assert!(
            matches!(verdict, Verdict::Verified { .. }),
            "{name}: {verdict:?}"
        );
    }

    // Signed against Sigstore staging: must not verify against production, and
    // it is older than the production root, so it is invalid, not "unverifiable".
    let wheel = read("rfc8785-0.1.2-py3-none-any.whl.publish.attestation.json");
    let who = Publisher::from_json(&serde_json::json!({
        "kind": "GitHub", "repository": "trailofbits/rfc8785.py", "workflow": "release.yml"
    }))
    .unwrap();
    let verdict = verifier.verify(&wheel, &subject(&wheel), &who);
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
    println!("staging-signed wheel: {verdict:?}");

    // A tampered signature is invalid.
    let mut tampered = a.clone();
    let sig = tampered["envelope"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bytes = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    tampered["envelope"]["signature"] = base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into();
    let verdict = verifier.verify(&tampered, &subject(&a), &github);
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
}

#[test]
fn a_trusted_root_from_a_file_and_a_bad_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("root.json");
    std::fs::write(&bad, "{}").unwrap();
    let err = Verifier::from_file(&bad).unwrap_err().to_string();
    assert!(err.contains("root.json"), "{err}");
    assert!(Verifier::from_file(&tmp.path().join("absent.json")).is_err());
    let Some(dir) = fixtures() else { return };
    let root = dir.join("../../fixtures/pypi/sigstore/trusted_root.production.json");
    let verifier = Verifier::from_file(&root).unwrap();
    let doc = Provenance::parse(
        &std::fs::read(dir.join("provenance/sampleproject-4.0.0.tar.gz.provenance.json")).unwrap(),
    )
    .unwrap();
    let sha = index_sha256(
        &std::fs::read_to_string(dir.join("json/sampleproject.json")).unwrap(),
        "sampleproject-4.0.0.tar.gz",
    );
    let b = &doc.bundles[0];
    assert!(matches!(
        verifier.verify(&b.attestations[0], &sha, &b.publisher),
        Verdict::Verified { .. }
    ));
}

// ---------------------------------------------------------------------------
// `customs audit` against a local index with constructed release histories.

use crate::common::{customs, json, run, testdata};
use crate::server::{Reply, Server};

const SDIST_400: &str = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";

/// A release added to the recorded sampleproject history: one sdist.
struct Extra {
    version: &'static str,
    sha256: String,
    uploaded: &'static str,
}

/// sampleproject 4.0.1, uploaded after the attested 4.0.0, with no provenance of its own.
fn release_4_0_1() -> Extra {
    Extra {
        version: "4.0.1",
        sha256: "a".repeat(64),
        uploaded: "2025-01-01T00:00:00Z",
    }
}

/// What the test index serves for sampleproject.
struct Index {
    /// `meta.api-version` of the Simple API page.
    api: &'static str,
    /// Releases added to the recorded history.
    extra: Vec<Extra>,
    /// Provenance objects by file name, listed in the Simple page.
    provenance: Vec<(String, Vec<u8>)>,
    /// Whether files without an entry above say `"provenance": null` (else the key is absent).
    list_none: bool,
    /// A replacement sha256 for the 4.0.0 sdist (a tampered index).
    sdist_400_sha: Option<String>,
    /// Files whose `provenance` key is left out even with `list_none`.
    unlisted: Vec<&'static str>,
}

impl Default for Index {
    fn default() -> Self {
        Self {
            api: "1.4",
            extra: Vec::new(),
            provenance: Vec::new(),
            list_none: true,
            sdist_400_sha: None,
            unlisted: Vec::new(),
        }
    }
}

fn serve(index: &Index) -> Server {
    let server = Server::start();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(testdata("index/json/sampleproject.json")).unwrap())
            .unwrap();
    for e in &index.extra {
        let filename = format!("sampleproject-{}.tar.gz", e.version);
        doc["releases"][e.version] = serde_json::json!([{
            "filename": filename,
            "url": format!("https://files.example/{filename}"),
            "digests": {"sha256": e.sha256},
            "upload_time_iso_8601": e.uploaded,
            "yanked": false, "size": 1, "packagetype": "sdist",
        }]);
    }
    if let Some(sha) = &index.sdist_400_sha {
        for f in doc["releases"]["4.0.0"].as_array_mut().unwrap() {
            if f["filename"] == "sampleproject-4.0.0.tar.gz" {
                f["digests"]["sha256"] = sha.clone().into();
            }
        }
    }
    let mut files = Vec::new();
    for (_, release) in doc["releases"].as_object().unwrap() {
        for f in release.as_array().unwrap() {
            let filename = f["filename"].as_str().unwrap().to_string();
            let mut entry = serde_json::json!({
                "filename": filename,
                "url": f["url"],
                "hashes": {"sha256": f["digests"]["sha256"]},
                "upload-time": f["upload_time_iso_8601"],
                "yanked": false,
            });
            if let Some((_, body)) = index.provenance.iter().find(|(n, _)| *n == filename) {
                let path = format!("/integrity/sampleproject/x/{filename}/provenance");
                server.route(&path, vec![Reply::json(body.clone())]);
                entry["provenance"] = format!("http://127.0.0.1:{}{path}", server.port).into();
            } else if index.list_none && !index.unlisted.contains(&filename.as_str()) {
                entry["provenance"] = serde_json::Value::Null;
            }
            files.push(entry);
        }
    }
    let simple = serde_json::json!({
        "meta": {"api-version": index.api, "_last-serial": 1},
        "name": "sampleproject",
        "files": files,
        "versions": doc["releases"].as_object().unwrap().keys().collect::<Vec<_>>(),
    });
    server.route(
        "/pypi/sampleproject/json",
        vec![Reply::json(serde_json::to_vec(&doc).unwrap())],
    );
    server.route(
        "/simple/sampleproject/",
        vec![
            Reply::json(serde_json::to_vec(&simple).unwrap())
                .header("Content-Type", "application/vnd.pypi.simple.v1+json"),
        ],
    );
    server
}

/// `customs audit` of one requirement line; returns (code, report, stderr).
fn audit(server: &Server, requirement: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        format!("{requirement}\n"),
    )
    .unwrap();
    let mut cmd = customs(tmp.path());
    cmd.args([
        "audit",
        "--format",
        "json",
        "--no-scan",
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--index-url",
        &server.index_url(),
        "--timeout",
        "5",
    ]);
    cmd.args(extra);
    cmd.arg("requirements.txt");
    let (code, out, err) = run(&mut cmd);
    assert!(code == 0 || code == 1, "exit {code}: {err}\n{out}");
    (code, json(&out), err)
}

/// (rule, severity) of every provenance finding.
fn provenance_findings(report: &serde_json::Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let r = f["rule"].as_str().unwrap();
            r.starts_with("provenance-") || r == "publisher-changed"
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn message(report: &serde_json::Value, rule: &str) -> String {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A provenance object naming `repository` whose attestation is not real:
/// enough for an earlier release, whose publisher is read but not verified.
fn synthetic(repository: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": 1,
        "attestation_bundles": [{
            "publisher": {"kind": "GitHub", "repository": repository, "workflow": "release.yml", "environment": null},
            "attestations": [{"version": 1}],
        }],
    }))
    .unwrap()
}

fn real(name: &str) -> Option<Vec<u8>> {
    fixtures().map(|d| std::fs::read(d.join("provenance").join(name)).unwrap())
}

#[test]
fn the_publisher_of_sampleproject_4_0_0_is_reported_and_verified() {
    let Some(body) = real("sampleproject-4.0.0.tar.gz.provenance.json") else {
        return;
    };
    let server = serve(&Index {
        provenance: vec![("sampleproject-4.0.0.tar.gz".into(), body)],
        ..Index::default()
    });
    let (_, report, err) = audit(
        &server,
        &format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}"),
        &[],
    );
    assert_eq!(provenance_findings(&report), vec![], "{err}");
    let p = &report["packages"][0]["provenance"];
    assert_eq!(p["state"], "full", "{p}");
    assert_eq!(p["publishers"][0], "GitHub pypa/sampleproject release.yml");
    assert_eq!(p["files"][0]["filename"], "sampleproject-4.0.0.tar.gz");
    assert!(
        p["files"][0]["verification"]
            .as_str()
            .unwrap()
            .starts_with("verified"),
        "{p}"
    );
    // When the lock pins no file, the wheel counts too: it has no provenance
    // while the sdist has: partial, but no finding over files nobody pinned.
    let (_, report, _) = audit(&server, "sampleproject==4.0.0", &[]);
    assert_eq!(report["packages"][0]["provenance"]["state"], "partial");
    assert_eq!(provenance_findings(&report), vec![]);
    // Pinned, it is a finding.
    let (_, report, _) = audit(
        &server,
        &format!(
            "sampleproject==4.0.0 --hash=sha256:{SDIST_400} --hash=sha256:c23e447ea90d796d1e645c35c4b2de125040add12a845825546f91c93f391b6b"
        ),
        &[],
    );
    assert_eq!(
        provenance_findings(&report),
        vec![("provenance-regressed".into(), "medium".into())]
    );
    // Offline, the same answer comes from the cache.
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let pinned = format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}");
    let (_, online, _) = audit(&server, &pinned, &["--cache-dir", dir]);
    let (_, offline, _) = audit(&server, &pinned, &["--cache-dir", dir, "--offline"]);
    assert_eq!(
        online["packages"][0]["provenance"],
        offline["packages"][0]["provenance"]
    );
}

/// sampleproject 4.0.1, unattested, after an attested 4.0.0. Hermetic: the
/// earlier release's provenance is only read for its publisher.
fn regressed_index() -> Server {
    serve(&Index {
        extra: vec![release_4_0_1()],
        provenance: vec![(
            "sampleproject-4.0.0.tar.gz".into(),
            synthetic("pypa/sampleproject"),
        )],
        ..Index::default()
    })
}

#[test]
fn a_release_without_provenance_after_an_attested_one_is_regressed() {
    let server = regressed_index();
    let (code, report, err) = audit(&server, "sampleproject==4.0.1", &[]);
    assert_eq!(
        provenance_findings(&report),
        vec![("provenance-regressed".into(), "high".into())],
        "{err}"
    );
    assert_eq!(code, 1);
    let m = message(&report, "provenance-regressed");
    // The synthetic baseline does not verify, so its publisher is not named.
    assert!(
        m.ends_with("previous release 4.0.0 (2024-11-06) was attested"),
        "{m}"
    );
    assert_eq!(report["packages"][0]["provenance"]["state"], "none");
    // With the real (verifying) provenance of 4.0.0, its publisher is named.
    if let Some(body) = real("sampleproject-4.0.0.tar.gz.provenance.json") {
        let server = serve(&Index {
            extra: vec![release_4_0_1()],
            provenance: vec![("sampleproject-4.0.0.tar.gz".into(), body)],
            ..Index::default()
        });
        let (_, report, _) = audit(&server, "sampleproject==4.0.1", &[]);
        let m = message(&report, "provenance-regressed");
        assert!(
            m.contains("previous release 4.0.0 (2024-11-06) was attested by GitHub pypa/sampleproject release.yml"),
            "{m}"
        );
    }
    // Two releases later, still regressed, with less confidence.
    let server = serve(&Index {
        extra: vec![
            release_4_0_1(),
            Extra {
                version: "4.0.2",
                sha256: "b".repeat(64),
                uploaded: "2025-02-01T00:00:00Z",
            },
        ],
        provenance: vec![(
            "sampleproject-4.0.0.tar.gz".into(),
            synthetic("pypa/sampleproject"),
        )],
        ..Index::default()
    });
    let (_, report, _) = audit(&server, "sampleproject==4.0.2", &[]);
    let m = message(&report, "provenance-regressed");
    assert!(m.contains("the 1 release(s) since have none"), "{m}");
    // An older release before any attestation is not regressed.
    let (_, report, _) = audit(&server, "sampleproject==3.0.0", &[]);
    assert_eq!(provenance_findings(&report), vec![]);
}

/// sampleproject 4.0.1 attested (validly) by another repository than the
/// attested 4.0.0 (needs ../shared's real provenance objects).
fn publisher_changed_index() -> Option<Server> {
    let prev = real("sampleproject-4.0.0.tar.gz.provenance.json")?;
    let next = real("pypi_attestations-0.0.19.tar.gz.provenance.json")?;
    // 4.0.1's file is attested (validly) by trailofbits/pypi-attestations.
    let doc: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures()?.join("json/pypi-attestations.json")).ok()?,
    )
    .ok()?;
    let full = doc["releases"]["0.0.19"]
        .as_array()?
        .iter()
        .find(|f| f["filename"] == "pypi_attestations-0.0.19.tar.gz")?["digests"]["sha256"]
        .as_str()?
        .to_string();
    assert!(full.starts_with("9bb1add0"));
    Some(serve(&Index {
        extra: vec![Extra {
            version: "4.0.1",
            sha256: full,
            uploaded: "2025-01-01T00:00:00Z",
        }],
        provenance: vec![
            ("sampleproject-4.0.0.tar.gz".into(), prev),
            ("sampleproject-4.0.1.tar.gz".into(), next),
        ],
        ..Index::default()
    }))
}

#[test]
fn another_repository_publishing_is_publisher_changed() {
    let Some(server) = publisher_changed_index() else {
        return;
    };
    let (code, report, err) = audit(&server, "sampleproject==4.0.1", &[]);
    assert_eq!(code, 1);
    let mut got = provenance_findings(&report);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("publisher-changed".into(), "high".into()),
            ("publisher-changed".into(), "medium".into()),
        ],
        "{err}"
    );
    let text = report["findings"].to_string();
    assert!(
        text.contains("was published by GitHub trailofbits/pypi-attestations release.yml; the previous attested release 4.0.0 by GitHub pypa/sampleproject release.yml"),
        "{text}"
    );
    assert!(text.contains("the project's URLs on github.com name pypa/sampleproject"));
}

#[test]
fn a_tampered_digest_is_provenance_invalid() {
    let Some(body) = real("sampleproject-4.0.0.tar.gz.provenance.json") else {
        return;
    };
    let server = serve(&Index {
        provenance: vec![("sampleproject-4.0.0.tar.gz".into(), body)],
        sdist_400_sha: Some("1".repeat(64)),
        ..Index::default()
    });
    let (code, report, err) = audit(
        &server,
        &format!("sampleproject==4.0.0 --hash=sha256:{}", "1".repeat(64)),
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(
        provenance_findings(&report),
        vec![("provenance-invalid".into(), "critical".into())],
        "{err}"
    );
    assert!(message(&report, "provenance-invalid").contains("is not this file"));
    // An object that did not verify is not kept in the cache; one that did is.
    let cache = tempfile::tempdir().unwrap();
    let stored = |dir: &std::path::Path| -> usize {
        let mut n = 0;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.parent().is_some_and(|q| q.ends_with("provenance")) {
                    n += 1;
                }
            }
        }
        n
    };
    let dir = cache.path().to_str().unwrap();
    let tampered = format!("sampleproject==4.0.0 --hash=sha256:{}", "1".repeat(64));
    let _ = audit(&server, &tampered, &["--cache-dir", dir]);
    assert_eq!(stored(cache.path()), 0);
    let good = serve(&Index {
        provenance: vec![(
            "sampleproject-4.0.0.tar.gz".into(),
            real("sampleproject-4.0.0.tar.gz.provenance.json").unwrap(),
        )],
        ..Index::default()
    });
    let _ = audit(
        &good,
        &format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}"),
        &["--cache-dir", dir],
    );
    assert_eq!(stored(cache.path()), 1);
}

#[test]
fn a_mirror_without_simple_api_1_3_never_claims_provenance_is_missing() {
    let server = serve(&Index {
        api: "1.1",
        extra: vec![release_4_0_1()],
        list_none: false,
        ..Index::default()
    });
    let (_, report, err) = audit(&server, "sampleproject==4.0.1", &[]);
    assert_eq!(provenance_findings(&report), vec![], "{err}");
    let p = &report["packages"][0]["provenance"];
    assert_eq!(p["state"], "unknown");
    assert!(p["reason"].as_str().unwrap().contains("1.1"), "{p}");
    assert_eq!(
        server.hits("/integrity/sampleproject/4.0.1/sampleproject-4.0.1.tar.gz/provenance"),
        0
    );
    // Required, it says it cannot tell: unknown is not a pass.
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("customs.toml");
    std::fs::write(&config, "require-attestations = [\"sampleproject\"]\n").unwrap();
    let (_, report, _) = audit(
        &server,
        "sampleproject==4.0.1",
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(
        provenance_findings(&report),
        vec![("provenance-missing".into(), "medium".into())]
    );
    assert!(message(&report, "provenance-missing").contains("cannot be checked"));
    // The real mirror's recorded page (api-version 1.1) gives the same answer.
    let mirror = Server::start();
    mirror.project("sampleproject");
    mirror.route(
        "/simple/sampleproject/",
        vec![Reply::json(
            std::fs::read(testdata("index/simple/sampleproject.json")).unwrap(),
        )],
    );
    mirror.project("six");
    let (_, report, _) = audit(&mirror, "sampleproject==4.0.0\nsix==1.16.0", &[]);
    for p in report["packages"].as_array().unwrap() {
        assert_eq!(p["provenance"]["state"], "unknown", "{p}");
        assert!(p["provenance"]["reason"].as_str().unwrap().contains("1.1"));
    }
    assert_eq!(provenance_findings(&report), vec![]);
    // One project's page tells the index's API version: the others are not asked.
    assert_eq!(mirror.hits("/simple/sampleproject/"), 1);
    assert_eq!(mirror.hits("/simple/six/"), 0);
}

#[test]
fn integrity_api_404s_mean_none_and_a_listed_url_that_404s_is_unknown() {
    // The page lists provenance for other files but not this one: ask the
    // Integrity API, whose 404 means "none".
    let server = serve(&Index {
        unlisted: vec!["sampleproject-4.0.0.tar.gz"],
        ..Index::default()
    });
    let pinned = format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}");
    let (_, report, err) = audit(&server, &pinned, &[]);
    assert_eq!(
        report["packages"][0]["provenance"]["state"], "none",
        "{err}"
    );
    let integrity = "/integrity/sampleproject/4.0.0/sampleproject-4.0.0.tar.gz/provenance";
    assert_eq!(server.hits(integrity), 1);
    assert_eq!(provenance_findings(&report), vec![]);
    // A page that lists provenance for no file at all (a mirror that drops the
    // key): the Integrity API's 404 may only mean it has no such API.
    let server = serve(&Index {
        list_none: false,
        ..Index::default()
    });
    let (_, report, _) = audit(&server, &pinned, &[]);
    let p = &report["packages"][0]["provenance"];
    assert_eq!(p["state"], "unknown", "{p}");
    assert!(
        p["reason"].as_str().unwrap().contains("Integrity API"),
        "{p}"
    );
    assert_eq!(server.hits(integrity), 1);
    assert_eq!(provenance_findings(&report), vec![]);

    // A URL the page lists that answers 404 is not "none".
    let server = serve(&Index {
        provenance: vec![("sampleproject-4.0.0.tar.gz".into(), b"{}".to_vec())],
        ..Index::default()
    });
    server.route(
        "/integrity/sampleproject/x/sampleproject-4.0.0.tar.gz/provenance",
        vec![Reply::status(404)],
    );
    let (_, report, _) = audit(
        &server,
        &format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}"),
        &[],
    );
    let p = &report["packages"][0]["provenance"];
    assert_eq!(p["state"], "unknown", "{p}");
    assert!(p["reason"].as_str().unwrap().contains("404"), "{p}");
    assert_eq!(provenance_findings(&report), vec![]);
}

#[test]
fn no_provenance_asks_nothing_and_a_bad_trusted_root_is_an_error() {
    let server = serve(&Index::default());
    let (_, report, _) = audit(&server, "sampleproject==4.0.0", &["--no-provenance"]);
    assert!(report["packages"][0].get("provenance").is_none());
    assert_eq!(server.hits("/simple/sampleproject/"), 0);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root.json");
    std::fs::write(&root, "{\"not\": \"a root\"}").unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "sampleproject==4.0.0\n",
    )
    .unwrap();
    let (code, _, err) = run(customs(tmp.path()).args([
        "audit",
        "--index-url",
        &server.index_url(),
        "--trusted-root",
        root.to_str().unwrap(),
        "requirements.txt",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("root.json"), "{err}");
}

#[test]
fn pylock_attestation_identities_must_match_the_index_publisher() {
    let Some(body) = real("sampleproject-4.0.0.tar.gz.provenance.json") else {
        return;
    };
    let server = serve(&Index {
        provenance: vec![("sampleproject-4.0.0.tar.gz".into(), body)],
        ..Index::default()
    });
    for (repository, expected) in [
        ("pypa/sampleproject", vec![]),
        (
            "evil/sampleproject",
            vec![("publisher-changed".to_string(), "high".to_string())],
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pylock.toml"),
            format!(
                r#"lock-version = "1.0"
created-by = "test"

[[packages]]
name = "sampleproject"
version = "4.0.0"
index = "{index}"
sdist = {{ name = "sampleproject-4.0.0.tar.gz", url = "https://files.example/sampleproject-4.0.0.tar.gz", hashes = {{ sha256 = "{SDIST_400}" }} }}
attestation-identities = [{{ kind = "GitHub", repository = "{repository}" }}]
"#,
                index = server.index_url()
            ),
        )
        .unwrap();
        let (_, out, err) = run(customs(tmp.path()).args([
            "audit",
            "--format",
            "json",
            "--no-scan",
            "--as-of",
            "2026-11-01T00:00:00Z",
            "--index-url",
            &server.index_url(),
            "pylock.toml",
        ]));
        let report = json(&out);
        assert_eq!(
            provenance_findings(&report),
            expected,
            "{repository}: {err}"
        );
    }
}

#[test]
fn the_table_sums_up_provenance_states() {
    let server = serve(&Index {
        api: "1.1",
        list_none: false,
        ..Index::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        "sampleproject==4.0.0\n",
    )
    .unwrap();
    let (_, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--no-scan",
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    assert!(
        out.contains("provenance (PEP 740): 1 unknown (the index's Simple API is version 1.1"),
        "{out}\n{err}"
    );
    // The job summary says the same.
    let (_, out, _) = run(customs(tmp.path()).args([
        "audit",
        "--no-scan",
        "--format",
        "markdown",
        "--as-of",
        "2026-11-01T00:00:00Z",
        "--index-url",
        &server.index_url(),
        "requirements.txt",
    ]));
    assert!(
        out.contains("Provenance (PEP 740): 1 unknown (the index's Simple API is version 1.1"),
        "{out}"
    );
}

/// Opt-in (`CUSTOMS_LIVE_TESTS=1`, never in CI): the public index's real
/// provenance for sampleproject 4.0.0. On an index without Simple API 1.3 (a
/// mirror) the state is unknown, which the test accepts and says.
#[test]
#[ignore = "talks to the public index; run with CUSTOMS_LIVE_TESTS=1 --ignored"]
fn live_public_index_provenance() {
    if std::env::var("CUSTOMS_LIVE_TESTS").as_deref() != Ok("1") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("requirements.txt"),
        format!("sampleproject==4.0.0 --hash=sha256:{SDIST_400}\n"),
    )
    .unwrap();
    let (code, out, err) = run(customs(tmp.path()).args([
        "audit",
        "--format",
        "json",
        "--no-scan",
        "requirements.txt",
    ]));
    assert!(code == 0 || code == 1, "{err}\n{out}");
    let report = json(&out);
    let p = &report["packages"][0]["provenance"];
    if p["state"] == "unknown" {
        println!("the index cannot say: {}", p["reason"]);
        return;
    }
    assert_eq!(p["state"], "full", "{p}");
    assert_eq!(p["publishers"][0], "GitHub pypa/sampleproject release.yml");
    assert!(
        p["files"][0]["verification"]
            .as_str()
            .unwrap()
            .starts_with("verified")
    );
}

#[test]
fn a_failing_simple_api_makes_provenance_unknown_with_the_reason() {
    let server = serve(&Index::default());
    server.route("/simple/sampleproject/", vec![Reply::status(503)]);
    let t = std::time::Instant::now();
    let (_, report, err) = audit(&server, "sampleproject==4.0.0", &[]);
    let p = &report["packages"][0]["provenance"];
    assert_eq!(p["state"], "unknown", "{p}\n{err}");
    assert!(p["reason"].as_str().unwrap().contains("503"), "{p}");
    assert_eq!(provenance_findings(&report), vec![]);
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    // The index itself answered: the release checks ran.
    assert_eq!(report["packages"][0]["index"]["status"], "checked");
}

#[test]
fn an_entry_newer_than_the_root_is_unverifiable_only_if_the_rest_holds() {
    let Some(dir) = fixtures() else { return };
    let verifier = Verifier::embedded().unwrap();
    let doc = Provenance::parse(
        &std::fs::read(dir.join("provenance/sampleproject-4.0.0.tar.gz.provenance.json")).unwrap(),
    )
    .unwrap();
    let publisher = &doc.bundles[0].publisher;
    let original = doc.bundles[0].attestations[0].clone();
    let entry = |a: &mut serde_json::Value| -> serde_json::Value {
        a["verification_material"]["transparency_entries"][0].clone()
    };
    let set_entry = |a: &mut serde_json::Value, e: serde_json::Value| {
        a["verification_material"]["transparency_entries"][0] = e;
    };
    // A log the root does not know, logged after every key of the root: what a
    // root too old for a new log would see. The signature itself is intact.
    let mut newer = original.clone();
    let mut e = entry(&mut newer);
    e["logId"]["keyId"] = base64::engine::general_purpose::STANDARD
        .encode([7u8; 32])
        .into();
    e["integratedTime"] = "1767225600".into(); // 2026-01-01
    set_entry(&mut newer, e);
    let verdict = verifier.verify(&newer, SDIST_400, publisher);
    assert!(matches!(verdict, Verdict::Unverifiable(_)), "{verdict:?}");

    // The same, for a swapped file whose statement was rewritten: forged.
    let mut forged = newer.clone();
    let stmt = forged["envelope"]["statement"]
        .as_str()
        .unwrap()
        .to_string();
    let mut statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(stmt)
            .unwrap(),
    )
    .unwrap();
    let other = "2".repeat(64);
    statement["subject"][0]["digest"]["sha256"] = other.clone().into();
    forged["envelope"]["statement"] = base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&statement).unwrap())
        .into();
    let verdict = verifier.verify(&forged, &other, publisher);
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");

    // A known log with a time moved: the log's promise no longer holds.
    let mut moved = original.clone();
    let mut e = entry(&mut moved);
    e["integratedTime"] = "1767225600".into();
    set_entry(&mut moved, e);
    let verdict = verifier.verify(&moved, SDIST_400, publisher);
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");

    // A time in the future is never "newer than the root".
    let mut future = newer.clone();
    let mut e = entry(&mut future);
    e["integratedTime"] = "4102444800".into(); // 2100
    set_entry(&mut future, e);
    let verdict = verifier.verify(&future, SDIST_400, publisher);
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");

    // A publisher kind customs cannot tie to the certificate is not verified.
    let odd =
        Publisher::from_json(&serde_json::json!({"kind": "ActiveState", "organization": "x"}))
            .unwrap();
    let verdict = verifier.verify(&original, SDIST_400, &odd);
    assert!(matches!(verdict, Verdict::Unverifiable(_)), "{verdict:?}");
}

// ---- for the rule matrix (tests/it/rules.rs): the same setups, one finding each ----

/// `provenance-regressed` on line 2 (hermetic: a synthetic baseline).
pub(crate) fn regressed_report(requirements: &str) -> (serde_json::Value, String) {
    let server = regressed_index();
    server.project("six");
    let (_, report, err) = audit(&server, requirements, &[]);
    (report, err)
}

/// `publisher-changed` (needs ../shared's real provenance objects).
pub(crate) fn publisher_changed_report(requirements: &str) -> Option<(serde_json::Value, String)> {
    let server = publisher_changed_index()?;
    server.project("six");
    let (_, report, err) = audit(&server, requirements, &[]);
    Some((report, err))
}

/// `provenance-invalid`: a real attestation of 4.0.0 against a tampered
/// digest; `before` is the requirement text up to `--hash=sha256:`.
pub(crate) fn invalid_report(before: &str) -> Option<(serde_json::Value, String)> {
    let body = real("sampleproject-4.0.0.tar.gz.provenance.json")?;
    let server = serve(&Index {
        provenance: vec![("sampleproject-4.0.0.tar.gz".into(), body)],
        sdist_400_sha: Some("1".repeat(64)),
        ..Index::default()
    });
    server.project("six");
    let (_, report, err) = audit(&server, &format!("{before}{}", "1".repeat(64)), &[]);
    Some((report, err))
}
