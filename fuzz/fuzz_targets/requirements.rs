//! The requirements parser on arbitrary bytes (decoded as customs decodes files).
#![no_main]

use std::path::Path;

use customs::lockfile::{self, Format, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = lockfile::decode(data) {
        let _ = lockfile::parse(Path::new("fuzz-input"), Format::Requirements, &text, &ParseOptions::default());
    }
});
