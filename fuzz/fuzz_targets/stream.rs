//! An archive streaming in, cut into chunks at arbitrary places, then
//! scanned from what was kept: never a panic, and a scan of what was kept
//! finds what a scan of the whole bytes finds, or asks for the whole file.
#![no_main]

use customs::scan::stream::Streamed;
use customs::scan::{Limits, scan_bytes, scan_held};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // The first bytes choose the chunk size and the declared length.
    let [step, slack, data @ ..] = input else {
        return;
    };
    let limits = Limits {
        max_entries: 2_000,
        max_member: 1 << 20,
        max_total: 64 << 20,
        ..Limits::default()
    };
    let declared = (data.len() as u64).saturating_add(u64::from(*slack) % 3).saturating_sub(1);
    let mut s = Streamed::for_scan(Some(declared), 64 << 20, false);
    for c in data.chunks(usize::from(*step).max(1)) {
        if s.push(c).is_err() {
            return;
        }
    }
    let name = "fuzz-1.0-py3-none-any.whl";
    if let (Ok(Some(kept)), Ok(whole)) = (
        scan_held(name, s.finish(), &limits),
        scan_bytes(name, data, &limits),
    ) {
        let rules = |f: &[_]| -> Vec<String> {
            f.iter()
                .map(|(p, m): &(Option<String>, customs::scan::MemberFinding)| {
                    format!("{:?} {p:?} {:?}", m.rule, m.line)
                })
                .collect()
        };
        assert_eq!(rules(&kept.findings), rules(&whole.findings));
        assert_eq!(kept.gaps, whole.gaps);
    }
});
