use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::package::SourceKind;

fn parse_str(text: &str) -> Result<Lockfile, LockfileError> {
    parse(
        Path::new("requirements.txt"),
        text,
        &ParseOptions::default(),
    )
}

fn summary(lock: &Lockfile) -> Vec<(String, Option<String>, SourceKind, u32)> {
    lock.packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.as_ref().map(|v| v.as_str().to_string()),
                p.source.kind,
                p.origin.line,
            )
        })
        .collect()
}

#[test]
fn pip_compile_layout_with_hashes_and_via_comments() {
    let text = "#\n# pip-compile --generate-hashes\n#\nasgiref==3.8.1 \\\n    --hash=sha256:3e1e3ecc849832fe52ccf2cb6686b7a55f82bb1d6aee72a58826471390335e47 \\\n    --hash=sha256:c343bd80a0bec947a9860adb4c432ffa7db769836c64238fc34bdc3fec84d590\n    # via django\ndjango==5.0.6 \\\n    --hash=sha256:8363ac062bb4ef7c3f12d078f6fa5d154031d129a15170a1066412af49d30905\n    # via -r requirements.in\n";
    let lock = parse_str(text).unwrap();
    assert_eq!(
        summary(&lock),
        vec![
            (
                "asgiref".into(),
                Some("3.8.1".into()),
                SourceKind::Registry,
                4
            ),
            (
                "django".into(),
                Some("5.0.6".into()),
                SourceKind::Registry,
                8
            ),
        ]
    );
    assert_eq!(lock.packages[0].artifacts.len(), 2);
    assert!(lock.findings.is_empty());
}

#[test]
fn the_backslash_into_comment_trap() {
    // The hash line continues into a comment: pip ends the requirement there.
    let text = "six==1.16.0 \\\n    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926 \\\n    # via foo\nattrs==23.1.0\n";
    let lock = parse_str(text).unwrap();
    assert_eq!(lock.packages.len(), 2);
    assert_eq!(lock.packages[0].artifacts.len(), 1);
    assert_eq!(lock.packages[1].origin.line, 4);
}

#[test]
fn unpinned_forms_give_findings_not_errors() {
    let text = "requests\nflask>=2\nnumpy==1.*\nclick~=8.1\nsix==1.16.0\nrich==13.0 ; python_version >= '3.8'\n";
    let lock = parse_str(text).unwrap();
    let lines: Vec<_> = lock
        .findings
        .iter()
        .map(|f| (f.package.as_ref().unwrap().to_string(), f.location.line))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("requests".into(), Some(1)),
            ("flask".into(), Some(2)),
            ("numpy".into(), Some(3)),
            ("click".into(), Some(4)),
        ]
    );
    assert_eq!(
        lock.packages[5].markers.as_deref(),
        Some("python_full_version >= '3.8'")
    );
}

#[test]
fn vcs_urls_paths_and_editables() {
    let text = "-e git+https://git.example/org/a.git@0123456789abcdef0123456789abcdef01234567#egg=a\ngit+https://git.example/org/b.git@main#egg=b\nc @ https://files.example/c-1.0.tar.gz#sha256=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nhttps://files.example/d-2.0-py3-none-any.whl\n./local/e\n-e ./f\n./dist/g-3.0.tar.gz\nh @ git+https://git.example/h@v1\n";
    let lock = parse_str(text).unwrap();
    assert_eq!(
        summary(&lock),
        vec![
            ("a".into(), None, SourceKind::Editable, 1),
            ("b".into(), None, SourceKind::Git, 2),
            ("c".into(), Some("1.0".into()), SourceKind::Url, 3),
            ("d".into(), Some("2.0".into()), SourceKind::Url, 4),
            ("e".into(), None, SourceKind::Directory, 5),
            ("f".into(), None, SourceKind::Editable, 6),
            ("g".into(), Some("3.0".into()), SourceKind::Path, 7),
            ("h".into(), None, SourceKind::Git, 8),
        ]
    );
    let unpinned: Vec<_> = lock
        .findings
        .iter()
        .map(|f| f.package.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(unpinned, vec!["b", "d", "h"]);
    assert_eq!(
        lock.packages[0].source.commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(
        lock.packages[2].artifacts[0].sha256(),
        Some("a".repeat(64).as_str())
    );
}

#[test]
fn index_options_and_env_vars() {
    let mut env = BTreeMap::new();
    env.insert("TOKEN".to_string(), "t0k".to_string());
    let text = "--index-url https://u:${TOKEN}@index.example/simple\n--extra-index-url https://mirror.example/simple\n-f ./wheels\n--pre\n--require-hashes\nsix==1.16.0\n";
    let lock = parse(Path::new("r.txt"), text, &ParseOptions { env }).unwrap();
    assert_eq!(lock.indexes.len(), 3);
    assert!(
        lock.indexes
            .iter()
            .any(|i| i.url == "https://u:t0k@index.example/simple" && i.role == "index-url")
    );
    assert_eq!(
        lock.packages[0].index_url.as_deref(),
        Some("https://u:t0k@index.example/simple")
    );
    assert_eq!(
        lock.options.get("require-hashes").map(String::as_str),
        Some("true")
    );
}

#[test]
fn errors_name_the_line() {
    let e = parse_str("six==1\n--bogus-option\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let e = parse_str("six==1\nnot a requirement!!\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    let e = parse_str("--hash=sha256:aa\n").unwrap_err();
    assert_eq!(e.line, Some(1));
    let e = parse_str("six==1 --hash=nothex\n").unwrap_err();
    assert!(e.message.contains("--hash"), "{e}");
    let e = parse_str("-r https://index.example/reqs.txt\n").unwrap_err();
    assert!(e.message.contains("remote"), "{e}");
    let e = parse_str("-r does-not-exist.txt\n").unwrap_err();
    assert_eq!(e.line, Some(1));
}

#[test]
fn includes_constraints_and_cycles() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("req")).unwrap();
    std::fs::write(d.join("req/base.txt"), "django==5.0.6\nrequests\n").unwrap();
    std::fs::write(
        d.join("req/constraints.txt"),
        "requests==2.32.3\nurllib3==2.2.1\n",
    )
    .unwrap();
    std::fs::write(
        d.join("req/dev.txt"),
        "-r base.txt\n-c constraints.txt\npytest==8.2.0\n",
    )
    .unwrap();
    let dev = d.join("req/dev.txt");
    let text = std::fs::read_to_string(&dev).unwrap();
    let lock = parse(&dev, &text, &ParseOptions::default()).unwrap();
    let got: Vec<_> = lock
        .packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.as_ref().map(|v| v.to_string()),
                p.origin
                    .file
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                p.origin.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("django".into(), Some("5.0.6".into()), "base.txt".into(), 1),
            (
                "requests".into(),
                Some("2.32.3".into()),
                "base.txt".into(),
                2
            ),
            ("pytest".into(), Some("8.2.0".into()), "dev.txt".into(), 3),
            (
                "urllib3".into(),
                Some("2.2.1".into()),
                "constraints.txt".into(),
                2
            ),
        ]
    );
    assert!(lock.findings.is_empty(), "{:?}", lock.findings);
    assert_eq!(lock.includes.len(), 2);

    std::fs::write(d.join("a.txt"), "-r b.txt\n").unwrap();
    std::fs::write(d.join("b.txt"), "six==1\n-r a.txt\n").unwrap();
    let a = d.join("a.txt");
    let e = parse(&a, "-r b.txt\n", &ParseOptions::default()).unwrap_err();
    assert!(e.message.contains("cycle"), "{e}");
    assert_eq!(e.line, Some(2));
}
