//! Scanner v2, first passes: **parse** Python with a real, error-tolerant
//! parser and **resolve** what it executes — imports and aliases
//! (`import builtins as b`, `x = exec`, `getattr(builtins, 'ex'+'ec')`,
//! `globals()['exec']`, `__import__('o'+'s')`), with constants **folded**
//! (concatenation, `''.join`, `[::-1]`, `chr()` sequences, `bytes.fromhex`,
//! base64/base32/base16, hex, rot13, zlib, bz2, XOR with a literal key).
//! What an executor runs from folded data is hidden code: it is reported and
//! analysed again, in the same context, to a bounded depth.
//!
//! The parser is ruff's (`ruff_python_parser`): it recovers from errors
//! (Python 2 `print "x"` and `exec "..."` statements parse with an error and
//! keep their string), decodes string literals and joins implicit
//! concatenation, and parses about 100 MB/s. tree-sitter-python has Python 2
//! in its grammar but leaves strings undecoded and is an order of magnitude
//! slower; `rustpython-parser` has no error recovery. The parser is wrapped
//! here, so its API churn stays in this module.

mod facts;
mod flow;
mod fold;
mod leak;
mod parse;
mod reach;
mod runs;

pub use facts::TEXT as FACTS_TEXT;
pub use flow::Flow;
pub use fold::Value;
pub use leak::{Leak, Source, SourceKind};
pub use parse::on_big_stack;
pub use reach::Reach;
pub use runs::RunFile;

/// Code an executor runs from folded (decoded, joined, reversed...) data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    /// 1-based line of the executor call.
    pub line: u32,
    /// The executor, resolved (`builtins.exec`, `builtins.eval`...).
    pub executor: String,
    /// How it was hidden, outermost last (`base64`, `zlib`, `chr`...).
    pub techniques: Vec<&'static str>,
    /// The code, as text.
    pub code: String,
}

/// What the parse found, for the caller's passes.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Code run from folded data.
    pub hidden: Vec<Hidden>,
    /// Network data that reaches something that runs it.
    pub flows: Vec<Flow>,
    /// Data worth stealing that reaches a way out.
    pub leaks: Vec<Leak>,
    /// Python code the file writes to a file from a literal (a launcher
    /// staged on disk): line of the write, and the code.
    pub staged: Vec<(u32, String)>,
    /// Whether the leaks pass ran (the file has a source and a sink word).
    pub leaks_ran: bool,
    /// A stealer-only source the file reads (browser, chat or wallet
    /// stores), wherever its data goes.
    pub store: Option<Source>,
    /// What runs without being asked.
    pub reach: Option<Reach>,
    /// Calls in code that runs on install (setup.py only): line, resolved
    /// callee, and whether an install command runs it (else the top level).
    pub install_calls: Vec<(u32, String, bool)>,
    /// Why no tree was built (a cap), if none was.
    pub skipped: Option<&'static str>,
    /// Whether the parser reported errors (the tree is partial).
    pub partial: bool,
    /// Whether the passes ran (a file with no executor and no fetcher in
    /// it is not parsed at all).
    pub ran: bool,
}

impl Analysis {
    /// Whether the file was parsed without errors, so that what the passes
    /// did not find is absent rather than unseen.
    pub fn parsed(&self) -> bool {
        self.skipped.is_none() && !self.partial && self.ran
    }
}

/// Names without which a file cannot run hidden code: a cheap filter before
/// parsing. A call runs hidden code when it resolves to `exec` or `eval`
/// ([`fold`]'s executors): by one of those names, or by a name looked up
/// (computed or not) in what the resolve pass knows leads to them, and each
/// way there needs one of these names: `builtins` and `__builtins__`;
/// `globals()`, `locals()`, `vars()`; `__import__(..)` and
/// `importlib.import_module(..)` of a computed name; `getattr(m, ..)` of
/// any module (`getattr(os, '__di' + 'ct__')`); `m.__dict__[..]` of any
/// module (whose `'__builtins__'` entry is builtins). `compile` only
/// prepares code for an executor, so it does not open the gate. Each name
/// counts only as a whole identifier ([`counts`]); names spelled with
/// characters Python reads as ASCII (`ｅｘｅｃ`) open it too ([`disguised`]).
const EXECUTORS: &[&str] = &[
    "exec",
    "eval",
    "builtins",
    "__builtins__",
    "__import__",
    "import_module",
    "getattr",
    "__dict__",
    "globals",
    "locals",
    "vars",
];

/// Words of writes: the staged-code pass looks at `.write*` calls only.
const WRITERS: &[&str] = &[".write"];

/// Words without which no network data reaches a runner.
const FETCHERS: &[&str] = &[
    "requests",
    "urlopen",
    "urlretrieve",
    "httpx",
    "urllib3",
    "curl",
    "wget",
];

/// Words of data worth stealing: without one, no source is in the file.
const SOURCE_WORDS: &[&str] = &[
    "environ",
    "getenv",
    "gethostname",
    "getfqdn",
    "getuser",
    "getlogin",
    "node(",
    "uname",
    "getcwd",
    "getuid",
    "getpwuid",
    "getnode",
    "paste(",
    "lipboard",
    "grab(",
    "screenshot",
    "mss(",
    ".ssh",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    ".pypirc",
    ".netrc",
    ".aws",
    ".kube",
    ".docker",
    ".git-credentials",
    "gcloud",
    ".azure",
    "_history",
    "/etc/",
    "Login Data",
    "Local State",
    "Web Data",
    "Cookies",
    "User Data",
    "Local Storage",
    "leveldb",
    "tdata",
    "allet",
    // Wallet directories (the store-path facts want a separator after the
    // name), in both usual cases.
    "Exodus/",
    "Exodus\\",
    "Exodus\"",
    "Exodus'",
    "exodus/",
    "exodus\\",
    "exodus\"",
    "exodus'",
    "Electrum/",
    "Electrum\\",
    "Electrum\"",
    "Electrum'",
    "electrum/",
    "electrum\\",
    "electrum\"",
    "electrum'",
    "Atomic/",
    "Atomic\\",
    "Atomic\"",
    "Atomic'",
    "atomic/",
    "atomic\\",
    "atomic\"",
    "atomic'",
    "Armory/",
    "Armory\\",
    "Armory\"",
    "Armory'",
    "armory/",
    "armory\\",
    "armory\"",
    "armory'",
    "Bitcoin/",
    "Bitcoin\\",
    "Bitcoin\"",
    "Bitcoin'",
    "bitcoin/",
    "bitcoin\\",
    "bitcoin\"",
    "bitcoin'",
    "Ethereum/",
    "Ethereum\\",
    "Ethereum\"",
    "Ethereum'",
    "ethereum/",
    "ethereum\\",
    "ethereum\"",
    "ethereum'",
    "Zcash/",
    "Zcash\\",
    "Zcash\"",
    "Zcash'",
    "zcash/",
    "zcash\\",
    "zcash\"",
    "zcash'",
    "Monero/",
    "Monero\\",
    "Monero\"",
    "Monero'",
    "monero/",
    "monero\\",
    "monero\"",
    "monero'",
    "keystore",
    "MetaMask",
    "metamask",
    "nkbihfbeogaeaoehlefnkodbefgpgknn",
    "keychain",
    "Firefox",
    "logins.json",
    "key3.db",
    "key4.db",
    "discord",
    "printenv",
    "whoami",
    // The `hostname` command in a command line.
    "(hostname)",
    "`hostname`",
    "$HOME",
    "$USER",
    "env |",
    "env>",
    "env >",
    "rivate_key",
    "rivkey",
    "nemonic",
    // Wallet parameters (`seed_phrase`, `seedwords`).
    "seed_",
    "seedphrase",
    "seedwords",
    "recovery_",
];

/// Words of ways out: without one, no sink is in the file.
const SINK_WORDS: &[&str] = &[
    "requests",
    "urllib",
    "urlopen",
    "http.client",
    "httplib",
    "HTTPConnection",
    "socket",
    "smtplib",
    "ftplib",
    "dns.",
    "ebhook",
    "telebot",
    "telegram",
    "dhooks",
    "aiohttp",
    "httpx",
    "pycurl",
    "curl",
    "wget",
    "nslookup",
    // Network tools in a command line, as the command-tools fact finds
    // them: after a space, a quote or a path separator.
    " dig ",
    "\"dig ",
    "'dig ",
    "/dig ",
    "\\dig ",
    " ping ",
    "\"ping ",
    "'ping ",
    "/ping ",
    "\\ping ",
    "Invoke-",
    " iwr ",
    "\"iwr ",
    "'iwr ",
    "/iwr ",
    "\\iwr ",
    " irm ",
    "\"irm ",
    "'irm ",
    "/irm ",
    "\\irm ",
];

/// What a file's words allow, found in one pass before anything is parsed
/// (the pass that finds the rules' literals, [`super::rules::Rules::scan`],
/// or [`gates`] alone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gates {
    /// An executor word ([`EXECUTORS`]).
    hiding: bool,
    /// A fetcher word ([`FETCHERS`]).
    fetching: bool,
    /// A source word ([`SOURCE_WORDS`]).
    source: bool,
    /// A sink word ([`SINK_WORDS`]).
    sink: bool,
    /// A write ([`WRITERS`]).
    writing: bool,
}

impl Gates {
    /// The gates of the bits of [`GATE_LISTS`] (bit `i`: a word of list `i`).
    fn from_bits(found: u8) -> Self {
        Self {
            hiding: found & 1 != 0,
            fetching: found & 2 != 0,
            source: found & 4 != 0,
            sink: found & 8 != 0,
            writing: found & 16 != 0,
        }
    }

    /// The gates of the bits found in `text`, and of its disguised names
    /// ([`disguised`]).
    pub(in crate::scan) fn of(found: u8, text: &[u8]) -> Self {
        let mut gates = Self::from_bits(found);
        gates.hiding = gates.hiding || disguised(text);
        gates
    }
}

/// Whether a gate word found at byte `start` of `text` counts. A word of
/// [`EXECUTORS`] counts only as a whole identifier (`execute`,
/// `literal_eval` and `myglobals` do not count); a byte that is not ASCII
/// next to it does not make it part of a longer name, as a file in another
/// encoding may read it otherwise. Other words count wherever they are
/// written.
pub(in crate::scan) fn counts(word: &str, text: &[u8], start: usize) -> bool {
    if !EXECUTORS.contains(&word) {
        return true;
    }
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let before = start.checked_sub(1).and_then(|i| text.get(i));
    let after = text.get(start + word.len());
    !before.is_some_and(ident) && !after.is_some_and(ident)
}

/// Whether `text` has a character that Python reads as an ASCII letter,
/// digit or underscore in a name (a fullwidth `ｅ`, a mathematical `𝐞`, the
/// ligature `ﬁ`): names are NFKC-normalised, so `ｅｘｅｃ(..)` calls `exec`
/// though no word search of the bytes finds it. Such a file opens the
/// executor gate whatever its words.
pub(in crate::scan) fn disguised(text: &[u8]) -> bool {
    use unicode_normalization::UnicodeNormalization as _;
    !text.is_ascii()
        && String::from_utf8_lossy(text)
            .chars()
            .filter(|c| !c.is_ascii())
            .any(|c| {
                std::iter::once(c)
                    .nfkc()
                    .any(|d| d.is_ascii_alphanumeric() || d == '_')
            })
}

/// Whether a word of `list` counts somewhere in `text` ([`counts`]): what
/// the one-pass gates find, word by word.
fn has_word(text: &str, list: &[&str]) -> bool {
    list.iter().any(|w| {
        text.match_indices(w)
            .any(|(at, _)| counts(w, text.as_bytes(), at))
    })
}

/// The word lists, in the order of the bits of a pattern's category (case
/// matters: a word counts only as written).
pub const GATE_LISTS: [&[&str]; 5] = [EXECUTORS, FETCHERS, SOURCE_WORDS, SINK_WORDS, WRITERS];

/// One automaton over every gate word, with each pattern's word and lists
/// (as bits).
type GateAutomaton = (super::words::Words, Vec<&'static str>, Vec<u8>);

fn gate_automaton() -> Option<&'static GateAutomaton> {
    static CELL: std::sync::OnceLock<Option<GateAutomaton>> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let mut words: Vec<&'static str> = Vec::new();
        let mut bits: Vec<u8> = Vec::new();
        for (bit, list) in GATE_LISTS.iter().enumerate() {
            for w in *list {
                match words.iter().position(|x| x == w) {
                    Some(i) => bits[i] |= 1 << bit,
                    None => {
                        words.push(w);
                        bits.push(1 << bit);
                    }
                }
            }
        }
        super::words::Words::new(&aho_corasick::AhoCorasick::builder(), &words)
            .ok()
            .map(|ac| (ac, words, bits))
    })
    .as_ref()
}

/// Which gate lists have a word in `text` (one pass, stopping when all do).
pub(in crate::scan) fn gates(text: &str) -> Gates {
    let Some((ac, words, bits)) = gate_automaton() else {
        return Gates {
            hiding: has_word(text, EXECUTORS) || disguised(text.as_bytes()),
            fetching: has_word(text, FETCHERS),
            source: has_word(text, SOURCE_WORDS),
            sink: has_word(text, SINK_WORDS),
            writing: has_word(text, WRITERS),
        };
    };
    let (mut found, all) = (0u8, (1u8 << GATE_LISTS.len()) - 1);
    for m in ac.get(text.len()).find_overlapping_iter(text) {
        let (k, at) = (m.pattern().as_usize(), m.start());
        if counts(words[k], text.as_bytes(), at) {
            found |= bits[k];
        }
        if found == all {
            break;
        }
    }
    Gates::of(found, text.as_bytes())
}

/// What to compute beyond the always-on passes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Want {
    /// Where code runs ([`Reach`]).
    pub reach: bool,
    /// The file is run as a program (setup.py): its `__main__` block and its
    /// command classes run; the calls of install commands are listed.
    pub script: bool,
    /// The file runs on import or at start: calls to hosts that carry no
    /// data (beacons) are wanted too.
    pub beacons: bool,
    /// The tree itself, whatever the words: a finding of the lexical pass
    /// is settled by whether the file parses (a download and a run that no
    /// flow joins).
    pub parse: bool,
}

/// Parses `text` and finds the code it runs from folded data, the network
/// data that reaches something that runs it, and the data worth stealing
/// that reaches a way out.
pub fn analyse(text: &str, want: Want) -> Analysis {
    analyse_gated(text, want, gates(text))
}

/// [`analyse`] with the gates already found (by the rules' literal pass
/// over the same text).
pub fn analyse_gated(text: &str, want: Want, gates: Gates) -> Analysis {
    let Gates {
        hiding,
        fetching,
        source,
        sink,
        writing,
    } = gates;
    let leaking = (want.beacons || source) && sink;
    if !(hiding || fetching || leaking || writing || want.reach || want.script || want.parse) {
        return Analysis::default();
    }
    let facts = facts::facts().ok();
    parse::with_module(text, |module, partial| {
        // One name table and one line index for the passes over this file.
        let env = fold::collect_env(module);
        let lines = crate::lockfile::LineIndex::new(text);
        // Where code runs is asked of every file that is parsed: a finding
        // is graded the same whichever pass made the parse happen.
        let reach = reach::reach(module, want.script, &lines);
        let install_calls = if want.script {
            fold::called_at(module, &env)
                .into_iter()
                .map(|(at, q)| (lines.line_of(at), q))
                .filter(|(l, _)| reach.unasked(*l))
                .map(|(l, q)| (l, q, reach.in_command(l)))
                .collect()
        } else {
            Vec::new()
        };
        let (leaks, store) = match (leaking, facts) {
            (true, Some(f)) => leak::leaks(module, &env, f, &reach, &lines),
            _ => (Vec::new(), None),
        };
        Analysis {
            staged: if writing {
                fold::staged_code(module, &env, &lines)
            } else {
                Vec::new()
            },
            hidden: if hiding {
                fold::hidden_code(module, &env, text, &lines)
            } else {
                Vec::new()
            },
            flows: if fetching {
                flow::flows(module, &env, &reach, text, &lines)
            } else {
                Vec::new()
            },
            leaks,
            store,
            leaks_ran: leaking && facts.is_some(),
            reach: Some(reach),
            install_calls,
            skipped: None,
            partial,
            ran: true,
        }
    })
    .unwrap_or_else(|why| Analysis {
        skipped: Some(why),
        ..Analysis::default()
    })
}

/// The first install-time call that acts: in an install command, one that
/// runs code, starts a program or talks to the network; at setup.py's top
/// level (where reading a version file with `exec` and asking git are
/// ordinary), one that talks to the network. `?` callees are not counted.
pub fn first_act(calls: &[(u32, String, bool)]) -> Option<(u32, &str)> {
    let facts = facts::facts().ok();
    let network = |q: &str| {
        q.ends_with("urlretrieve")
            || facts.is_some_and(|f| {
                f.sinks.contains_key(q) || f.network_modules.iter().any(|m| q.starts_with(m))
            })
    };
    calls
        .iter()
        .find(|(_, q, command)| {
            network(q)
                || (*command
                    && (flow::START.contains(&q.as_str()) || flow::RUN_CODE.contains(&q.as_str())))
        })
        .map(|(l, q, _)| (*l, q.as_str()))
}

/// The files `text` runs as code (`exec(open(P).read())`, `runpy.run_path`,
/// `execfile`); parsed only when its words allow one.
pub fn run_files(text: &str) -> Vec<RunFile> {
    let reads = ["open(", "read_text", "read_bytes", "run_path", "execfile"]
        .iter()
        .any(|w| text.contains(w));
    let runs = ["exec(", "exec (", "eval(", "eval (", "run_path", "execfile"]
        .iter()
        .any(|w| text.contains(w));
    if !(reads && runs) {
        return Vec::new();
    }
    parse::with_module(text, |module, _| {
        let env = fold::collect_env(module);
        let lines = crate::lockfile::LineIndex::new(text);
        runs::run_files(module, &env, &lines)
    })
    .unwrap_or_default()
}

/// Whether a host, URL or command line names this machine.
pub fn is_local_host(host: &str) -> bool {
    facts::facts().is_ok_and(|f| f.local.is_match(host.trim().as_bytes()))
}

/// `text` with comments blanked (offsets and lines kept), when it parses
/// within the caps.
pub fn without_comments(text: &str) -> Option<String> {
    parse::without_comments(text)
}

/// What a one-line startup file (`.pth`) runs, with its literal
/// `exec('...')` strings unfolded.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// The line and the unfolded code.
    pub code: String,
    /// The top-level modules it imports.
    pub imports: Vec<String>,
    /// What it calls, resolved (`?` where a callee does not resolve).
    pub calls: Vec<String>,
}

/// `None` when the line executes anything but plain literals, or does not parse.
pub fn startup_line(line: &str) -> Option<Startup> {
    let code = parse::with_module(line, |m, _| fold::executed_literals(m))
        .ok()
        .flatten()?;
    // The exec'd code runs in the line's namespace: one text, one resolution.
    let mut all = line.to_string();
    for c in &code {
        all.push('\n');
        all.push_str(c);
    }
    let (imports, mut calls) =
        parse::with_module(&all, |m, _| (fold::imported_modules(m), fold::called(m))).ok()?;
    calls.retain(|c| c != "builtins.exec" && c != "builtins.eval");
    Some(Startup {
        code: all,
        imports,
        calls,
    })
}

#[cfg(test)]
mod tests;
