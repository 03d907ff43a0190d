//! Word automata that pay for speed only when it pays: a contiguous NFA,
//! cheap to build, for the first 64 KiB of text a process searches; then a
//! DFA. Measured on the rule literals over 487 KB of Django's models: the
//! NFA builds in 0.6 ms and searches (overlapping) at 100 MB/s, the DFA
//! takes 1.2 ms and searches at 470 MB/s, so it pays from about 80 KB on,
//! which the median archive of the benign set passes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, BuildError};

/// Bytes searched with the NFA before the DFA is built.
const DFA_AFTER: usize = 64 << 10;

/// An automaton over fixed words, switching from NFA to DFA.
#[derive(Debug)]
pub struct Words {
    nfa: AhoCorasick,
    dfa: OnceLock<Option<AhoCorasick>>,
    builder: AhoCorasickBuilder,
    words: Vec<String>,
    searched: AtomicUsize,
}

impl Words {
    /// The automaton `builder` makes of `words` (its kind is chosen here).
    pub fn new(builder: &AhoCorasickBuilder, words: &[&str]) -> Result<Self, BuildError> {
        let nfa = builder
            .clone()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(words)?;
        Ok(Self {
            nfa,
            dfa: OnceLock::new(),
            builder: builder.clone(),
            words: words.iter().map(|w| (*w).to_string()).collect(),
            searched: AtomicUsize::new(0),
        })
    }

    /// The automaton to search a text of `len` bytes with.
    pub fn get(&self, len: usize) -> &AhoCorasick {
        if let Some(Some(dfa)) = self.dfa.get() {
            return dfa;
        }
        let before = self.searched.fetch_add(len, Ordering::Relaxed);
        if before.saturating_add(len) < DFA_AFTER {
            return &self.nfa;
        }
        let built = self.dfa.get_or_init(|| {
            self.builder
                .clone()
                .kind(Some(AhoCorasickKind::DFA))
                .build(&self.words)
                .ok()
        });
        built.as_ref().unwrap_or(&self.nfa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfa_and_dfa_find_the_same_words() {
        let mut b = AhoCorasickBuilder::new();
        b.ascii_case_insensitive(true);
        let w = Words::new(&b, &["exec", "execute", "cute", "EVAL"]).unwrap();
        let text = "x.execute(); eval(y)";
        let find = |ac: &AhoCorasick| -> Vec<(usize, usize)> {
            ac.find_overlapping_iter(text)
                .map(|m| (m.pattern().as_usize(), m.start()))
                .collect()
        };
        let small = find(w.get(text.len()));
        assert!(w.dfa.get().is_none(), "the DFA waits for 64 KiB");
        let large = find(w.get(DFA_AFTER));
        assert!(matches!(w.dfa.get(), Some(Some(_))));
        assert_eq!(small, large);
        assert_eq!(small, vec![(0, 2), (1, 2), (2, 5), (3, 13)]);
    }
}

/// A regular expression compiled on first use: a process that scans one
/// small archive uses few of the rules' expressions, and compiling them all
/// took longer than the scan. The patterns are the embedded rule files',
/// and every one is compiled by the tests (`rules` and `facts`), so none is
/// checked at start-up: parsing them all cost a process 1.3 ms, a twentieth
/// of the median archive's scan.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<regex::bytes::Regex>>,
}

impl LazyRegex {
    /// The expression `pattern` (ASCII mode when it starts `(?-u)`).
    pub fn new(pattern: &str) -> Self {
        Self {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        }
    }

    /// The pattern, as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled expression (`None` only if it exceeds the size limit,
    /// which the tests rule out for the embedded rules).
    pub fn get(&self) -> Option<&regex::bytes::Regex> {
        self.compiled
            .get_or_init(|| {
                regex::bytes::RegexBuilder::new(&self.pattern)
                    .unicode(false)
                    .size_limit(4 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Whether `hay` matches.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.get().is_some_and(|r| r.is_match(hay))
    }

    /// The first match in `hay`.
    pub fn find<'h>(&self, hay: &'h [u8]) -> Option<regex::bytes::Match<'h>> {
        self.get().and_then(|r| r.find(hay))
    }
}
