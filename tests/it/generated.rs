//! Lockfiles written by the real tools (uv, poetry, pdm, pip-compile, pipenv,
//! uv's pylock export) for one small shared project, under
//! `testdata/lockfiles/generated/<tool>/`. Beside each is `expected.txt`: the
//! `name==version` set the tool itself listed as locked (see that folder's
//! README). customs must read each file, under its canonical name and under a
//! non-canonical one (format detected by content), with exactly that set.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::common::{customs, json, run, testdata};

/// (folder under `generated/`, canonical file name, non-canonical name, format).
const CASES: &[(&str, &str, &str, &str)] = &[
    ("uv", "uv.lock", "prod-uv.lock", "uv-lock"),
    ("poetry", "poetry.lock", "prod-poetry.lock", "poetry-lock"),
    ("pdm", "pdm.lock", "prod-pdm.lock", "pdm-lock"),
    ("pip-tools", "requirements.txt", "deps.lock", "requirements"),
    ("pipenv", "Pipfile.lock", "prod-pipenv.lock", "pipfile-lock"),
    ("pylock", "pylock.toml", "prod-pylock.lock", "pylock"),
];

/// The `name==version` lines of `expected.txt`.
fn expected(dir: &Path) -> BTreeSet<String> {
    let path = dir.join("expected.txt");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The format named by the `read <path> as <format>...` line on stderr.
fn read_as(err: &str) -> Option<String> {
    err.lines()
        .filter(|l| l.starts_with("read "))
        .find_map(|l| l.split_once(" as ").map(|(_, rest)| rest))
        .map(|rest| {
            rest.split([':', ' '])
                .next()
                .unwrap_or_default()
                .to_string()
        })
}

/// Audits `file` (run in `cwd`) and checks the format and the registry package set.
fn audit(cwd: &Path, file: &str, format: &str, want: &BTreeSet<String>) {
    let (code, out, err) = run(customs(cwd).args([
        "audit",
        "--offline",
        "--no-scan",
        "--no-provenance",
        "--format",
        "json",
        file,
    ]));
    assert!(code == 0 || code == 1, "{file}: exit {code}\n{err}");
    assert_eq!(
        read_as(&err).as_deref(),
        Some(format),
        "{file}: wrong or missing `read ... as` line\n{err}"
    );
    let report = json(&out);
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{file}: {inputs:?}");
    assert_eq!(inputs[0]["format"], format, "{file}: {inputs:?}");
    let got: BTreeSet<String> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"]["kind"] == "registry")
        .map(|p| {
            format!(
                "{}=={}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{file} ({format}): customs' registry packages differ from the tool's\n\
         missing (tool locked, customs did not report): {missing:?}\n\
         extra (customs reported, tool did not lock): {extra:?}"
    );
}

/// Checks one folder: the file under its canonical name, then a copy of it
/// under a non-canonical name in a temp dir.
fn check(tool: &str, canonical: &str, renamed: &str, format: &str) {
    let dir = testdata(&format!("lockfiles/generated/{tool}"));
    let src = dir.join(canonical);
    assert!(src.is_file(), "{} missing", src.display());
    let want = expected(&dir);
    assert!(!want.is_empty(), "{tool}: empty expected.txt");

    audit(&dir, canonical, format, &want);

    let tmp = tempfile::tempdir().unwrap();
    fs::copy(&src, tmp.path().join(renamed)).unwrap();
    audit(tmp.path(), renamed, format, &want);
}

#[test]
fn every_generated_lockfile_has_the_tools_package_set() {
    for &(tool, canonical, renamed, format) in CASES {
        check(tool, canonical, renamed, format);
    }
}

#[test]
fn every_generated_folder_is_tested() {
    let root = testdata("lockfiles/generated");
    let mut dirs: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut known: Vec<String> = CASES
        .iter()
        .map(|c| c.0.to_string())
        .chain(["pipenv-categories".to_string()])
        .collect();
    known.sort();
    assert_eq!(dirs, known, "a folder under {} has no test", root.display());
}

#[test]
fn generated_lockfiles_name_no_real_index() {
    let root = testdata("lockfiles/generated");
    let mut pending = vec![root];
    let mut files = 0;
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            files += 1;
            let text = fs::read_to_string(&path).unwrap();
            for host in ["pypi.org", "pythonhosted.org"] {
                assert!(!text.contains(host), "{} names {host}", path.display());
            }
        }
    }
    assert!(files > 1, "no generated files found");
}

/// pipenv's custom package categories: the optional group is a `[pretty]`
/// table in the Pipfile, locked by pipenv as a top-level `"pretty"` object in
/// Pipfile.lock beside `default` and `develop`: rich, markdown-it-py, mdurl
/// and pygments are in it and must be audited too.
#[test]
fn pipenv_custom_category_is_read() {
    check(
        "pipenv-categories",
        "Pipfile.lock",
        "prod-pipenv.lock",
        "pipfile-lock",
    );
}
