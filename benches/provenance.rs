//! Offline verification of a real PEP 740 provenance object (sampleproject
//! 4.0.0's sdist) against the embedded Sigstore root. The object is read from
//! `../shared/fixtures/pypi` (not part of the project); without it the bench
//! says so and measures nothing. Run with `cargo bench --bench provenance`.

#![allow(clippy::print_stdout, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use customs::provenance::{Provenance, Verdict, Verifier};

const SHA256: &str = "0ace7980f82c5815ede4cd7bf9f6693684cec2ae47b9b7ade9add533b8627c6b";

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/pypi/provenance/sampleproject-4.0.0.tar.gz.provenance.json");
    let Ok(bytes) = std::fs::read(&path) else {
        println!("skipped: {} is not here", path.display());
        return;
    };
    let verifier = Verifier::embedded().expect("embedded root");
    c.bench_function("parse + verify 1 provenance object", |b| {
        b.iter(|| {
            let doc = Provenance::parse(black_box(&bytes)).expect("parses");
            let bundle = &doc.bundles[0];
            let verdict = verifier.verify(&bundle.attestations[0], SHA256, &bundle.publisher);
            assert!(matches!(verdict, Verdict::Verified { .. }));
        })
    });
    c.bench_function("load the embedded trusted root", |b| {
        b.iter(|| Verifier::embedded().expect("embedded root"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
