//! The declarative indicators of `rules/*.toml`, embedded at build time and
//! compiled once: an aho-corasick prefilter over every indicator's required
//! literals, then ASCII-mode byte regexes only for indicators whose literal hit.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasickBuilder, MatchKind};

use super::words::Words;
use serde::Deserialize;

/// The rule files, embedded.
const FILES: &[(&str, &str)] = &[
    (
        "rules/sources.toml",
        include_str!("../../rules/sources.toml"),
    ),
    ("rules/sinks.toml", include_str!("../../rules/sinks.toml")),
    (
        "rules/execution.toml",
        include_str!("../../rules/execution.toml"),
    ),
];

/// A version of the rules, part of cached verdicts' keys: any rule change
/// changes it.
pub fn version() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (_, text) in FILES {
        h.update(text.as_bytes());
    }
    h.update(super::python::FACTS_TEXT.as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // The scanner's code, not only its rules, decides a verdict (build.rs).
    h.update(env!("CUSTOMS_SCANNER_DIGEST").as_bytes());
    hex::encode(&h.finalize()[..8])
}

#[derive(Debug, Deserialize)]
struct File {
    indicator: Vec<IndicatorWire>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorWire {
    id: String,
    kind: String,
    description: String,
    literals: Vec<String>,
    pattern: String,
    /// Bytes that may not come just before a match (`.`: a method of
    /// another object, `model.eval(`). Said here rather than as a leading
    /// `(?:^|[^.])` in the pattern, which would hide the pattern's literal
    /// prefix from the regex engine's prefilter and make it walk every byte.
    #[serde(default)]
    not_after: String,
    #[serde(default)]
    matches: Vec<String>,
    #[serde(default)]
    non_matches: Vec<String>,
}

/// What an indicator points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Data worth stealing.
    Source,
    /// Host and user details (dependency-confusion probes send these).
    Host,
    /// A way out of the machine.
    Sink,
    /// A known receiving host.
    Endpoint,
    /// Code run from data.
    Exec,
    /// Decoding or decryption.
    Decode,
    /// Starting programs.
    Process,
    /// Writing downloads to disk.
    Download,
    /// PowerShell encoded/hidden commands.
    Powershell,
    /// setup.py replacing install commands.
    InstallCommand,
    /// Hiding what runs (computed builtin names).
    Obfuscation,
    /// Registering something to run again later.
    Persistence,
    /// A shell driven over a network connection.
    RemoteShell,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "source" => Self::Source,
            "host" => Self::Host,
            "sink" => Self::Sink,
            "endpoint" => Self::Endpoint,
            "exec" => Self::Exec,
            "decode" => Self::Decode,
            "process" => Self::Process,
            "download" => Self::Download,
            "powershell" => Self::Powershell,
            "install-command" => Self::InstallCommand,
            "obfuscation" => Self::Obfuscation,
            "persistence" => Self::Persistence,
            "remote-shell" => Self::RemoteShell,
            _ => return None,
        })
    }
}

/// One compiled indicator.
#[derive(Debug)]
pub struct Indicator {
    /// Its id (`env-dump`).
    pub id: String,
    /// What it indicates.
    pub kind: Kind,
    /// For docs.
    pub description: String,
    /// The regex (compiled on first use).
    pub regex: super::words::LazyRegex,
    /// Bytes that may not come just before a match.
    pub not_after: Vec<u8>,
    /// Examples it must match / must not match (tested).
    pub matches: Vec<String>,
    /// Examples it must not match.
    pub non_matches: Vec<String>,
}

/// All indicators with the prefilter.
#[derive(Debug)]
pub struct Rules {
    /// The indicators.
    pub indicators: Vec<Indicator>,
    prefilter: Words,
    /// Literal pattern index -> the indicators that require it (a literal
    /// several indicators share is one pattern).
    literal_owners: Vec<Vec<usize>>,
    /// Literal pattern index -> the gate words it stands for, each with its
    /// gate bits ([`super::python::GATE_LISTS`]): the same pass finds the
    /// words that decide which Python passes run. A gate word counts only
    /// as written (the automaton ignores case, the check does not).
    gate_words: Vec<Vec<(&'static str, u8)>>,
}

static RULES: OnceLock<Result<Rules, String>> = OnceLock::new();

/// The compiled rules (an error names the rule file and indicator).
pub fn rules() -> Result<&'static Rules, String> {
    RULES.get_or_init(compile).as_ref().map_err(Clone::clone)
}

fn compile() -> Result<Rules, String> {
    let mut indicators = Vec::new();
    let mut literals: Vec<String> = Vec::new();
    let mut literal_owners: Vec<Vec<usize>> = Vec::new();
    for (name, text) in FILES {
        let file: File = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for w in file.indicator {
            let kind = Kind::parse(&w.kind)
                .ok_or_else(|| format!("{name}: {}: unknown kind `{}`", w.id, w.kind))?;
            if w.literals.is_empty() {
                return Err(format!(
                    "{name}: {}: every indicator needs a required literal",
                    w.id
                ));
            }
            // ASCII mode: Unicode-aware \b is orders of magnitude slower.
            let regex = super::words::LazyRegex::new(&format!("(?-u){}", w.pattern));
            for l in w.literals {
                let owner = indicators.len();
                match literals.iter().position(|k| k.eq_ignore_ascii_case(&l)) {
                    Some(k) => literal_owners[k].push(owner),
                    None => {
                        literals.push(l);
                        literal_owners.push(vec![owner]);
                    }
                }
            }
            indicators.push(Indicator {
                id: w.id,
                kind,
                description: w.description,
                regex,
                not_after: w.not_after.into_bytes(),
                matches: w.matches,
                non_matches: w.non_matches,
            });
        }
    }
    let mut gate_words: Vec<Vec<(&'static str, u8)>> = vec![Vec::new(); literals.len()];
    for (bit, list) in super::python::GATE_LISTS.iter().enumerate() {
        for w in *list {
            let k = match literals.iter().position(|k| k.eq_ignore_ascii_case(w)) {
                Some(k) => k,
                None => {
                    literals.push((*w).to_string());
                    literal_owners.push(Vec::new());
                    gate_words.push(Vec::new());
                    literals.len() - 1
                }
            };
            match gate_words[k].iter_mut().find(|(x, _)| x == w) {
                Some((_, bits)) => *bits |= 1 << bit,
                None => gate_words[k].push((w, 1 << bit)),
            }
        }
    }
    let mut builder = AhoCorasickBuilder::new();
    builder
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(true);
    let words: Vec<&str> = literals.iter().map(String::as_str).collect();
    let prefilter = Words::new(&builder, &words).map_err(|e| format!("rule literals: {e}"))?;
    Ok(Rules {
        indicators,
        prefilter,
        literal_owners,
        gate_words,
    })
}

/// A match of an indicator in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Index into [`Rules::indicators`].
    pub indicator: usize,
    /// Byte offset of the match.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
}

impl Rules {
    /// Every indicator match in `text`, in order; at most `cap` per indicator.
    pub fn scan(&self, text: &[u8], cap: usize) -> Vec<Hit> {
        self.scan_gated(text, cap).0
    }

    /// [`Rules::scan`], and the gates of the Python passes, from one pass.
    pub fn scan_gated(&self, text: &[u8], cap: usize) -> (Vec<Hit>, super::python::Gates) {
        let (wanted, gates) = self.wanted(text);
        let mut hits = Vec::new();
        let mut newlines: Option<Vec<usize>> = None;
        for (i, ind) in self.indicators.iter().enumerate() {
            if !wanted[i] {
                continue;
            }
            for m in ind
                .regex
                .get()
                .into_iter()
                .flat_map(|r| r.find_iter(text))
                .filter(|m| {
                    m.start()
                        .checked_sub(1)
                        .and_then(|i| text.get(i))
                        .is_none_or(|b| !ind.not_after.contains(b))
                })
                .take(cap)
            {
                let nl = newlines.get_or_insert_with(|| memchr_all(text));
                let line = nl.partition_point(|&p| p < m.start()) + 1;
                hits.push(Hit {
                    indicator: i,
                    offset: m.start(),
                    line: u32::try_from(line).unwrap_or(u32::MAX),
                });
            }
        }
        hits.sort_by_key(|h| (h.offset, h.indicator));
        (hits, super::python::Gates::of(gates, text))
    }

    /// Which indicators have one of their literals in `text`: an overlapping
    /// search, so that no literal hides inside another's match.
    fn wanted(&self, text: &[u8]) -> (Vec<bool>, u8) {
        let mut wanted = vec![false; self.indicators.len()];
        let mut gates = 0u8;
        for m in self.prefilter.get(text.len()).find_overlapping_iter(text) {
            let k = m.pattern().as_usize();
            for &o in &self.literal_owners[k] {
                wanted[o] = true;
            }
            for (w, bits) in &self.gate_words[k] {
                if gates & bits != *bits
                    && text.get(m.start()..m.end()) == Some(w.as_bytes())
                    && super::python::counts(w, text, m.start())
                {
                    gates |= bits;
                }
            }
        }
        (wanted, gates)
    }

    /// Indicators of a kind (for docs).
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(move |i| i.kind == kind)
    }
}

fn memchr_all(text: &[u8]) -> Vec<usize> {
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_indicator_compiles_and_matches_its_own_examples() {
        let rules = rules().unwrap();
        assert!(rules.indicators.len() >= 10);
        for ind in &rules.indicators {
            assert!(ind.regex.get().is_some(), "{} does not compile", ind.id);
            assert!(
                !ind.matches.is_empty(),
                "{} has no positive example",
                ind.id
            );
            for ex in &ind.matches {
                let hits = rules.scan(ex.as_bytes(), 10);
                assert!(
                    hits.iter()
                        .any(|h| rules.indicators[h.indicator].id == ind.id),
                    "{} misses its example {ex:?}",
                    ind.id
                );
            }
            for ex in &ind.non_matches {
                let hits = rules.scan(ex.as_bytes(), 10);
                assert!(
                    !hits
                        .iter()
                        .any(|h| rules.indicators[h.indicator].id == ind.id),
                    "{} matches its counter-example {ex:?}",
                    ind.id
                );
            }
        }
        assert_eq!(version().len(), 16);
    }

    /// The prefilter wants exactly the indicators one of whose literals the
    /// text contains, also when literals overlap, nest or share a prefix.
    #[test]
    fn prefilter_wants_every_indicator_whose_literal_occurs() {
        let rules = rules().unwrap();
        let literals: Vec<(usize, String)> = FILES
            .iter()
            .flat_map(|(_, text)| toml::from_str::<File>(text).unwrap().indicator)
            .enumerate()
            .flat_map(|(i, w)| w.literals.into_iter().map(move |l| (i, l)))
            .collect();
        let mut texts: Vec<String> = rules
            .indicators
            .iter()
            .flat_map(|i| i.matches.iter().chain(&i.non_matches).cloned())
            .collect();
        // Each literal glued to every other, both ways round, overlapping by
        // one byte where they can: no literal may hide another.
        for (_, a) in &literals {
            for (_, b) in &literals {
                texts.push(format!("{a}{b}"));
                for k in 1..a.len().min(b.len()) {
                    if a[a.len() - k..].eq_ignore_ascii_case(&b[..k]) {
                        texts.push(format!("{a}{}", &b[k..]));
                    }
                }
            }
        }
        for text in &texts {
            let lower = text.to_ascii_lowercase();
            let mut expected = vec![false; rules.indicators.len()];
            for (i, l) in &literals {
                if lower.contains(&l.to_ascii_lowercase()) {
                    expected[*i] = true;
                }
            }
            assert_eq!(rules.wanted(text.as_bytes()).0, expected, "{text:?}");
        }
    }

    /// A match just after a `not_after` byte is not a hit, and a hit is on
    /// the line of its name (a call at the start of a line is not put on
    /// the line before, as a pattern that matched the byte before it did).
    #[test]
    fn not_after_refuses_a_match_after_its_bytes_and_lines_are_the_names() {
        let rules = rules().unwrap();
        let exec = |text: &str| -> Vec<u32> {
            rules
                .scan(text.as_bytes(), 10)
                .iter()
                .filter(|h| rules.indicators[h.indicator].id == "dynamic-exec")
                .map(|h| h.line)
                .collect()
        };
        assert_eq!(exec("x = 1\nexec(c)\n"), vec![2]);
        assert_eq!(exec("model.eval()\nre.compile(p)\n"), Vec::<u32>::new());
        // A method refused, the call inside it still found.
        assert_eq!(exec("x = 1\nself.eval(exec(c))\n"), vec![2]);
        assert_eq!(exec("six.moves.builtins.exec(c)\n"), vec![1]);
        assert_eq!(
            exec("b = (eval (c), compile(s, 'f', 'exec'))\n"),
            vec![1, 1]
        );
        let dynamic = rules
            .indicators
            .iter()
            .find(|i| i.id == "dynamic-exec")
            .unwrap();
        assert_eq!(dynamic.not_after, b".");
    }

    #[test]
    fn the_literal_pass_finds_the_same_gates_as_the_gate_pass() {
        let rules = rules().unwrap();
        let words: Vec<&str> = super::super::python::GATE_LISTS
            .iter()
            .flat_map(|l| l.iter().copied())
            .collect();
        let mut texts: Vec<String> = Vec::new();
        for w in &words {
            texts.push((*w).to_string());
            texts.push(w.to_ascii_uppercase());
            texts.push(w.to_ascii_lowercase());
            texts.push(format!("x = 1\n{w}(y)\n# EXEC environ"));
            texts.push(format!("x.{w}; _{w} {w}_"));
            for v in &words {
                texts.push(format!("{w}{v}"));
            }
        }
        texts.push(String::new());
        texts.push("import os\nprint(os.getcwd())\n".into());
        for text in &texts {
            assert_eq!(
                super::super::python::Gates::of(rules.wanted(text.as_bytes()).1, text.as_bytes()),
                super::super::python::gates(text),
                "{text:?}"
            );
        }
    }
}
