//! Scanner v2's passes (parse, resolve, hidden code, flows to runners and
//! to ways out, where code runs) on a 1 MB Python file of ordinary code
//! with executor, source and sink names in it, so that every pass runs; and
//! the whole member analysis on the same file. Run with `cargo bench --bench python`.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

fn one_megabyte() -> String {
    let mut s = String::from("import os, base64, importlib, requests\n\n");
    let mut i = 0;
    while s.len() < 1 << 20 {
        let _ = write!(
            s,
            "def handler_{i}(request, *args, **kwargs):\n    \"\"\"Handle request {i}.\"\"\"\n    data = {{'id': {i}, 'name': 'item-{i}', 'tags': ['a', 'b', 'c']}}\n    if request.method == 'POST':\n        value = getattr(request, 'body', b'')\n        token = os.environ.get('APP_TOKEN')\n        requests.post(URL, json=data, headers={{'t': token}})\n        return compile_response(data, value, status=200 + {i} % 3)\n    return [x * 2 for x in range({i} % 17)]\n\n"
        );
        i += 1;
    }
    s.push_str("exec(base64.b64decode('cHJpbnQoMSk='))\n");
    s
}

fn bench(c: &mut Criterion) {
    let text = one_megabyte();
    c.bench_function("python v2 passes, 1 MB", |b| {
        b.iter(|| {
            let want = customs::scan::python::Want {
                reach: true,
                script: false,
                beacons: false,
                parse: false,
            };
            let a = customs::scan::python::analyse(black_box(&text), want);
            a.hidden.len() + a.leaks.len()
        })
    });
    let Ok(rules) = customs::scan::rules::rules() else {
        return;
    };
    c.bench_function("member analysis (lexical + v2 passes), 1 MB", |b| {
        b.iter(|| {
            customs::scan::analyze::analyze(
                rules,
                "pkg/module.py",
                black_box(text.as_bytes()),
                customs::scan::analyze::Role::Module,
            )
            .len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
