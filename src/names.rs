//! The top-packages list shipped in the binary, and the indexes that make
//! near-name look-ups fast: a deletion index (symmetric delete, as SymSpell),
//! names without separators, and names with their words sorted.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The shipped list (see `scripts/gen-top-packages.py`).
const LIST: &str = include_str!("../data/top-packages.txt");

/// The popular names with look-up structures.
#[derive(Debug)]
pub struct TopPackages {
    names: Vec<&'static str>,
    rank: HashMap<&'static str, u32>,
    /// Every single-character deletion of every name, as a hash, sorted
    /// (a compact map: two megabytes where a map of strings took twenty).
    deletion_hashes: Vec<u64>,
    /// The name index of each entry of `deletion_hashes`.
    deletion_names: Vec<u32>,
    /// Name with `-` removed -> name index (first, most popular).
    joined: HashMap<String, u32>,
    /// Words sorted and joined -> name index.
    words: HashMap<String, u32>,
    /// The list's date, from its header.
    pub date: &'static str,
}

static TOP: OnceLock<TopPackages> = OnceLock::new();

/// The shipped list, indexed on first use.
pub fn top() -> &'static TopPackages {
    TOP.get_or_init(|| TopPackages::build(LIST))
}

impl TopPackages {
    /// Builds the indexes from the list's text.
    pub fn build(text: &'static str) -> Self {
        let mut date = "";
        let mut names = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(pos) = comment.find("last_update ") {
                    date = comment[pos + "last_update ".len()..].trim();
                }
                continue;
            }
            if !line.is_empty() {
                names.push(line);
            }
        }
        let mut rank = HashMap::with_capacity(names.len());
        let mut deletes: Vec<(u64, u32)> = Vec::with_capacity(names.len() * 12);
        let mut joined = HashMap::with_capacity(names.len());
        let mut words = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            rank.entry(*name).or_insert(i + 1);
            deletes.extend(deletions(name).iter().map(|d| (key_hash(d), i)));
            joined.entry(name.replace('-', "")).or_insert(i);
            if name.contains('-') {
                words.entry(sorted_words(name)).or_insert(i);
            }
        }
        deletes.sort_unstable();
        deletes.dedup();
        let (deletion_hashes, deletion_names) = deletes.into_iter().unzip();
        Self {
            names,
            rank,
            deletion_hashes,
            deletion_names,
            joined,
            words,
            date,
        }
    }

    /// How many names the list has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The 1-based rank of a normalised name, if listed.
    pub fn rank(&self, name: &str) -> Option<u32> {
        self.rank.get(name).copied()
    }

    /// The name at a 0-based index.
    pub fn name(&self, index: u32) -> Option<&'static str> {
        self.names.get(index as usize).copied()
    }

    /// Names whose single deletions include `key` (by a 64-bit hash of it:
    /// callers measure the distance of every name they get).
    pub fn with_deletion(&self, key: &str) -> &[u32] {
        let h = key_hash(key);
        let lo = self.deletion_hashes.partition_point(|x| *x < h);
        let hi = self.deletion_hashes.partition_point(|x| *x <= h);
        self.deletion_names.get(lo..hi).unwrap_or(&[])
    }

    /// The listed name that equals `name` without separators.
    pub fn joined(&self, name: &str) -> Option<&'static str> {
        self.joined
            .get(&name.replace('-', ""))
            .and_then(|i| self.name(*i))
    }

    /// The listed name with the same words in another order.
    pub fn same_words(&self, name: &str) -> Option<&'static str> {
        self.words
            .get(&sorted_words(name))
            .and_then(|i| self.name(*i))
    }
}

/// The hash a deletion is indexed by: FNV-1a, 64 bits (fixed: the same in
/// every run; names are short, so it is cheaper than a keyed hash).
fn key_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Every string obtained by deleting one character.
pub fn deletions(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    for i in 0..chars.len() {
        let mut d = String::with_capacity(s.len());
        d.extend(chars[..i].iter());
        d.extend(chars[i + 1..].iter());
        if out.last() != Some(&d) {
            out.push(d);
        }
    }
    out
}

fn sorted_words(name: &str) -> String {
    let mut w: Vec<&str> = name.split('-').filter(|w| !w.is_empty()).collect();
    w.sort_unstable();
    w.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_loads_with_its_date() {
        let t = top();
        assert!(t.len() >= 10_000);
        assert_eq!(t.rank("boto3"), Some(1));
        assert!(t.rank("requests").is_some_and(|r| r < 20));
        assert!(t.date.starts_with("2026-"), "{}", t.date);
        assert_eq!(t.joined("pythondateutil"), Some("python-dateutil"));
        assert_eq!(t.same_words("dateutil-python"), Some("python-dateutil"));
    }

    #[test]
    fn deletions_are_unique_neighbours() {
        assert_eq!(deletions("abb"), vec!["bb", "ab"]);
        assert!(deletions("").is_empty());
    }
}
