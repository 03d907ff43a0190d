//! Advisory matching: 1,000 locked packages against a database of 20,000
//! OSV records (built from a synthetic export, written to a temporary
//! directory), the look-up an audit does. Run with
//! `cargo bench --bench advisories`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use customs::advisories::db::{Database, build};

fn export(records: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..records {
        // Four records per package, as popular packages have.
        let name = format!("pkg-{}", i / 4);
        let record = format!(
            r#"{{"id": "PYSEC-2026-{i}", "aliases": ["GHSA-{i}"], "summary": "a flaw",
               "affected": [{{"package": {{"ecosystem": "PyPI", "name": "{name}"}},
                 "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "{}.2"}}]}}],
                 "versions": ["1.0", "1.1"]}}],
               "severity": [{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}}]}}"#,
            i % 7
        );
        w.start_file(
            format!("PYSEC-2026-{i}.json"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        w.write_all(record.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    build(&export(20_000), "bench", "now")
        .unwrap()
        .write(dir.path())
        .unwrap();
    // Every fifth locked package has advisories.
    let locked: Vec<(String, String)> = (0..1000)
        .map(|i| (format!("pkg-{}", i * 5), format!("{}.1", i % 9)))
        .collect();
    c.bench_function("advisories: open + 1000 packages x 20000 records", |b| {
        b.iter(|| {
            let db = Database::open(dir.path()).unwrap();
            let mut hits = 0;
            for (name, version) in &locked {
                for r in db.records_for(name).unwrap() {
                    if r.affects(black_box(name), version) {
                        hits += 1;
                    }
                }
            }
            hits
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
