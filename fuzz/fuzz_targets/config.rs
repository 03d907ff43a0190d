//! The config parsers on arbitrary text.
#![no_main]

use std::path::Path;

use customs::policy::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = config::parse_customs_toml(Path::new("customs.toml"), text);
        let _ = config::parse_pyproject(Path::new("pyproject.toml"), text);
    }
});
