//! Line-level grammar: joining, comments, `${VAR}`, and pip's option syntax.

use std::collections::BTreeMap;

/// Joins physical lines into logical ones the way pip's `join_lines` does,
/// returning each with the number of its first physical line.
pub(super) fn logical_lines(content: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, raw) in content.lines().enumerate() {
        let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let is_comment = is_comment_line(line);
        if !line.ends_with('\\') || is_comment {
            // A comment line always ends a continuation; pip prefixes it with a
            // space so that the comment is stripped from the joined line.
            let line = if is_comment {
                format!(" {line}")
            } else {
                line.to_string()
            };
            match pending.take() {
                Some((first, mut joined)) => {
                    joined.push_str(&line);
                    out.push((first, joined));
                }
                None => out.push((number, line)),
            }
        } else {
            let part = line.trim_matches('\\');
            match &mut pending {
                Some((_, joined)) => joined.push_str(part),
                None => pending = Some((number, part.to_string())),
            }
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// pip's `COMMENT_RE.match`: optional leading whitespace, then `#`.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a comment: `#` at the start or after whitespace, to the end.
pub(super) fn strip_comment(line: &str) -> String {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end().to_string();
        }
    }
    line.to_string()
}

/// Expands `${NAME}` (uppercase letters, digits, `_`) from `env`; unknown
/// variables are left as written, as pip does.
pub(super) fn expand_env(line: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') =>
            {
                let name = &after[..end];
                match env.get(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// pip's `break_args_options`: the words before the first one starting with
/// `-` are the requirement, the rest are options.
pub(super) fn break_args_options(line: &str) -> (String, String) {
    let tokens: Vec<&str> = line.split(' ').collect();
    let split = tokens
        .iter()
        .position(|t| t.starts_with('-'))
        .unwrap_or(tokens.len());
    (
        tokens[..split].join(" ").trim().to_string(),
        tokens[split..].join(" "),
    )
}

/// The options found on a line.
#[derive(Debug, Default)]
pub(super) struct Options {
    /// Line options with their value (`""` for flags), in order, names as pip spells the long form
    /// (short forms are kept as written: `-r`, `-c`, `-e`, `-i`, `-f`).
    pub line_only: Vec<(String, String)>,
    /// `--hash` values.
    pub hashes: Vec<String>,
    /// `--config-settings`, `--global-option`.
    pub per_requirement: Vec<(String, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Line,
    Flag,
    Hash,
    PerRequirement,
}

const TABLE: &[(&str, Option<&str>, Kind)] = &[
    ("--requirement", Some("-r"), Kind::Line),
    ("--constraint", Some("-c"), Kind::Line),
    ("--editable", Some("-e"), Kind::Line),
    ("--index-url", Some("-i"), Kind::Line),
    ("--extra-index-url", None, Kind::Line),
    ("--find-links", Some("-f"), Kind::Line),
    ("--trusted-host", None, Kind::Line),
    ("--only-binary", None, Kind::Line),
    ("--no-binary", None, Kind::Line),
    ("--use-feature", None, Kind::Line),
    ("--no-index", None, Kind::Flag),
    ("--pre", None, Kind::Flag),
    ("--prefer-binary", None, Kind::Flag),
    ("--require-hashes", None, Kind::Flag),
    ("--hash", None, Kind::Hash),
    ("--config-settings", None, Kind::PerRequirement),
    ("--global-option", None, Kind::PerRequirement),
];

/// Parses the option part of a line with optparse's rules: `--long=value`,
/// `--long value`, `-s value`, `-svalue`, unique prefixes of long options.
pub(super) fn parse_options(text: &str) -> Result<Options, String> {
    let words = shlex(text)?;
    let mut out = Options::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let (long, short, kind, inline) = if let Some(body) = word.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let full = format!("--{name}");
            let exact = TABLE.iter().find(|(l, _, _)| *l == full);
            let entry = match exact {
                Some(e) => e,
                None => {
                    let matches: Vec<_> = TABLE
                        .iter()
                        .filter(|(l, _, _)| l.starts_with(&full))
                        .collect();
                    match matches.as_slice() {
                        [one] => *one,
                        [] => return Err(format!("no such option: {full}")),
                        _ => return Err(format!("ambiguous option: {full}")),
                    }
                }
            };
            (entry.0, entry.1, entry.2, inline)
        } else if let Some(body) = word.strip_prefix('-') {
            let Some(flag) = body.chars().next() else {
                return Err("a lone `-` is not an option".into());
            };
            let short = format!("-{flag}");
            let entry = TABLE
                .iter()
                .find(|(_, s, _)| *s == Some(short.as_str()))
                .ok_or_else(|| format!("no such option: {short}"))?;
            let rest = &body[flag.len_utf8()..];
            (
                entry.0,
                entry.1,
                entry.2,
                (!rest.is_empty()).then(|| rest.to_string()),
            )
        } else {
            return Err(format!("unexpected `{word}` after the options"));
        };
        let name = short.unwrap_or(long).to_string();
        if kind == Kind::Flag {
            if inline.is_some() {
                return Err(format!("option {long} takes no value"));
            }
            out.line_only.push((long.to_string(), String::new()));
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let v = words
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("option {long} requires a value"))?;
                i += 1;
                v
            }
        };
        match kind {
            Kind::Line => out.line_only.push((name, value)),
            Kind::Hash => out.hashes.push(value),
            Kind::PerRequirement => out.per_requirement.push((long.to_string(), value)),
            Kind::Flag => {}
        }
    }
    Ok(out)
}

/// POSIX shell-like splitting (Python's `shlex.split`): quotes and backslashes.
fn shlex(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
                        None => return Err("unclosed single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => cur.push(ch),
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err("unclosed double quote".into()),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err("unclosed double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    cur.push(ch);
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_into_a_comment_ends_the_line() {
        let text = "requests==2.0 \\\n    --hash=sha256:aa \\\n    # via foo\nsix==1.0\n";
        let lines = logical_lines(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, 1);
        assert_eq!(
            strip_comment(&lines[0].1).trim(),
            "requests==2.0     --hash=sha256:aa"
        );
        assert_eq!(lines[1], (4, "six==1.0".to_string()));
    }

    #[test]
    fn trailing_backslash_at_eof_and_crlf() {
        let lines = logical_lines("a==1 \\\r\n  --hash=sha256:bb \\");
        assert_eq!(lines, vec![(1, "a==1   --hash=sha256:bb ".to_string())]);
    }

    #[test]
    fn comments() {
        assert_eq!(strip_comment("six==1 # pinned"), "six==1");
        assert_eq!(strip_comment("# all"), "");
        assert_eq!(
            strip_comment("https://h/x.whl#sha256=00"),
            "https://h/x.whl#sha256=00"
        );
    }

    #[test]
    fn env_vars_like_pip() {
        let env: BTreeMap<_, _> = [("TOKEN".to_string(), "s3cr3t".to_string())]
            .into_iter()
            .collect();
        assert_eq!(
            expand_env("https://u:${TOKEN}@h/simple", &env),
            "https://u:s3cr3t@h/simple"
        );
        assert_eq!(expand_env("${MISSING}/x", &env), "${MISSING}/x");
        assert_eq!(expand_env("${lower}", &env), "${lower}");
        assert_eq!(expand_env("${", &env), "${");
        assert_eq!(expand_env("a${}b", &env), "a${}b");
    }

    #[test]
    fn options() {
        let o = parse_options("--hash=sha256:aa --hash sha256:bb").unwrap();
        assert_eq!(o.hashes, vec!["sha256:aa", "sha256:bb"]);
        let o = parse_options("-rbase.txt").unwrap();
        assert_eq!(
            o.line_only,
            vec![("-r".to_string(), "base.txt".to_string())]
        );
        let o = parse_options("--index https://h/simple").unwrap();
        assert_eq!(o.line_only[0].0, "-i");
        assert!(
            parse_options("--bogus")
                .unwrap_err()
                .contains("no such option")
        );
        assert!(parse_options("--no-index=1").is_err());
        assert!(
            parse_options("-r")
                .unwrap_err()
                .contains("requires a value")
        );
        assert!(parse_options("-e 'unclosed").is_err());
        let o = parse_options("--config-settings \"a=b c\"").unwrap();
        assert_eq!(o.per_requirement[0].1, "a=b c");
    }
}
