//! Config, the expiring allow-list and every output in one run, end to end.

use crate::common::{customs, json, run};

const REQS: &str = "six==1.16.0\nrequests>=2\nclick\nflask~=3.0\n";

#[test]
fn allow_entries_suppress_expire_and_report_unused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    std::fs::write(d.join("requirements.txt"), REQS).unwrap();
    std::fs::write(
        d.join("customs.toml"),
        r#"fail-on = "medium"

[[allow]]
rule = "unpinned-requirement"
package = "requests"
reason = "pinned by our constraints file in CI"
expires = "2027-01-31"

[[allow]]
rule = "unpinned-requirement"
package = "click"
reason = "old exception"
expires = "2026-01-31"

[[allow]]
rule = "unpinned-requirement"
package = "left-behind"
reason = "no longer used"
expires = "2027-01-31"
"#,
    )
    .unwrap();
    let (code, out, err) = run(customs(d).args([
        "audit",
        "--offline",
        "--no-scan",
        "--format",
        "json",
        "--as-of",
        "2026-09-18T00:00:00Z",
        "requirements.txt",
    ]));
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    assert_eq!(
        report["settings"]["config"]
            .as_str()
            .map(|p| p.ends_with("customs.toml")),
        Some(true)
    );
    let by = |rule: &str, pkg: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["package"].as_str().unwrap_or("") == pkg)
            .cloned()
    };
    let requests = by("unpinned-requirement", "requests").unwrap();
    assert_eq!(
        requests["suppressed"]["reason"],
        "pinned by our constraints file in CI"
    );
    assert!(
        by("unpinned-requirement", "click").unwrap()["suppressed"].is_null(),
        "expired entries stop suppressing"
    );
    assert!(by("unpinned-requirement", "flask").unwrap()["suppressed"].is_null());
    let expired = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "allow-expired")
        .unwrap();
    assert_eq!(expired["location"]["line"], 9);
    assert!(
        expired["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("customs.toml")
    );
    let unused = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "allow-unused")
        .unwrap();
    assert_eq!(unused["location"]["line"], 15);
    assert_eq!(report["summary"]["suppressed"], 1);

    // --no-config ignores it; --baseline passes what an earlier report had.
    let (_, out, _) = run(customs(d).args([
        "audit",
        "--offline",
        "--no-scan",
        "--no-config",
        "--format",
        "json",
        "requirements.txt",
    ]));
    assert!(
        json(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["suppressed"].is_null())
    );
    std::fs::write(d.join("old.json"), &out).unwrap();
    let (code, out, _) = run(customs(d).args([
        "audit",
        "--offline",
        "--no-scan",
        "--no-config",
        "--fail-on",
        "medium",
        "--baseline",
        "old.json",
        "--format",
        "json",
        "requirements.txt",
    ]));
    let report = json(&out);
    assert_eq!(report["summary"]["findings"], 0, "{report}");
    assert_eq!(code, 0);
}

#[test]
fn bad_configs_exit_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join(".git")).unwrap();
    std::fs::write(d.join("requirements.txt"), "six==1.16.0\n").unwrap();
    for (text, want) in [
        (
            "fail-on = \"high\"\ncooldwn = \"7 days\"\n",
            "customs.toml:2",
        ),
        (
            "[[allow]]\nrule = \"cooldown\"\nexpires = \"2027-01-01\"\n",
            "customs.toml:1",
        ),
        ("[rules]\nno-such-rule = \"off\"\n", "customs.toml:2"),
        ("cooldown = \"a fortnight\"\n", "cooldown"),
    ] {
        std::fs::write(d.join("customs.toml"), text).unwrap();
        let (code, _, err) = run(customs(d).args(["audit", "--offline", "requirements.txt"]));
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(want), "{text}: expected `{want}` in {err}");
    }
    std::fs::remove_file(d.join("customs.toml")).unwrap();
    std::fs::write(
        d.join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.customs]\nfail-on = \"sometimes\"\n",
    )
    .unwrap();
    let (code, _, err) = run(customs(d).args(["audit", "--offline", "requirements.txt"]));
    assert_eq!(code, 2);
    assert!(err.contains("pyproject.toml:5"), "{err}");
}

#[test]
fn one_run_writes_json_sarif_annotations_and_summary_at_the_right_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(
        d.join("requirements.txt"),
        "# top\nsix==1.16.0\nrequests>=2\n",
    )
    .unwrap();
    let (code, out, err) = run(customs(d).args([
        "audit",
        "--offline",
        "--no-scan",
        "--no-config",
        "--fail-on",
        "medium",
        "--format",
        "github",
        "--json-file",
        "r.json",
        "--sarif-file",
        "r.sarif",
        "--summary-file",
        "s.md",
        "requirements.txt",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains(
            "::warning file=requirements.txt,line=3,title=customs unpinned-requirement%3A requests"
        ),
        "{out}"
    );
    let report = json(&std::fs::read_to_string(d.join("r.json")).unwrap());
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "unpinned-requirement")
        .unwrap();
    assert_eq!(f["location"]["line"], 3);
    let sarif = json(&std::fs::read_to_string(d.join("r.sarif")).unwrap());
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "unpinned-requirement")
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "requirements.txt"
    );
    let md = std::fs::read_to_string(d.join("s.md")).unwrap();
    assert!(
        md.contains("customs failed") && md.contains("`requirements.txt:3`"),
        "{md}"
    );
    crate::common::assert_valid_sarif(&sarif);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::root().join("schemas/report-v1.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    assert!(v.iter_errors(&report).next().is_none());
}
