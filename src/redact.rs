//! The one redaction point for secrets: index credentials never reach a
//! report, a message, a log line or the cache.
//!
//! Two layers. [`url`] hides the user info of a URL and the values of query
//! parameters whose names look secret (`token`, `key`, `sig`, `signature`,
//! `password`, `X-Amz-*`...); [`text`] does that for every URL inside free
//! text (error strings from the HTTP stack include the URL). And every secret
//! the run knows of (passwords and tokens from index URLs, `.netrc`, uv's
//! `UV_INDEX_*` variables) is [`register`]ed, so that [`scrub`], applied to
//! everything customs writes, replaces it wherever it appears, whatever
//! the path that carried it there.

use std::sync::Mutex;

use crate::lockfile::text::percent_decode;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Secrets shorter than this are not scrubbed from free text (a one-letter
/// password would blank every such letter); they still never appear in URLs.
const MIN_SCRUB: usize = 4;

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a secret of this run: [`scrub`] replaces it from now on, in its
/// written and its percent-encoded and -decoded forms.
pub fn register(secret: &str) {
    if secret.len() < MIN_SCRUB {
        return;
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let forms = [
        secret.to_string(),
        percent_decode(secret),
        percent_encode(secret),
        // As a JSON report writes it (`"` and `\` escaped).
        json.trim_matches('"').to_string(),
    ];
    let Ok(mut known) = SECRETS.lock() else {
        return;
    };
    for f in forms {
        if f.len() >= MIN_SCRUB && !known.contains(&f) {
            known.push(f);
        }
    }
    // Longest first, so that a secret containing another is replaced whole.
    known.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the password (and a user name that is a token) of a URL.
pub fn register_url(raw: &str) {
    if let Some((user, password)) = userinfo(raw) {
        match password {
            Some(p) => register(&p),
            // `https://TOKEN@host`: the user name is the secret.
            None => register(&user),
        }
    }
}

/// Everything customs writes goes through here: URLs in the text redacted,
/// registered secrets replaced.
pub fn scrub(s: &str) -> String {
    let mut out = text(s);
    if let Ok(known) = SECRETS.lock() {
        for secret in known.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    out
}

/// Redacts every `scheme://...` URL inside free text.
pub fn text(s: &str) -> String {
    if !s.contains("://") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("://") {
        // The scheme: ASCII letters, digits, `+`, `-`, `.` before `://`
        // (walked back by byte: the first non-scheme byte, ASCII or part of a
        // multi-byte character, ends it on a character boundary).
        let scheme_start = rest.as_bytes()[..pos]
            .iter()
            .rposition(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .map_or(0, |i| i + 1);
        let end = rest[pos..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | ')'))
            .map_or(rest.len(), |i| pos + i);
        out.push_str(&rest[..scheme_start]);
        if scheme_start == pos {
            // `://` with no scheme: not a URL.
            out.push_str(&rest[pos..pos + 3]);
            rest = &rest[pos + 3..];
            continue;
        }
        out.push_str(&url(&rest[scheme_start..end]));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Redacts one URL: `https://user:pass@host/x?token=t` ->
/// `https://user:***@host/x?token=***`; a user name alone is taken as a token.
pub fn url(raw: &str) -> String {
    let Some(scheme_end) = raw.find("://") else {
        return raw.to_string();
    };
    let rest = &raw[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = raw[..scheme_end + 3].to_string();
    match authority.rfind('@') {
        Some(at) => {
            match authority[..at].split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push(':');
                    out.push_str(MASK);
                }
                None => out.push_str(MASK),
            }
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
    let after = &rest[authority_end..];
    let (path_query, fragment) = match after.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (after, None),
    };
    match path_query.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let parts: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if secret_param(k) => format!("{k}={MASK}"),
                    _ => kv.to_string(),
                })
                .collect();
            out.push_str(&parts.join("&"));
        }
        None => out.push_str(path_query),
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Whether a query parameter's name says its value is a secret.
fn secret_param(name: &str) -> bool {
    let n = percent_decode(name).to_ascii_lowercase();
    n.starts_with("x-amz-")
        || n.starts_with("x-goog-")
        || [
            "token",
            "access_token",
            "auth",
            "key",
            "api_key",
            "apikey",
            "sig",
            "signature",
            "password",
            "passwd",
            "secret",
            "credential",
        ]
        .contains(&n.as_str())
        || n.ends_with("token")
        || n.ends_with("secret")
        || n.ends_with("password")
}

/// The user name and password of a URL's user info, percent-decoded.
pub fn userinfo(raw: &str) -> Option<(String, Option<String>)> {
    let rest = &raw[raw.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (info, _) = authority.rsplit_once('@')?;
    Some(match info.split_once(':') {
        Some((u, p)) => (percent_decode(u), Some(percent_decode(p))),
        None => (percent_decode(info), None),
    })
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for (raw, want) in [
            (
                "https://__token__:pypi-AgEI@host.example/simple",
                "https://__token__:***@host.example/simple",
            ),
            (
                "https://SECRET@host.example/simple/",
                "https://***@host.example/simple/",
            ),
            (
                "https://files.example/a.whl?X-Amz-Signature=abc&X-Amz-Date=1&v=2#sha256=00",
                "https://files.example/a.whl?X-Amz-Signature=***&X-Amz-Date=***&v=2#sha256=00",
            ),
            (
                "https://h.example/x?token=t&api_key=k&page=3",
                "https://h.example/x?token=***&api_key=***&page=3",
            ),
            (
                "https://index.example/simple",
                "https://index.example/simple",
            ),
            ("not a url", "not a url"),
            (
                "https://user@host@evil.example/",
                "https://***@evil.example/",
            ),
        ] {
            assert_eq!(url(raw), want, "{raw}");
        }
    }

    #[test]
    fn urls_in_text() {
        assert_eq!(
            text(
                "https://u:p4ss@h.example/simple/six/: HTTP 500 (after 4 attempts); see (http://a:b@c/x)"
            ),
            "https://u:***@h.example/simple/six/: HTTP 500 (after 4 attempts); see (http://a:***@c/x)"
        );
        assert_eq!(text("a :// b"), "a :// b");
        assert_eq!(
            text("ünïcode https://x:y@h/ é"),
            "ünïcode https://x:***@h/ é"
        );
    }

    #[test]
    fn registered_secrets_are_scrubbed_in_every_form() {
        register("s3cr%2Ft-value");
        assert_eq!(scrub("got s3cr/t-value back"), "got *** back");
        assert_eq!(scrub("got s3cr%2Ft-value back"), "got *** back");
        register("ab");
        assert_eq!(scrub("ab"), "ab", "too short to scrub from text");
        register_url("https://__token__:pypi-tok3n@h.example/simple");
        assert_eq!(scrub("x pypi-tok3n y"), "x *** y");
        assert_eq!(
            userinfo("https://u%40x:p%3Aw@h/"),
            Some(("u@x".into(), Some("p:w".into())))
        );
    }
}
