//! The GitHub Action's run step (`scripts/action-run.sh`) in a simulated
//! `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` environment.

use std::collections::HashMap;
use std::process::Command;

use crate::common::root;
use crate::server::Server;

/// The Action's run step (`scripts/action-run.sh`) run in `dir` with a
/// clean environment: `PATH` and the test's customs binary, nothing else.
fn step(dir: impl AsRef<std::path::Path>) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("scripts/action-run.sh"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CUSTOMS_BIN", env!("CARGO_BIN_EXE_customs"));
    cmd
}

fn outputs(path: &std::path::Path) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_action_step_writes_outputs_reports_and_the_summary() {
    let server = Server::start();
    server.project("requests");
    server.project("six");
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(
        ws.join("requirements.txt"),
        "requests==2.32.0\nsix==1.16.0\n",
    )
    .unwrap();
    let gh_out = tmp.path().join("output");
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let status = step(&ws)
        .env("CUSTOMS_CACHE_DIR", tmp.path().join("cache"))
        .env("CUSTOMS_AS_OF", "2026-09-18T00:00:00Z")
        .env("PIP_INDEX_URL", server.index_url())
        .env("RUNNER_TEMP", tmp.path())
        .env("GITHUB_OUTPUT", &gh_out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("INPUT_PATHS", "requirements.txt")
        .env("INPUT_FAIL_ON_UNKNOWN", "true")
        .env("INPUT_SARIF", "true")
        .env("INPUT_SUMMARY", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(1),
        "requests 2.32.0 is yanked\n{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        stdout.contains("::error file=requirements.txt,line=1,"),
        "{stdout}"
    );
    let out = outputs(&gh_out);
    assert_eq!(out["findings"], "1", "{out:?}");
    assert_eq!(out["verdict"], "fail");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out["report-file"]).unwrap()).unwrap();
    assert_eq!(report["findings"][0]["rule"], "yanked");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out["sarif-file"]).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("# earlier step\n")
            && md.contains("customs failed")
            && md.contains("yanked"),
        "{md}"
    );
}

#[test]
fn the_action_step_reports_errors_as_a_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let gh_out = tmp.path().join("output");
    let status = step(tmp.path())
        .env("RUNNER_TEMP", tmp.path())
        .env("GITHUB_OUTPUT", &gh_out)
        .env("INPUT_PATHS", "missing.lock")
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(2));
    assert_eq!(outputs(&gh_out)["verdict"], "error");
}

#[test]
fn the_action_step_masks_index_credentials_before_running() {
    let server = Server::start();
    server.project("six");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let url = server
        .index_url()
        .replace("http://", "http://_json_key_base64:url-S3cret-99==@");
    let status = step(tmp.path())
        .env("CUSTOMS_CACHE_DIR", tmp.path().join("cache"))
        .env("PIP_INDEX_URL", &url)
        .env("UV_INDEX_INTERNAL_PASSWORD", "uv-S3cret-77")
        .env("UV_INDEX", format!("internal={}", server.index_url()))
        .env("RUNNER_TEMP", tmp.path())
        .env("INPUT_PATHS", "requirements.txt")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        status.status.code().is_some_and(|c| c <= 1),
        "{stdout}\n{stderr}"
    );
    for secret in ["url-S3cret-99==", "uv-S3cret-77"] {
        assert!(
            stdout.contains(&format!("::add-mask::{secret}\n")),
            "{secret} not masked:\n{stdout}"
        );
        let elsewhere = stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .any(|l| l.contains(secret));
        assert!(!elsewhere && !stderr.contains(secret), "{stdout}\n{stderr}");
    }
}

#[test]
fn the_action_step_judges_the_change_since_the_diff_base() {
    if !crate::diff::has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    // An index that knows none of the packages.
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    crate::diff::repository(&ws);
    let gh_out = tmp.path().join("output");
    let summary = tmp.path().join("summary.md");
    let status = step(&ws)
        .env("CUSTOMS_CACHE_DIR", tmp.path().join("cache"))
        .env("CUSTOMS_AS_OF", "2026-09-18T00:00:00Z")
        .env("PIP_INDEX_URL", server.index_url())
        .env("CUSTOMS_NO_ADVISORIES", "1")
        .env("RUNNER_TEMP", tmp.path())
        .env("GITHUB_OUTPUT", &gh_out)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("INPUT_PATHS", "requirements.txt")
        .env("INPUT_FAIL_ON_UNKNOWN", "false")
        .env("INPUT_SUMMARY", "true")
        .env("INPUT_DIFF_BASE", "HEAD~1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.status.code(),
        Some(1),
        "xray is re-pointed\n{stdout}\n{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("**Change since `HEAD~1`: 1 added, 1 upgraded, 1 re-pointed, 1 removed.**"),
        "{md}"
    );
    // The typosquat left as it was does not fail the job.
    assert!(!stdout.contains("typosquat"), "{stdout}");
    assert!(stdout.contains("repointed-pin"), "{stdout}");
}
