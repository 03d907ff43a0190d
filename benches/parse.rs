//! Parsing speed: a generated 1,000-package uv.lock and the real 298-package one.
//! Run with `cargo bench --bench parse`.

use std::fmt::Write;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use customs::lockfile::{self, Format, ParseOptions};

/// A uv.lock with `n` registry packages, each with an sdist and two wheels.
fn synthetic_uv_lock(n: usize) -> String {
    let mut s = String::from("version = 1\nrevision = 3\nrequires-python = \">=3.11\"\n\n");
    for i in 0..n {
        let h = format!("{i:064x}");
        let _ = write!(
            s,
            "[[package]]\nname = \"package-{i}\"\nversion = \"1.{i}.0\"\nsource = {{ registry = \"https://index.example/simple\" }}\ndependencies = [\n    {{ name = \"package-{}\" }},\n]\nsdist = {{ url = \"https://files.example/packages/aa/bb/package_{i}-1.{i}.0.tar.gz\", hash = \"sha256:{h}\", size = 12345, upload-time = \"2026-01-01T00:00:00.000Z\" }}\nwheels = [\n    {{ url = \"https://files.example/packages/aa/bb/package_{i}-1.{i}.0-py3-none-any.whl\", hash = \"sha256:{h}\", size = 2345, upload-time = \"2026-01-01T00:00:01.000Z\" }},\n    {{ url = \"https://files.example/packages/aa/bb/package_{i}-1.{i}.0-cp312-cp312-manylinux_2_17_x86_64.whl\", hash = \"sha256:{h}\", size = 345, upload-time = \"2026-01-01T00:00:02.000Z\" }},\n]\n\n",
            (i + 1) % n
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let opts = ParseOptions::default();
    let synthetic = synthetic_uv_lock(1000);
    c.bench_function("uv.lock 1000 packages", |b| {
        b.iter(|| {
            lockfile::parse(
                Path::new("uv.lock"),
                Format::UvLock,
                black_box(&synthetic),
                &opts,
            )
        })
    });
    let real = include_str!("../testdata/lockfiles/uv/large/uv.lock");
    c.bench_function("uv.lock 298 packages (real)", |b| {
        b.iter(|| lockfile::parse(Path::new("uv.lock"), Format::UvLock, black_box(real), &opts))
    });
    let req = include_str!("../testdata/lockfiles/requirements/django-app/requirements.txt");
    c.bench_function("requirements.txt pip-compile (16 pins)", |b| {
        b.iter(|| {
            lockfile::parse(
                Path::new("requirements.txt"),
                Format::Requirements,
                black_box(req),
                &opts,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
