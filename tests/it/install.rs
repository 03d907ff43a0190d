//! The Action's install step (`scripts/install.sh`) against a fake release on
//! a local server: the archive is packed by `scripts/package-release.sh` and
//! the Action's checksums are written by `scripts/release-manifest.sh`, as the
//! release workflow does.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{root, sha256_hex};
use crate::server::{Reply, Server};

const TAG: &str = "v9.8.7";
const TARGETS: [(&str, &str, &str); 5] = [
    ("Linux", "X64", "x86_64-unknown-linux-gnu"),
    ("Linux", "ARM64", "aarch64-unknown-linux-gnu"),
    ("macOS", "X64", "x86_64-apple-darwin"),
    ("macOS", "ARM64", "aarch64-apple-darwin"),
    ("Windows", "X64", "x86_64-pc-windows-msvc"),
];

fn script(name: &str) -> PathBuf {
    root().join("scripts").join(name)
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// A fake release: one archive per target (each "binary" a script that
/// prints its target), a SHA256SUMS, served under `/download/TAG/`, and an
/// Action checkout whose `action-release.sha256` records them.
struct Release {
    server: Server,
    tmp: tempfile::TempDir,
    assets: Vec<(String, Vec<u8>)>,
}

impl Release {
    fn new() -> Self {
        Self::with_binary("echo release binary TARGET")
    }

    /// A release whose binaries run `script` (`TARGET` replaced by the
    /// target triple).
    fn with_binary(body: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dist = tmp.path().join("dist");
        let mut assets = Vec::new();
        for (_, _, target) in TARGETS {
            let bin = tmp.path().join(format!("bin-{target}"));
            write_exec(
                &bin,
                &format!("#!/bin/sh\n{}\n", body.replace("TARGET", target)),
            );
            let archive = sh(Command::new("bash")
                .arg(script("package-release.sh"))
                .arg(&bin)
                .arg(target)
                .arg(&dist));
            let name = format!("customs-{target}.tar.gz");
            assert_eq!(archive.trim(), dist.join(&name).to_str().unwrap());
            assets.push((name, std::fs::read(dist.join(archive.trim())).unwrap()));
        }
        let sums: String = assets
            .iter()
            .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
            .collect();
        std::fs::write(dist.join("SHA256SUMS"), &sums).unwrap();
        let action = tmp.path().join("action");
        std::fs::create_dir_all(&action).unwrap();
        let manifest = sh(Command::new("bash")
            .arg(script("release-manifest.sh"))
            .arg(dist.join("SHA256SUMS"))
            .arg(TAG)
            .arg("owner/customs"));
        std::fs::write(action.join("action-release.sha256"), manifest).unwrap();
        let release = Self {
            server: Server::start(),
            tmp,
            assets,
        };
        for (name, bytes) in &release.assets {
            release.serve(name, bytes.clone());
        }
        release.serve("SHA256SUMS", sums.into_bytes());
        release
    }

    fn serve(&self, name: &str, body: Vec<u8>) {
        self.server
            .route(&format!("/download/{TAG}/{name}"), vec![Reply::bytes(body)]);
    }

    fn hits(&self, name: &str) -> usize {
        self.server.hits(&format!("/download/{TAG}/{name}"))
    }

    fn action(&self) -> PathBuf {
        self.tmp.path().join("action")
    }

    /// The install step for `os`/`arch`, as action.yml runs it, with a clean
    /// environment, a fake `cargo` (it records that it ran and leaves a
    /// script as the built binary) and no `gh` unless a test adds one.
    fn install(&self, os: &str, arch: &str) -> Command {
        let tools = self.tmp.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let cargo = tools.join("cargo");
        write_exec(
            &cargo,
            "#!/bin/sh\n\
             echo \"$@ token=${GH_TOKEN:-none}\" >> \"$(dirname \"$0\")/cargo.log\"\n\
             while [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
             mkdir -p \"$root/bin\"\n\
             printf '#!/bin/sh\\necho built from source\\n' > \"$root/bin/customs\"\n\
             cp \"$root/bin/customs\" \"$root/bin/customs.exe\"\n\
             chmod +x \"$root/bin/customs\" \"$root/bin/customs.exe\"\n",
        );
        let _ = std::fs::remove_file(self.output());
        let mut cmd = Command::new("bash");
        cmd.arg(script("install.sh"))
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", tools.display()))
            .env("HOME", self.tmp.path())
            .env("ACTION_PATH", self.action())
            .env("RUNNER_OS", os)
            .env("RUNNER_ARCH", arch)
            .env("RUNNER_TEMP", self.tmp.path().join("runner-temp"))
            .env("RUNNER_TOOL_CACHE", self.tmp.path().join("tool-cache"))
            .env("GITHUB_OUTPUT", self.output())
            .env("CARGO", &cargo)
            .env(
                "CUSTOMS_RELEASE_URL",
                format!("http://127.0.0.1:{}/download/{TAG}", self.server.port),
            );
        std::fs::create_dir_all(self.tmp.path().join("runner-temp")).unwrap();
        cmd
    }

    fn output(&self) -> PathBuf {
        self.tmp.path().join("github-output")
    }

    /// The `bin=` the step wrote, if any.
    fn bin(&self) -> Option<PathBuf> {
        std::fs::read_to_string(self.output())
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("bin=").map(PathBuf::from))
    }

    fn cargo_ran(&self) -> bool {
        self.tmp.path().join("tools/cargo.log").exists()
    }

    /// Adds a fake `gh` that exits with `code` and logs its arguments.
    fn fake_gh(&self, code: i32) {
        let tools = self.tmp.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        write_exec(
            &tools.join("gh"),
            &format!(
                "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/gh.log\"\n\
                 case \"$*\" in *--help*) exit 0 ;; esac\nexit {code}\n"
            ),
        );
    }
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn each_runner_gets_its_own_verified_binary_without_compiling() {
    let release = Release::new();
    for (os, arch, target) in TARGETS {
        let (code, log) = run(&mut release.install(os, arch));
        assert_eq!(code, 0, "{os}/{arch}: {log}");
        let asset = format!("customs-{target}.tar.gz");
        assert_eq!(release.hits(&asset), 1, "{os}/{arch} fetches {asset}");
        assert!(
            log.contains(&format!("downloaded {asset} of {TAG}")),
            "{log}"
        );
        assert!(log.contains("attestation not checked"), "{log}");
        let bin = release.bin().expect("bin= output");
        let exe = if os == "Windows" {
            "customs.exe"
        } else {
            "customs"
        };
        assert!(
            bin.ends_with(format!("customs-{target}/{exe}")),
            "{}",
            bin.display()
        );
        if os != "Windows" {
            let printed = sh(&mut Command::new(&bin));
            assert_eq!(printed.trim(), format!("release binary {target}"));
        }
    }
    assert!(!release.cargo_ran(), "the happy path compiles nothing");
    assert_eq!(release.hits("SHA256SUMS"), TARGETS.len());
}

#[test]
fn the_cache_is_used_and_checked_again_on_every_use() {
    let release = Release::new();
    let asset = "customs-x86_64-unknown-linux-gnu.tar.gz";
    assert_eq!(run(&mut release.install("Linux", "X64")).0, 0);
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("using the cached"), "{log}");
    assert_eq!(release.hits(asset), 1, "a warm cache downloads nothing");

    // A cached archive that no longer matches is fetched again, not run.
    let cached = release.tmp.path().join(format!(
        "tool-cache/customs/{TAG}/x86_64-unknown-linux-gnu/{asset}"
    ));
    std::fs::write(&cached, b"changed on disk").unwrap();
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("does not match the recorded SHA-256"), "{log}");
    assert_eq!(release.hits(asset), 2);
    let printed = sh(&mut Command::new(release.bin().unwrap()));
    assert_eq!(printed.trim(), "release binary x86_64-unknown-linux-gnu");
}

#[test]
fn a_tampered_asset_is_refused_not_built_around() {
    let release = Release::new();
    let (name, bytes) = release.assets[0].clone();
    let mut tampered = bytes;
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    release.serve(&name, tampered);
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("refusing to run it"), "{log}");
    assert!(log.contains("but this Action recorded"), "{log}");
    assert_eq!(release.bin(), None, "no binary is handed on");
    assert!(
        !release.cargo_ran(),
        "a mismatch is not papered over by a build"
    );
}

#[test]
fn a_release_checksum_file_that_disagrees_is_refused() {
    let release = Release::new();
    // An attacker who can replace the release's files replaces the archive
    // and SHA256SUMS together; the Action's recorded SHA-256 still disagrees.
    let (name, _) = &release.assets[0];
    let other = format!("{}  {name}\n", "0".repeat(64));
    release.serve("SHA256SUMS", other.into_bytes());
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("SHA256SUMS records"), "{log}");
    assert_eq!(release.bin(), None);

    // A recorded checksum that is not a SHA-256 is an error, not a pass.
    let manifest = release.action().join("action-release.sha256");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let broken = text.replacen(&sha256_hex(&release.assets[0].1), "not-a-digest", 1);
    std::fs::write(&manifest, broken).unwrap();
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("which is not a SHA-256"), "{log}");
}

#[test]
fn the_attestation_is_checked_when_gh_and_a_token_are_there() {
    let release = Release::new();
    release.fake_gh(1);
    let (code, log) = run(release.install("Linux", "X64").env("GH_TOKEN", "t"));
    assert_eq!(code, 1, "{log}");
    assert!(
        log.contains("attestation of customs-x86_64-unknown-linux-gnu.tar.gz does not verify"),
        "{log}"
    );
    assert_eq!(release.bin(), None);
    let gh_log = std::fs::read_to_string(release.tmp.path().join("tools/gh.log")).unwrap();
    assert!(
        gh_log.lines().any(|l| l.starts_with("attestation verify ")
            && l.ends_with(
                "--repo owner/customs --signer-workflow owner/customs/.github/workflows/release.yml"
            )),
        "{gh_log}"
    );

    release.fake_gh(0);
    let (code, log) = run(release.install("Linux", "X64").env("GH_TOKEN", "t"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("artifact attestation of"), "{log}");
    assert!(log.contains("verified for owner/customs"), "{log}");

    // Required but impossible (no token): refused rather than skipped.
    let _ = std::fs::remove_dir_all(release.tmp.path().join("tool-cache"));
    std::fs::remove_file(release.tmp.path().join("tools/gh")).unwrap();
    let (code, log) = run(release
        .install("Linux", "X64")
        .env("CUSTOMS_VERIFY_ATTESTATION", "true"));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("cannot be checked here"), "{log}");
    assert_eq!(release.bin(), None);
}

#[test]
fn refs_without_a_matching_release_build_from_source_and_say_so() {
    // A branch or commit ref: no recorded checksums.
    let release = Release::new();
    std::fs::remove_file(release.action().join("action-release.sha256")).unwrap();
    let (code, log) = run(release.install("Linux", "X64").env("GH_TOKEN", "secret"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("is not a release"), "{log}");
    assert!(
        log.contains("building customs from the Action's source"),
        "{log}"
    );
    let printed = sh(&mut Command::new(release.bin().unwrap()));
    assert_eq!(printed.trim(), "built from source");
    let cargo_log = std::fs::read_to_string(release.tmp.path().join("tools/cargo.log")).unwrap();
    assert!(
        cargo_log.starts_with("install --locked --path "),
        "{cargo_log}"
    );
    assert!(
        cargo_log.contains("token=none"),
        "the build gets no token: {cargo_log}"
    );

    // A release whose files are gone (404).
    let release = Release::new();
    release.server.route(
        &format!("/download/{TAG}/{}", release.assets[0].0),
        vec![Reply::status(404)],
    );
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("could not download"), "{log}");
    assert!(release.cargo_ran());

    // A runner the release has no binary for.
    let release = Release::new();
    let (code, log) = run(&mut release.install("Linux", "RISCV64"));
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("has no binary for this runner (Linux RISCV64)"),
        "{log}"
    );
    assert!(release.cargo_ran());
}

#[test]
fn a_verified_binary_that_cannot_run_here_is_built_from_source() {
    let release = Release::with_binary("exit 127");
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("does not run on this runner"), "{log}");
    assert!(release.cargo_ran());
    let printed = sh(&mut Command::new(release.bin().unwrap()));
    assert_eq!(printed.trim(), "built from source");
}

#[test]
fn a_manifest_without_a_repository_is_an_error() {
    let release = Release::new();
    let manifest = release.action().join("action-release.sha256");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("# repository:"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&manifest, text).unwrap();
    let (code, log) = run(&mut release.install("Linux", "X64"));
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("names no repository"), "{log}");
}

#[test]
fn action_yml_installs_with_the_script_and_compiles_nothing_itself() {
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains("scripts/install.sh"), "{action}");
    // Comments aside, nothing in the Action itself runs cargo: compiling
    // is the install script's fallback for refs that are not releases.
    let code: Vec<&str> = action
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        !code.iter().any(|l| l.contains("cargo")),
        "{}",
        code.join("\n")
    );
}
