//! The archive reader and scanner on arbitrary bytes.
#![no_main]

use customs::scan::{Limits, scan_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 2_000,
        max_member: 1 << 20,
        max_total: 64 << 20,
        max_ratio: 250,
        ..Limits::default()
    };
    let _ = scan_bytes("fuzz-1.0.tar.gz", data, &limits);
    let _ = scan_bytes("fuzz-1.0-py3-none-any.whl", data, &limits);
});
