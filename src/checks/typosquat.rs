//! `typosquat`: a name one small edit away from a popular name it is not.

use super::RuleMeta;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::names::{TopPackages, deletions};
use crate::package::{Package, PackageName};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::Typosquat,
    summary: "The name is one small edit away from a popular name it is not",
    severity: Severity::High,
    confidence: Confidence::Medium,
    docs: r#"# typosquat

## What it does
Compares every name (after PEP 503 normalisation) with the 15,000 most-downloaded projects shipped
in customs. A name that is not itself on the list but is one edit from a listed name is reported,
with the edit named: an omitted, repeated, inserted, swapped or substituted character (keyboard
neighbours and look-alikes such as `rn`/`m`, `l`/`1`, `0`/`o`, `vv`/`w` are called out), a removed
separator, swapped words (`dateutil-python`), an added affix (`python-`, `py`, `-py`, `-python`,
`-lib`, `-sdk`, `-api`, a version digit as in `requests3`), and, for long names, two edits.
Thresholds depend on length (short names are dense) and on the target's rank; the confidence is
higher for popular targets and closer edits (high confidence: high severity; medium: medium; two
edits or an obscure target: low).

A pair where both names are popular is never reported (`boto`/`boto3`, `attr`/`attrs`), and a name
that merely drops an affix or a version digit of a popular one (`jinja` for `jinja2`) is not either:
those are usually the older or generic project. Pairs you know are fine go in the config.

When the index answers, a name with a history of its own is one level less severe, never hidden:
ten or more releases over at least 180 days before the locked one (a squat lives from the day it
is registered to the day it is found). The `lowered` evidence says from what and why.

## Why it matters
Attackers publish `reqeusts`, `python-dateutils`, `colourama` and `jeIlyfish` and wait for a typo in
a requirements file, a Dockerfile or an assistant's suggestion. A one-letter slip installs their
code with your credentials in reach.

## Example
```text
reqeusts looks like requests (rank 7): swapped characters `eu`
```

## How to fix
Correct the name. If the package really is the one you mean (an internal fork, a legitimately
similar project), allow the pair in the config: `typosquat-allow = [["reqeusts", "requests"]]`, or
an `[[allow]]` entry with a reason and an expiry.
"#,
};

/// A named edit from a popular name to the checked one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The popular name it resembles.
    pub target: &'static str,
    /// Its rank on the list.
    pub rank: u32,
    /// The edit, for people.
    pub transform: String,
    /// 1 or 2.
    pub distance: u8,
    /// How sure.
    pub confidence: Confidence,
}

/// Keyboard neighbours on a QWERTY layout (letters and digits).
const KEYBOARD: &[&str] = &[
    "1qw2", "2wq13e", "3ew24r", "4re35t", "5tr46y", "6yt57u", "7uy68i", "8ui79o", "9oi80p", "0po9",
    "qwa12", "weqsad23", "erwdsf34", "rtefdg45", "tyrgfh56", "yuthgj67", "uiyjhk78", "iuokjl89",
    "oiplk90", "pol0", "asqwzx", "sdawezxc", "dfserxcv", "fgdrtcvb", "ghftyvbn", "hjgyubnm",
    "jkhuinm", "kljiom", "lkop", "zxas", "xzcasd", "cxvsdf", "vcbdfg", "bvnfgh", "nbmghj", "mnhjk",
];

/// Look-alike single characters.
const HOMOGLYPHS: &[(char, char)] = &[
    ('l', '1'),
    ('l', 'i'),
    ('i', '1'),
    ('o', '0'),
    ('s', '5'),
    ('e', '3'),
    ('a', '4'),
    ('b', '8'),
    ('g', '9'),
    ('z', '2'),
];

/// Look-alike character runs.
const HOMOGLYPH_RUNS: &[(&str, &str)] = &[
    ("rn", "m"),
    ("vv", "w"),
    ("cl", "d"),
    ("nn", "m"),
    ("ii", "u"),
];

/// Affixes attackers add to a popular name.
const PREFIXES: &[&str] = &["python-", "python3-", "python2-", "py-", "py", "python"];
const SUFFIXES: &[&str] = &[
    "-python", "-py", "py", "-lib", "-sdk", "-api", "-python3", "3", "2", "-3", "-2",
];

fn neighbours(a: char, b: char) -> bool {
    KEYBOARD
        .iter()
        .any(|row| row.starts_with(a) && row[1..].contains(b))
}

fn homoglyph(a: char, b: char) -> bool {
    HOMOGLYPHS
        .iter()
        .any(|&(x, y)| (x, y) == (a, b) || (y, x) == (a, b))
}

/// Names the edit that turns `target` into `name` when they are one edit apart.
fn classify(name: &str, target: &str) -> Option<String> {
    let n: Vec<char> = name.chars().collect();
    let t: Vec<char> = target.chars().collect();
    let prefix = n.iter().zip(&t).take_while(|(a, b)| a == b).count();
    match n.len() as isize - t.len() as isize {
        -1 => {
            let c = t[prefix];
            // Dropping a trailing version digit names the older or generic
            // project (`jinja` for `jinja2`), not an imitation.
            if prefix + 1 == t.len() && c.is_ascii_digit() {
                return None;
            }
            (n[prefix..] == t[prefix + 1..]).then(|| {
                if c == '-' {
                    "removed separator".to_string()
                } else {
                    format!("omitted character `{c}`")
                }
            })
        }
        1 => (n[prefix + 1..] == t[prefix..]).then(|| {
            let c = n[prefix];
            let repeated = (prefix > 0 && n[prefix - 1] == c) || n.get(prefix + 1) == Some(&c);
            if c == '-' {
                "added separator".to_string()
            } else if repeated {
                format!("repeated character `{c}`")
            } else if c.is_ascii_digit() && prefix == t.len() {
                format!("added version digit `{c}`")
            } else {
                format!("inserted character `{c}`")
            }
        }),
        0 => {
            if prefix == n.len() {
                return None;
            }
            let (a, b) = (t[prefix], n[prefix]);
            if n[prefix + 1..] == t[prefix + 1..] {
                return Some(if homoglyph(a, b) {
                    format!("look-alike character `{b}` for `{a}`")
                } else if neighbours(a, b) {
                    format!("keyboard-neighbour `{b}` for `{a}`")
                } else {
                    format!("substituted `{b}` for `{a}`")
                });
            }
            let swapped = prefix + 1 < n.len()
                && n[prefix] == t[prefix + 1]
                && n[prefix + 1] == t[prefix]
                && n[prefix + 2..] == t[prefix + 2..];
            swapped.then(|| format!("swapped characters `{}{}`", t[prefix], t[prefix + 1]))
        }
        _ => None,
    }
}

/// Finds the popular name `name` most likely imitates, if any.
pub fn candidate(
    name: &str,
    top: &TopPackages,
    allowed: &[(PackageName, PackageName)],
) -> Option<Candidate> {
    if top.rank(name).is_some() || name.len() < 4 {
        return None;
    }
    let mut found: Vec<Candidate> = Vec::new();
    let mut push = |target: &'static str, transform: String, distance: u8| {
        if target == name
            || allowed
                .iter()
                .any(|(a, b)| a.as_str() == name && b.as_str() == target)
        {
            return;
        }
        let Some(rank) = top.rank(target) else { return };
        found.push(Candidate {
            target,
            rank,
            transform,
            distance,
            confidence: Confidence::Low,
        });
    };

    // Whole-name transforms: separators, word order, affixes, look-alike runs.
    if let Some(t) = top.joined(name) {
        push(t, "separators changed".into(), 1);
    }
    if name.contains('-')
        && let Some(t) = top.same_words(name)
    {
        push(t, "words swapped".into(), 1);
    }
    for p in PREFIXES {
        if let Some(rest) = name.strip_prefix(p)
            && rest.len() >= 3
            && let Some(i) = top.rank(rest).and_then(|r| top.name(r - 1))
        {
            push(i, format!("added prefix `{p}`"), 1);
        }
    }
    for s in SUFFIXES {
        if let Some(rest) = name.strip_suffix(s)
            && rest.len() >= 3
            && let Some(i) = top.rank(rest).and_then(|r| top.name(r - 1))
        {
            let what = if s
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit())
            {
                format!("added version digit `{s}`")
            } else {
                format!("added suffix `{s}`")
            };
            push(i, what, 1);
        }
    }
    for (a, b) in HOMOGLYPH_RUNS {
        for (from, to) in [(a, b), (b, a)] {
            if name.contains(from) {
                let t = name.replacen(from, to, 1);
                if let Some(i) = top.rank(&t).and_then(|r| top.name(r - 1)) {
                    push(i, format!("look-alike `{from}` for `{to}`"), 1);
                }
            }
        }
    }

    // One character: symmetric delete against the deletion index.
    let mut one: Vec<u32> = top.with_deletion(name).to_vec();
    let dels = deletions(name);
    for d in &dels {
        if let Some(r) = top.rank(d) {
            one.push(r - 1);
        }
        one.extend_from_slice(top.with_deletion(d));
    }
    one.sort_unstable();
    one.dedup();
    for i in one {
        if let Some(t) = top.name(i)
            && let Some(what) = classify(name, t)
        {
            push(t, what, 1);
        }
    }

    // Two edits, for long names only.
    if name.len() >= 10 {
        let mut two: Vec<u32> = Vec::new();
        for d in &dels {
            for d2 in deletions(d) {
                if let Some(r) = top.rank(&d2) {
                    two.push(r - 1);
                }
                two.extend_from_slice(top.with_deletion(&d2));
            }
        }
        two.sort_unstable();
        two.dedup();
        for i in two {
            if let Some(t) = top.name(i)
                && t.len() >= 10
                && strsim::damerau_levenshtein(name, t) == 2
            {
                push(t, "two character edits".into(), 2);
            }
        }
    }

    for c in &mut found {
        c.confidence = confidence(c, name);
    }
    found.retain(admissible);
    found.sort_by_key(|c| (std::cmp::Reverse(c.confidence), c.distance, c.rank));
    found.into_iter().next()
}

/// Length- and rank-dependent thresholds: short names are dense, obscure targets are weak evidence.
fn admissible(c: &Candidate) -> bool {
    let len = c.target.len();
    let whole_name = ["added", "words", "separators"]
        .iter()
        .any(|p| c.transform.starts_with(p));
    let strong = c.transform.starts_with("look-alike")
        || c.transform.starts_with("repeated")
        || c.transform.starts_with("swapped");
    match c.distance {
        1 if len < 4 => false,
        1 if whole_name => c.rank <= 5000,
        1 if len < 6 => {
            (strong && c.rank <= 2000)
                || (len == 5
                    && c.rank <= 100
                    && (c.transform.starts_with("inserted") || c.transform.starts_with("omitted")))
        }
        1 => c.rank <= 15_000,
        _ => len >= 10 && c.rank <= 5000,
    }
}

fn confidence(c: &Candidate, name: &str) -> Confidence {
    if c.distance == 2 || c.rank > 5000 {
        return Confidence::Low;
    }
    let len = name.len().min(c.target.len());
    let char_edit = !c.transform.starts_with("added")
        && !c.transform.starts_with("words")
        && !c.transform.starts_with("separators");
    if c.rank <= 2000
        && (len >= 6 || c.transform.starts_with("look-alike"))
        && (char_edit || c.rank <= 1000)
    {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

/// A name with a history of its own: at least [`KNOWN_RELEASES`] releases
/// over at least [`KNOWN_DAYS`] days before the locked one. A squat lives
/// from the day it is registered to the day it is found; a project that
/// shipped for half a year under its name is far less likely to be one.
const KNOWN_RELEASES: usize = 10;
const KNOWN_DAYS: i64 = 180;

/// Lowers a typosquat finding one level when the index shows the name has a
/// history of its own, and says so in its evidence; never hides it.
pub fn weigh_history(f: &mut Finding, pkg: &Package, facts: &crate::index::ProjectFacts) {
    let Some((releases, first, days)) = pkg.version.as_ref().and_then(|v| facts.history_before(v))
    else {
        return;
    };
    if releases < KNOWN_RELEASES || days < KNOWN_DAYS || f.severity <= Severity::Low {
        return;
    }
    let was = f.severity;
    f.severity = was.lowered();
    f.evidence.push(crate::finding::Evidence {
        label: "lowered".into(),
        value: format!(
            "from {was}: {releases} releases of its own since {} before this one",
            first.strftime("%Y-%m-%d")
        ),
    });
}

/// The finding for a package, if its name imitates a popular one.
pub fn check(
    pkg: &Package,
    top: &TopPackages,
    allowed: &[(PackageName, PackageName)],
) -> Option<Finding> {
    let c = candidate(pkg.name.as_str(), top, allowed)?;
    Some(finding(
        Finding::for_package(RuleId::Typosquat, pkg),
        pkg.name.as_str(),
        &c,
    ))
}

/// Fills a typosquat finding for `name` and its candidate.
pub fn finding(builder: crate::finding::FindingBuilder, name: &str, c: &Candidate) -> Finding {
    let severity = match c.confidence {
        Confidence::High => Severity::High,
        Confidence::Medium => Severity::Medium,
        Confidence::Low => Severity::Low,
    };
    builder
        .severity(severity)
        .confidence(c.confidence)
        .evidence("target", c.target)
        .evidence("target-rank", c.rank.to_string())
        .evidence("transform", c.transform.clone())
        .message(format!(
            "{name} looks like {} (rank {} of the most-downloaded projects): {}",
            c.target, c.rank, c.transform
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::top;

    /// A project with `n` monthly releases from 2026-01-01, locked on the last.
    fn history(n: usize) -> (Package, crate::index::ProjectFacts) {
        let releases = (1..=n)
            .map(|i| crate::index::ReleaseFacts {
                version: format!("2.{i}"),
                files: vec![crate::index::FileFacts {
                    filename: format!("httpcore2-2.{i}.tar.gz"),
                    url: String::new(),
                    sha256: None,
                    upload_time: format!("2026-{:02}-01T00:00:00Z", i.min(12)).parse().ok(),
                    yanked: false,
                    yanked_reason: None,
                    size: None,
                    packagetype: None,
                }],
            })
            .collect();
        let facts = crate::index::ProjectFacts {
            name: "httpcore2".into(),
            releases,
            status: None,
            project_urls: Vec::new(),
            api: "json".into(),
            url: String::new(),
        };
        let pkg = Package::new(
            PackageName::new("httpcore2").unwrap(),
            Some(crate::package::Version::new(&format!("2.{n}"))),
            crate::package::Origin {
                file: "uv.lock".into(),
                line: 1,
            },
        );
        (pkg, facts)
    }

    #[test]
    fn a_name_with_half_a_year_of_its_own_releases_is_lowered_not_hidden() {
        let (pkg, facts) = history(12);
        let mut f = check(&pkg, top(), &[]).expect("httpcore2 imitates httpcore");
        assert_eq!(f.severity, Severity::High);
        weigh_history(&mut f, &pkg, &facts);
        assert_eq!(f.severity, Severity::Medium);
        assert!(
            f.evidence.iter().any(|e| e.label == "lowered"
                && e.value.contains("11 releases of its own since 2026-01-01")),
            "{:?}",
            f.evidence
        );
        // Three months and three releases: a squat's lifetime, not lowered.
        let (pkg, facts) = history(4);
        let mut f = check(&pkg, top(), &[]).expect("httpcore2 imitates httpcore");
        weigh_history(&mut f, &pkg, &facts);
        assert_eq!(f.severity, Severity::High);
    }

    fn hit(name: &str) -> Option<Candidate> {
        candidate(name, top(), &[])
    }

    #[test]
    fn historical_typosquats_are_caught_with_the_transform_named() {
        for (name, target, transform) in [
            ("reqeusts", "requests", "swapped"),
            ("botoa3", "boto3", "inserted character `a`"),
            ("requestss", "requests", "repeated"),
            ("reuqests", "requests", "swapped"),
            ("colourama", "colorama", "inserted character `u`"),
            ("jeilyfish", "jellyfish", "look-alike character `i` for `l`"),
            ("djanga", "django", "substituted"),
            ("urlib3", "urllib3", "omitted character `l`"),
            ("beautifulsup4", "beautifulsoup4", "omitted"),
            (
                "crypt0graphy",
                "cryptography",
                "look-alike character `0` for `o`",
            ),
            ("python3-dateutil", "python-dateutil", "inserted"),
            (
                "python-dateutils",
                "python-dateutil",
                "inserted character `s`",
            ),
            ("dateutil-python", "python-dateutil", "words swapped"),
            ("pythondateutil", "python-dateutil", "separators"),
            ("requests3", "requests", "version digit"),
            ("python-requests", "requests", "added prefix `python-`"),
            ("numpy-lib", "numpy", "added suffix `-lib`"),
            ("setuptool", "setuptools", "omitted character `s`"),
            ("pandsa", "pandas", "swapped"),
            ("rnatplotlib", "matplotlib", "look-alike `rn` for `m`"),
            (
                "matplotllb",
                "matplotlib",
                "look-alike character `l` for `i`",
            ),
            ("flaks", "flask", "swapped"),
            ("djangoo", "django", "repeated character `o`"),
        ] {
            let c = hit(name).unwrap_or_else(|| panic!("{name} not flagged"));
            assert_eq!(c.target, target, "{name}: {c:?}");
            assert!(c.transform.contains(transform), "{name}: {c:?}");
        }
    }

    #[test]
    fn legitimate_near_pairs_are_quiet() {
        for name in [
            "boto",
            "boto3",
            "jinja2",
            "jinja",
            "attrs",
            "attr",
            "pyyaml",
            "python-dateutil",
            "typing-extensions",
            "typing_extensions",
            "msgpack",
            "msgpack-python",
            "requests",
            "six",
            "yaml",
            "urllib",
            "sklearn",
            "bs4",
            "pil",
            "numpy",
            "scipy",
            "pytest-cov",
            "types-requests",
        ] {
            let n = PackageName::new(name).unwrap();
            assert_eq!(hit(n.as_str()), None, "{name} flagged");
        }
    }

    #[test]
    fn configured_pairs_are_allowed() {
        let pair = (
            PackageName::new("reqeusts").unwrap(),
            PackageName::new("requests").unwrap(),
        );
        assert!(candidate("reqeusts", top(), &[pair]).is_none());
    }

    #[test]
    fn popular_exact_typos_are_high_confidence() {
        assert_eq!(hit("reqeusts").unwrap().confidence, Confidence::High);
        assert_eq!(hit("colourama").unwrap().confidence, Confidence::High);
    }
}
