//! Hostile and broken inputs: every one exits 2 with the file (and line), none panics or hangs.

use std::path::Path;

use crate::common::{customs, run};

fn audit(dir: &Path, name: &str, content: &[u8]) -> (i32, String) {
    std::fs::write(dir.join(name), content).unwrap();
    let (code, _, err) = run(customs(dir).args(["audit", "--offline", name]));
    assert!(!err.contains("panicked"), "{name}: {err}");
    (code, err)
}

#[test]
fn broken_lockfiles_exit_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "uv.lock",
            b"version = 1\n\n[[package]]\nname = \"six\"\nversion = \n",
            "uv.lock:5",
        ),
        (
            "uv.lock",
            b"version = 1\n[[package]]\nname = [1]\n",
            "uv.lock:3",
        ),
        (
            "poetry.lock",
            b"[[package]]\nname = \"six\"\nfiles = \"nope\"\n",
            "poetry.lock:3",
        ),
        ("pdm.lock", b"[metadata]\nlock_version = 4\n", "pdm.lock:2"),
        (
            "pylock.toml",
            b"lock-version = \"1.0\"\n[[packages]]\nversion = \"1\"\n",
            "pylock.toml:2",
        ),
        (
            "Pipfile.lock",
            b"{\n  \"_meta\": {},\n  \"default\": {\n    \"six\": {\"version\": [\n",
            "Pipfile.lock:",
        ),
        (
            "requirements.txt",
            b"six==1.16.0\nsix===\n",
            "requirements.txt:2",
        ),
        (
            "requirements.txt",
            b"six==1.16.0\n--no-such-option\n",
            "requirements.txt:2",
        ),
        ("uv.lock", b"version = 1\n\x00\x01\x02garbage", "uv.lock"),
        (
            "requirements.txt",
            b"\xff\xd8\xff\xe0 binary \x89PNG",
            "requirements.txt",
        ),
    ];
    for (name, content, want) in cases {
        let (code, err) = audit(d, name, content);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(want), "{name}: expected `{want}` in: {err}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let deep = format!(
        "version = 1\nx = {}1{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (code, err) = audit(tmp.path(), "uv.lock", deep.as_bytes());
    assert_eq!(code, 2, "{err}");
    let deep_json = format!(
        "{{\"_meta\": {{}}, \"default\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (code, err) = audit(tmp.path(), "Pipfile.lock", deep_json.as_bytes());
    assert_eq!(code, 2, "{err}");
    let tables = "[a.".to_string() + &"b.".repeat(50_000) + "c]\n";
    let (code, err) = audit(tmp.path(), "poetry.lock", tables.as_bytes());
    assert!(code == 2 || code == 0, "{err}");
}

#[test]
fn oversized_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let big = vec![b'#'; 65 * 1024 * 1024];
    let (code, err) = audit(tmp.path(), "requirements.txt", &big);
    assert_eq!(code, 2);
    assert!(err.contains("larger than"), "{err}");
}

#[test]
fn directories_discover_lockfiles_and_say_what_was_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
    std::fs::write(d.join("uv.lock"), "version = 1\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = { registry = \"https://index.example/simple\" }\n").unwrap();
    std::fs::write(d.join("requirements.in"), "six\n").unwrap();
    std::fs::write(d.join("requirements.txt"), "six==1.16.0\n").unwrap();
    let (code, out, err) = run(customs(d).args(["audit", "--offline", "--format", "json"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read ./requirements.txt")
            || err.contains("read requirements.txt")
            || err.contains("requirements.txt as requirements"),
        "{err}"
    );
    assert!(
        err.contains("skipped")
            && err.contains("pyproject.toml")
            && err.contains("requirements.in"),
        "{err}"
    );
    let report = crate::common::json(&out);
    assert_eq!(report["inputs"].as_array().unwrap().len(), 2);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(report["packages"].as_array().unwrap().len(), 2);
}

#[test]
fn inputs_that_crashed_a_fuzzer_are_errors_now() {
    let dir = crate::common::testdata("fuzz-regressions");
    for format_dir in std::fs::read_dir(&dir).unwrap().flatten() {
        for case in std::fs::read_dir(format_dir.path()).unwrap().flatten() {
            let (code, _, err) = run(customs(&crate::common::root()).args([
                "audit",
                "--offline",
                "--no-scan",
                case.path().to_str().unwrap(),
            ]));
            assert!(
                !err.contains("panicked"),
                "{}: {err}",
                case.path().display()
            );
            assert!(
                code == 0 || code == 1 || code == 2,
                "{}: {code}",
                case.path().display()
            );
        }
    }
}
