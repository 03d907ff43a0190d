//! The report formats: the committed JSON Schema, SARIF validity, annotations.

use std::path::PathBuf;

use customs::finding::{Finding, RuleId};
use customs::package::{Artifact, Hash, Origin, Package, PackageName, Version};
use customs::report::{self, Report, RunResult, Settings};

use crate::common::{customs, root, run};

fn sample_report() -> Report {
    let mut p = Package::new(
        PackageName::new("Requests").unwrap(),
        Some(Version::new("2.32.0")),
        Origin {
            file: PathBuf::from("requirements.txt"),
            line: 7,
        },
    );
    let mut a = Artifact::named("requests-2.32.0-py3-none-any.whl");
    a.hashes.push(Hash::sha256(&"ab".repeat(32)).unwrap());
    p.artifacts.push(a);
    let f = Finding::for_package(RuleId::UnpinnedRequirement, &p)
        .evidence("requirement", "requests>=2")
        .message("requests is not pinned");
    let packages = vec![p];
    let findings = vec![f];
    let ts: jiff::Timestamp = "2026-09-18T00:00:00Z".parse().unwrap();
    Report::build(RunResult {
        diff: None,
        inputs: vec![],
        skipped: vec![],
        packages: &packages,
        statuses: &[customs::checks::release::IndexStatus::Checked],
        scans: None,
        provenance: None,
        advisories: None,
        findings: &findings,
        settings: Settings {
            fail_on: customs::finding::Severity::Medium,
            fail_on_unknown: false,
            offline: true,
            cooldown: "7 days".into(),
            index_url: "https://index.example/simple".into(),
            config: None,
        },
        as_of: ts,
        now: ts,
    })
}

#[test]
fn committed_report_schema_is_current() {
    let (code, printed, _) = run(customs(&root()).args(["schema", "report"]));
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("schemas/report-v1.schema.json")).unwrap();
    assert!(
        committed == printed,
        "schemas/report-v1.schema.json is stale: run `cargo run -- schema report > schemas/report-v1.schema.json`"
    );
}

#[test]
fn reports_validate_against_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(&report::json::schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let report: serde_json::Value =
        serde_json::from_str(&report::json::render(&sample_report())).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(report["summary"]["verdict"], "fail");
    assert_eq!(report["packages"][0]["name"], "requests");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let sarif: serde_json::Value =
        serde_json::from_str(&report::sarif::render(&sample_report())).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["logicalLocations"][0]["name"],
        "requests@2.32.0"
    );
    crate::common::assert_valid_sarif(&sarif);
}

#[test]
fn github_annotations_and_summary() {
    let r = sample_report();
    let gh = report::github::render(&r);
    assert!(
        gh.starts_with("::warning file=requirements.txt,line=7,title=customs unpinned-requirement%3A requests 2.32.0::requests is not pinned"),
        "{gh}"
    );
    let md = report::markdown::render(&r);
    assert!(
        md.contains("customs failed") && md.contains("| `unpinned-requirement` | 1 |"),
        "{md}"
    );
    assert!(md.contains("### Blocking findings"), "{md}");
}
