//! Build script: a digest of the scanner's own source, so that cached scan
//! verdicts (keyed by archive sha256 and scanner version) are not reused
//! after the scanner's code changes what it reports.

use std::path::Path;

fn main() {
    let mut files = vec![Path::new("src/scan.rs").to_path_buf()];
    let mut dirs = vec![Path::new("src/scan").to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    files.sort();
    // FNV-1a, 64 bits: stable across toolchains, no dependency.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        for b in f
            .to_string_lossy()
            .bytes()
            .chain(std::fs::read(f).unwrap_or_default())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=CUSTOMS_SCANNER_DIGEST={h:016x}");
    println!("cargo:rerun-if-changed=src/scan.rs");
    println!("cargo:rerun-if-changed=src/scan");
}
