//! Helpers for running the built binary hermetically.
#![allow(dead_code)] // helpers are shared by test modules that use different subsets

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// `../shared` when it exists (CI has it; a user's clone does not).
pub fn shared() -> Option<PathBuf> {
    let p = root().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// Where this test process's commands keep their caches: one directory
/// per process, and those of earlier processes that have ended are removed
/// (where `/proc` tells which have).
fn cache_root() -> &'static Path {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let base = std::env::temp_dir().join("customs-it-caches");
        let ended =
            |pid: &str| Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists();
        for e in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.parse::<u32>().is_ok() && ended(&name) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        base.join(std::process::id().to_string())
    })
}

/// A `customs` command with a scrubbed environment: no CI variables, no index
/// variables, no proxy, a fixed clock unless the test sets one, run in `dir`.
pub fn customs(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_customs"));
    cmd.current_dir(dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("GITHUB_")
            || k.starts_with("CUSTOMS_")
            || k.starts_with("PIP_")
            || k.starts_with("UV_")
            || k.to_ascii_lowercase().ends_with("_proxy")
            || k == "CI"
        {
            cmd.env_remove(k);
        }
    }
    // A fresh, empty cache per command: tests never see the user's cache or
    // each other's (tests of the cache pass --cache-dir, which wins).
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cache = cache_root().join(n.to_string());
    // The advisory database is fetched only by the tests of it (which
    // remove this): every other test would otherwise ask OSV's host.
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env("CUSTOMS_CACHE_DIR", cache)
        .env("CUSTOMS_NO_ADVISORIES", "1");
    cmd
}

/// `customs audit --format json --no-provenance` in `dir`, asking the index
/// at `index_url`, with its cache in `dir/cache`; the caller adds options
/// and the lockfile.
pub fn audit_json(dir: &Path, index_url: &str) -> Command {
    let mut cmd = customs(dir);
    cmd.args([
        "audit",
        "--format",
        "json",
        "--no-provenance",
        "--index-url",
        index_url,
        "--cache-dir",
    ])
    .arg(dir.join("cache"));
    cmd
}

/// Runs and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run customs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Parses a JSON report, with the output in the panic message when it is not JSON.
pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// A gzip-compressed tar of `files` (path, content), built in memory.
pub fn targz_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, p, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// Asserts that `sarif` validates against the official SARIF 2.1.0 schema
/// (from `../shared`); says it was skipped when `../shared` is absent.
pub fn assert_valid_sarif(sarif: &serde_json::Value) {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found, SARIF not validated against the official schema");
        return;
    };
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shared.join("schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The sha256 of `bytes` in hex, as the index publishes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The sha256 of `bytes` as a RECORD writes it (urlsafe base64, no padding).
pub fn record_digest(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(bytes))
}
