//! The inventory of every testdata lockfile, as `customs audit --offline --format json`
//! reports it, snapshotted in a compact one-line-per-package form.

use std::fmt::Write;
use std::path::Path;

use crate::common::{customs, json, root, run};

/// One line per package: name, version, source, line, artifacts, upload time.
fn inventory(rel: &str) -> String {
    let (code, out, err) = run(customs(&root()).args([
        "audit",
        "--offline",
        "--format",
        "json",
        "--as-of",
        "2026-09-18T00:00:00Z",
        rel,
    ]));
    assert!(code == 0 || code == 1, "{rel}: exit {code}\n{err}");
    let report = json(&out);
    let mut s = String::new();
    for input in report["inputs"].as_array().unwrap() {
        let _ = writeln!(
            s,
            "input {} {} packages={} options={} indexes={}",
            input["path"].as_str().unwrap(),
            input["format"].as_str().unwrap(),
            input["packages"],
            input["options"],
            input["indexes"]
        );
    }
    for p in report["packages"].as_array().unwrap() {
        let arts = p["artifacts"].as_array().unwrap();
        let _ = writeln!(
            s,
            "{} {} {}{}{} line={} artifacts={} sha256={} upload={}{}",
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap_or("-"),
            p["source"]["kind"].as_str().unwrap(),
            p["source"]["url"]
                .as_str()
                .map(|u| format!(" {u}"))
                .unwrap_or_default(),
            p["source"]["commit"]
                .as_str()
                .map(|c| format!(" #{c}"))
                .unwrap_or_default(),
            p["line"],
            arts.len(),
            arts.iter().filter(|a| a["sha256"].is_string()).count(),
            p["upload_time"].as_str().unwrap_or("-"),
            p["markers"]
                .as_str()
                .map(|m| format!(" markers={m}"))
                .unwrap_or_default(),
        );
    }
    // Offline with an empty cache every registry package is `index-unavailable`:
    // that is tested elsewhere; the inventory snapshots keep the rest.
    for f in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "index-unavailable")
    {
        let _ = writeln!(
            s,
            "finding {} {} {}:{} {}",
            f["rule"].as_str().unwrap(),
            f["package"].as_str().unwrap_or("-"),
            f["location"]["file"].as_str().unwrap(),
            f["location"]["line"],
            f["message"].as_str().unwrap()
        );
    }
    s
}

fn check(rel: &str) {
    assert!(Path::new(&root().join(rel)).exists(), "{rel} missing");
    let name = rel
        .trim_start_matches("testdata/lockfiles/")
        .replace(['/', '.'], "_");
    insta::assert_snapshot!(name, inventory(rel));
}

#[test]
fn uv_locks() {
    for rel in [
        "testdata/lockfiles/uv/django-app/uv.lock",
        "testdata/lockfiles/uv/data-project/uv.lock",
        "testdata/lockfiles/uv/workspace/uv.lock",
        "testdata/lockfiles/uv/script/script.py.lock",
        "testdata/lockfiles/uv/empty/uv.lock",
        "testdata/lockfiles/uv/edge-distribution/uv.lock",
        "testdata/lockfiles/uv/edge-span/uv.lock",
        "testdata/lockfiles/uv/large/uv.lock",
    ] {
        check(rel);
    }
}

#[test]
fn pylock_files() {
    for rel in [
        "testdata/lockfiles/pylock/django-app/pylock.toml",
        "testdata/lockfiles/pylock/data-project/pylock.toml",
        "testdata/lockfiles/pylock/edge/pylock.toml",
    ] {
        check(rel);
    }
}

#[test]
fn requirements_files() {
    for rel in [
        "testdata/lockfiles/requirements/django-app/requirements.txt",
        "testdata/lockfiles/requirements/nested/requirements/dev.txt",
        "testdata/lockfiles/requirements/edge/requirements.txt",
        "testdata/lockfiles/requirements/encodings/crlf.txt",
        "testdata/lockfiles/requirements/encodings/utf16-bom.txt",
        "testdata/lockfiles/requirements/encodings/utf8-bom.txt",
    ] {
        check(rel);
    }
}

#[test]
fn include_cycles_exit_2_naming_the_line() {
    let (code, _, err) = run(customs(&root()).args([
        "audit",
        "--offline",
        "testdata/lockfiles/requirements/cycle/a.txt",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("cycle/b.txt:2:") && err.contains("include cycle"),
        "{err}"
    );
}

#[test]
fn unpinned_requirements_fail_only_at_medium() {
    let rel = "testdata/lockfiles/requirements/edge/requirements.txt";
    let (code, _, _) = run(customs(&root()).args(["audit", "--offline", rel]));
    assert_eq!(
        code, 0,
        "unpinned-requirement is medium: passes at the default fail-on high"
    );
    let (code, out, _) =
        run(customs(&root()).args(["audit", "--offline", "--fail-on", "medium", rel]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
}

#[test]
fn poetry_locks() {
    for rel in [
        "testdata/lockfiles/poetry/django-app/poetry.lock",
        "testdata/lockfiles/poetry/sources/poetry.lock",
        "testdata/lockfiles/poetry/v1-1/poetry.lock",
        "testdata/lockfiles/poetry/pre-1-0/poetry.lock",
    ] {
        check(rel);
    }
}

#[test]
fn pdm_locks() {
    for rel in [
        "testdata/lockfiles/pdm/django-app/pdm.lock",
        "testdata/lockfiles/pdm/v3/pdm.lock",
    ] {
        check(rel);
    }
}

#[test]
fn pipfile_locks() {
    check("testdata/lockfiles/pipfile/django-app/Pipfile.lock");
}
