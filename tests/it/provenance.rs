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
