//! Every lockfile parser on arbitrary text. The first byte picks the format.
#![no_main]

use std::path::Path;

use customs::lockfile::{self, Format, ParseOptions};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 6] = [
    Format::UvLock,
    Format::PoetryLock,
    Format::Requirements,
    Format::Pylock,
    Format::PdmLock,
    Format::PipfileLock,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let format = FORMATS[usize::from(first) % FORMATS.len()];
    if let Ok(text) = lockfile::decode(rest) {
        let _ = lockfile::parse(Path::new("fuzz-input"), format, &text, &ParseOptions::default());
    }
});
