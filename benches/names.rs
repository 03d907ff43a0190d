//! Name checks: 1,000 names against the shipped top-packages list, after the
//! index is built. Run with `cargo bench --bench names`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use customs::checks::typosquat;
use customs::names;

fn bench(c: &mut Criterion) {
    let top = names::top();
    // Half real names, half one-edit variants of them (the expensive path).
    let mut queries: Vec<String> = Vec::new();
    for i in 0..500u32 {
        let name = top.name(i * 20).unwrap_or("requests");
        queries.push(name.to_string());
        let mut v: Vec<char> = name.chars().collect();
        if v.len() > 3 {
            v.swap(1, 2);
        }
        queries.push(v.into_iter().collect());
    }
    c.bench_function("typosquat 1000 names", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| typosquat::candidate(black_box(q), top, &[]).is_some())
                .count()
        })
    });
    c.bench_function("build the top-packages index", |b| {
        b.iter(|| {
            names::TopPackages::build(black_box(include_str!("../data/top-packages.txt"))).len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
