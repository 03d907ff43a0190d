//! `audit --diff-base REF` on a git repository built at test time: two
//! commits of a uv.lock and of a requirements file.

use std::path::Path;
use std::process::Command;

use crate::common::{customs, json, run};

/// A uv.lock of registry packages: (name, version, sha256 of its wheel).
fn uv_lock(packages: &[(&str, &str, char)]) -> String {
    let mut out = String::from("version = 1\nrevision = 2\nrequires-python = \">=3.12\"\n");
    for (name, version, hash) in packages {
        let sha: String = std::iter::repeat_n(*hash, 64).collect();
        out.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = {{ registry = \"https://index.example/simple\" }}\nwheels = [\n    {{ url = \"https://files.example/{name}-{version}-py3-none-any.whl\", hash = \"sha256:{sha}\", size = 10 }},\n]\n"
        ));
    }
    out
}

/// A requirements file with hashes: (name, version, hash character).
fn requirements(packages: &[(&str, &str, char)]) -> String {
    packages
        .iter()
        .map(|(name, version, hash)| {
            let sha: String = std::iter::repeat_n(*hash, 64).collect();
            format!("{name}=={version} --hash=sha256:{sha}\n")
        })
        .collect()
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn has_git() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The repository: a base commit, then the change (committed too).
pub(crate) fn repository(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(
        dir.join("uv.lock"),
        uv_lock(&[
            ("alpha", "1.0", 'a'),
            ("bravo", "1.0", 'b'),
            ("charlie", "1.0", 'c'),
            ("delta", "1.0", 'd'),
        ]),
    )
    .unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        requirements(&[
            ("xray", "1.0", '1'),
            ("yankee", "1.0", '2'),
            ("zulu", "1.0", '3'),
            ("reqeusts", "2.31.0", '4'),
        ]),
    )
    .unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    // The change: alpha re-pointed (same version, other hash), bravo
    // upgraded, charlie removed, echo added, delta as it was; in the
    // requirements, xray's hash replaced, yankee upgraded, zulu removed,
    // whiskey added, and the typosquat left as it was.
    std::fs::write(
        dir.join("uv.lock"),
        uv_lock(&[
            ("alpha", "1.0", 'e'),
            ("bravo", "2.0", 'b'),
            ("delta", "1.0", 'd'),
            ("echo", "1.0", 'f'),
        ]),
    )
    .unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        requirements(&[
            ("xray", "1.0", '9'),
            ("yankee", "2.0", '2'),
            ("reqeusts", "2.31.0", '4'),
            ("whiskey", "1.0", '5'),
        ]),
    )
    .unwrap();
    git(dir, &["commit", "-q", "-am", "change"]);
}

fn audit(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = customs(dir);
    cmd.args(["audit", "--offline", "--no-scan", "--no-provenance"]);
    cmd.args(extra);
    run(&mut cmd)
}

#[test]
fn diff_base_judges_only_what_the_change_brings() {
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path());
    let (code, out, err) = audit(
        tmp.path(),
        &[
            "--diff-base",
            "HEAD~1",
            "--format",
            "json",
            "uv.lock",
            "requirements.txt",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let diff = &report["diff"];
    assert_eq!(diff["base"], "HEAD~1");
    let changes: Vec<String> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}->{} {}",
                c["lockfile"].as_str().unwrap(),
                c["line"],
                c["kind"].as_str().unwrap(),
                c["from"].as_str().unwrap_or("-"),
                c["to"].as_str().unwrap_or("-"),
                c["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            "uv.lock 5 repointed 1.0->1.0 alpha",
            "uv.lock 13 upgraded 1.0->2.0 bravo",
            "uv.lock 21 removed 1.0->- charlie",
            "uv.lock 29 added -->1.0 echo",
            "requirements.txt 4 added -->1.0 whiskey",
            "requirements.txt 1 repointed 1.0->1.0 xray",
            "requirements.txt 2 upgraded 1.0->2.0 yankee",
            "requirements.txt 3 removed 1.0->- zulu",
        ],
        "{diff}"
    );
    assert_eq!(
        diff["summary"],
        "2 added, 2 upgraded, 2 re-pointed, 2 removed"
    );
    // The re-pointed pins are findings of their own; the typosquat left as
    // it was is already present, not counted.
    let counted: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "index-unavailable")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["package"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        counted,
        [
            (
                "repointed-pin".to_string(),
                "critical".to_string(),
                "alpha".to_string()
            ),
            ("repointed-pin".into(), "high".into(), "xray".into()),
        ],
        "{report}"
    );
    let xray = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"] == "xray")
        .unwrap();
    assert_eq!(xray["location"]["file"], "requirements.txt");
    assert_eq!(xray["location"]["line"], 1);
    let present: Vec<&str> = diff["already_present"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "index-unavailable")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(present, ["typosquat"], "{diff}");
    let verdict_of = |name: &str| {
        diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(verdict_of("alpha"), "fail");
    assert_eq!(verdict_of("charlie"), serde_json::Value::Null);

    // The Markdown summary starts with the change.
    let (_, md, _) = audit(
        tmp.path(),
        &[
            "--diff-base",
            "HEAD~1",
            "--format",
            "markdown",
            "uv.lock",
            "requirements.txt",
        ],
    );
    let mut lines = md.lines().filter(|l| !l.trim().is_empty());
    assert!(
        lines.next().unwrap().starts_with("## ❌ customs failed"),
        "{md}"
    );
    assert_eq!(
        lines.next().unwrap(),
        "**Change since `HEAD~1`: 2 added, 2 upgraded, 2 re-pointed, 2 removed.**",
        "{md}"
    );
    assert!(
        md.contains("| re-pointed | alpha 1.0 | ❌ fail | `uv.lock:5` |"),
        "{md}"
    );
    assert!(md.contains("| upgraded | bravo 1.0 → 2.0 |"), "{md}");
    assert!(
        md.contains("| removed | zulu 1.0 |  | `requirements.txt:3` |"),
        "{md}"
    );

    // Without --diff-base the typosquat counts.
    let (_, out, _) = audit(tmp.path(), &["--format", "json", "requirements.txt"]);
    let report = json(&out);
    assert!(report.get("diff").is_none());
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "typosquat")
    );
}

#[test]
fn a_new_lockfile_is_all_new_and_an_unknown_revision_is_an_error() {
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path());
    std::fs::write(
        tmp.path().join("requirements-dev.txt"),
        requirements(&[("xray", "1.0", '1')]),
    )
    .unwrap();
    let (code, out, err) = audit(
        tmp.path(),
        &[
            "--diff-base",
            "HEAD~1",
            "--format",
            "json",
            "requirements-dev.txt",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("requirements-dev.txt did not exist at HEAD~1: every package in it is new"),
        "{err}"
    );
    assert_eq!(json(&out)["diff"]["summary"], "1 added");

    let (code, _, err) = audit(
        tmp.path(),
        &["--diff-base", "no-such-branch", "requirements.txt"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--diff-base no-such-branch"), "{err}");
    assert!(err.contains("fatal"), "{err}");
    let (code, _, err) = audit(tmp.path(), &["--diff-base", "--help", "requirements.txt"]);
    assert_eq!(code, 2, "{err}");
    // Nothing in the repository changed.
    let status = Command::new("git")
        .arg("-C")
        .arg(tmp.path())
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "?? requirements-dev.txt"
    );
}

#[test]
fn a_package_added_in_an_included_file_is_part_of_the_change() {
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.join("deps")).unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        "-r deps/common.txt\nsix==1.16.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("deps/common.txt"), "idna==3.7\n").unwrap();
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    std::fs::write(dir.join("deps/common.txt"), "idna==3.7\nreqeusts==2.31.0\n").unwrap();
    git(dir, &["commit", "-q", "-am", "change"]);
    let (code, out, err) = audit(
        dir,
        &[
            "--diff-base",
            "HEAD~1",
            "--format",
            "json",
            "requirements.txt",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let report = json(&out);
    let diff = &report["diff"];
    assert_eq!(diff["summary"], "1 added", "{diff}");
    assert_eq!(diff["changes"][0]["lockfile"], "deps/common.txt");
    assert_eq!(diff["changes"][0]["line"], 2);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "typosquat" && f["location"]["file"] == "deps/common.txt"),
        "{report}"
    );
}

#[test]
fn an_environment_audited_with_a_diff_base_is_judged_whole() {
    if !has_git() {
        eprintln!("skipped: no git on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    repository(tmp.path());
    let venv = tmp.path().join("venv");
    std::fs::create_dir_all(&venv).unwrap();
    crate::env::environment(&venv);
    let (_, out, err) = audit(
        tmp.path(),
        &[
            "--diff-base",
            "HEAD~1",
            "--format",
            "json",
            "--env",
            "venv",
            "uv.lock",
        ],
    );
    let report = json(&out);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "record-mismatch"),
        "{err}\n{report}"
    );
}
