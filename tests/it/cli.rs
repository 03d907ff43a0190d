//! Command-line behaviour that does not depend on a lockfile format.

use crate::common::{customs, json, root, run};

#[test]
fn rules_lists_every_rule() {
    let (code, out, _) = run(customs(&root()).arg("rules"));
    assert_eq!(code, 0);
    assert!(out.contains("unpinned-requirement"), "{out}");
}

#[test]
fn explain_prints_docs_and_unknown_rule_exits_2() {
    let (code, out, _) = run(customs(&root()).args(["explain", "unpinned-requirement"]));
    assert_eq!(code, 0);
    assert!(out.contains("## Why it matters"), "{out}");
    let (code, _, err) = run(customs(&root()).args(["explain", "no-such-rule"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("no-such-rule") && err.contains("customs rules"),
        "{err}"
    );
}

#[test]
fn missing_path_exits_2_naming_it() {
    let (code, _, err) = run(customs(&root()).args(["audit", "does/not/exist.lock"]));
    assert_eq!(code, 2);
    assert!(err.contains("does/not/exist.lock"), "{err}");
}

#[test]
fn bad_as_of_exits_2_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "").unwrap();
    let (code, _, err) = run(customs(tmp.path()).args(["audit", "--as-of", "yesterday"]));
    assert_eq!(code, 2);
    assert!(err.contains("--as-of") && err.contains("hint"), "{err}");
}

#[test]
fn empty_directory_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(customs(tmp.path()).args(["audit", "--format", "json"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no lockfile"), "{err}");
    let _ = json; // used by other modules
}

#[test]
fn the_committed_rule_reference_is_current() {
    let (code, printed, _) = run(customs(&root()).args(["rules", "--markdown"]));
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert!(
        committed == printed,
        "docs/rules.md is stale: run `cargo run -- rules --markdown > docs/rules.md`"
    );
    for id in ["cooldown", "typosquat", "exfiltration", "allow-expired"] {
        assert!(committed.contains(&format!("## {id}")), "{id} missing");
    }
}

#[test]
fn scan_indicators_are_listed_and_explained() {
    let (code, out, _) = run(customs(&root()).arg("rules"));
    assert_eq!(code, 0);
    assert!(
        out.contains("scan indicators") && out.contains("credential-file"),
        "{out}"
    );
    let (code, out, _) = run(customs(&root()).args(["explain", "credential-file"]));
    assert_eq!(code, 0);
    assert!(out.contains(".pypirc") && out.contains("matches:"), "{out}");
}
