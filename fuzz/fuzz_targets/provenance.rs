//! PEP 740 provenance objects as an index serves them: parsed, and every
//! attestation verified (against the embedded root) for a fixed digest.
#![no_main]

use std::sync::OnceLock;

use customs::provenance::{Provenance, Verifier};
use libfuzzer_sys::fuzz_target;

static VERIFIER: OnceLock<Verifier> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let verifier = VERIFIER.get_or_init(|| Verifier::embedded().expect("embedded root"));
    if let Ok(doc) = Provenance::parse(data) {
        for b in &doc.bundles {
            let _ = b.publisher.to_string();
            for a in &b.attestations {
                let _ = verifier.verify(a, &"0".repeat(64), &b.publisher);
            }
        }
    }
});
