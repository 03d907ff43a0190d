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

/// (name, version, source kind, line) of every package `customs audit --offline` reads in `file`.
fn packages_of(dir: &Path, file: &str, extra: &[&str]) -> (Vec<String>, String) {
    let (code, out, err) = run(customs(dir)
        .args([
            "audit",
            "--offline",
            "--no-scan",
            "--no-provenance",
            "--format",
            "json",
        ])
        .args(extra)
        .arg(file));
    assert!(code == 0 || code == 1, "{file}: exit {code}\n{err}");
    let report = json(&out);
    let mut v: Vec<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap_or("-"),
                p["source"]["kind"].as_str().unwrap(),
                p["line"]
            )
        })
        .collect();
    v.sort();
    (v, err)
}

#[test]
fn lockfiles_under_other_names_are_read_by_their_content() {
    let cases = [
        ("uv/django-app/uv.lock", "uv-lock"),
        ("uv/workspace/uv.lock", "uv-lock"),
        ("uv/empty/uv.lock", "uv-lock"),
        ("poetry/django-app/poetry.lock", "poetry-lock"),
        ("poetry/pre-1-0/poetry.lock", "poetry-lock"),
        ("poetry/v1-1/poetry.lock", "poetry-lock"),
        ("poetry/sources/poetry.lock", "poetry-lock"),
        ("pdm/django-app/pdm.lock", "pdm-lock"),
        ("pdm/v3/pdm.lock", "pdm-lock"),
        ("pipfile/django-app/Pipfile.lock", "pipfile-lock"),
        ("pylock/django-app/pylock.toml", "pylock"),
        ("pylock/edge/pylock.toml", "pylock"),
        ("requirements/django-app/requirements.txt", "requirements"),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (rel, format)) in cases.iter().enumerate() {
        let original = root().join("testdata/lockfiles").join(rel);
        let (want, _) = packages_of(
            original.parent().unwrap(),
            original.file_name().unwrap().to_str().unwrap(),
            &[],
        );
        let renamed = format!("locks-{i}.lock");
        std::fs::copy(&original, tmp.path().join(&renamed)).unwrap();
        let (got, err) = packages_of(tmp.path(), &renamed, &[]);
        assert!(
            err.contains(&format!("read {renamed} as {format} (by its content: ")),
            "{rel}: {err}"
        );
        // Same packages; the file name differs only in the report.
        assert_eq!(got, want, "{rel}");
    }
}

#[test]
fn format_of_overrides_the_guess_and_bad_uses_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::copy(
        root().join("testdata/lockfiles/uv/django-app/uv.lock"),
        d.join("prod.lock"),
    )
    .unwrap();
    std::fs::write(d.join("deps.lock"), "six==1.16.0\n").unwrap();
    let (got, err) = packages_of(d, "deps.lock", &["--format-of", "deps.lock=requirements"]);
    assert_eq!(got, vec!["six 1.16.0 registry 1"]);
    assert!(
        err.contains("read deps.lock as requirements (as --format-of says)"),
        "{err}"
    );
    // A wrong override is the user's word: the parser says what does not fit, at a line.
    let (code, _, err) = run(customs(d).args([
        "audit",
        "--offline",
        "--format-of",
        "prod.lock=requirements",
        "prod.lock",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("prod.lock:"), "{err}");
    for (bad, says) in [
        ("prod.lock=npm", "unknown format `npm`"),
        ("prod.lock", "write FILE=FORMAT"),
        ("other.lock=uv", "other.lock, which this run does not read"),
    ] {
        let (code, _, err) =
            run(customs(d).args(["audit", "--offline", "--format-of", bad, "prod.lock"]));
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn local_sources_pip_accepts_never_stop_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("myapp");
    std::fs::create_dir_all(d.join("local/dir")).unwrap();
    std::fs::write(
        d.join("requirements.txt"),
        "six==1.16.0\n-e .[brotli,cli,http2]\n-e file:.\nfile:///opt/src/tool\n./local/dir[extra]\ndist/wheelie-1.0-py3-none-any.whl\n-e local/dir\n../sibling-2.0.tar.gz\n",
    )
    .unwrap();
    let (got, err) = packages_of(&d, "requirements.txt", &[]);
    assert_eq!(
        got,
        vec![
            "dir - directory 5",
            "dir - editable 7",
            "myapp - editable 2",
            "myapp - editable 3",
            "sibling 2.0 path 8",
            "six 1.16.0 registry 1",
            "tool - directory 4",
            "wheelie 1.0 path 6",
        ],
        "{err}"
    );
}

#[test]
fn the_eval_lockfiles_parse_under_their_own_and_other_names() {
    let Some(shared) = crate::common::shared() else {
        eprintln!("skipped: ../shared/eval/lockfiles is not here");
        return;
    };
    let dir = shared.join("eval/lockfiles");
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = 0;
    for project in std::fs::read_dir(&dir).unwrap().flatten() {
        if !project.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(project.path()).unwrap().flatten() {
            let path = file.path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let (want, err) = packages_of(&project.path(), &name, &[]);
            assert!(want.len() > 20, "{}: {err}", path.display());
            let renamed = format!("{}-{name}.saved", project.file_name().to_str().unwrap());
            std::fs::copy(&path, tmp.path().join(&renamed)).unwrap();
            let (got, _) = packages_of(tmp.path(), &renamed, &[]);
            assert_eq!(got, want, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 6);
}
