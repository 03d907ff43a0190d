//! Index credentials: from the user info of index URLs, `.netrc` (as pip and
//! uv read it) and uv's `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD`. URLs are
//! stripped of their user info when parsed ([`super::IndexUrl`]); the
//! credentials live here, by host and port, and are sent only to a request
//! for that same host and port (reqwest drops them on a redirect elsewhere).

use std::collections::BTreeMap;
use std::fmt;

use url::Url;

/// A user name and password for one host.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The user name (`__token__` for API tokens).
    pub username: String,
    /// The password or token.
    pub password: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(***)")
    }
}

/// Credentials by (host, port).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    by_host: BTreeMap<(String, u16), Credential>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.by_host.keys().map(|(h, p)| format!("{h}:{p}")))
            .finish()
    }
}

fn key(url: &Url) -> Option<(String, u16)> {
    Some((
        url.host_str()?.to_ascii_lowercase(),
        url.port_or_known_default()?,
    ))
}

impl Credentials {
    /// Adds the credential for `url`'s host and port; the first one given wins
    /// (an explicit URL's user info before `.netrc`).
    pub fn add(&mut self, url: &Url, credential: Credential) {
        if let Some(k) = key(url) {
            crate::redact::register(&credential.username);
            if let Some(p) = &credential.password {
                crate::redact::register(p);
            }
            self.by_host.entry(k).or_insert(credential);
        }
    }

    /// Takes the user info out of `url` into the store; returns the URL without it.
    pub fn take_userinfo(&mut self, url: &Url) -> Url {
        let mut clean = url.clone();
        if !url.username().is_empty() || url.password().is_some() {
            let decode = crate::redact::percent_decode;
            self.add(
                url,
                Credential {
                    username: decode(url.username()),
                    password: url.password().map(decode),
                },
            );
            let _ = clean.set_username("");
            let _ = clean.set_password(None);
        }
        clean
    }

    /// The credential for a request to `url`, if its host and port have one.
    pub fn for_url(&self, url: &Url) -> Option<&Credential> {
        self.by_host.get(&key(url)?)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }

    /// Reads a `.netrc` text: `machine HOST login USER password PASS`
    /// (tokens in any order, across lines; `default` applies to no host here:
    /// credentials go only to a host that is named). Credentials for `hosts`
    /// (the index URLs in use) are added.
    pub fn add_netrc(&mut self, text: &str, hosts: &[Url]) {
        for (machine, login, password) in parse_netrc(text) {
            for url in hosts {
                if url
                    .host_str()
                    .is_some_and(|h| h.eq_ignore_ascii_case(&machine))
                {
                    self.add(
                        url,
                        Credential {
                            username: login.clone(),
                            password: password.clone(),
                        },
                    );
                }
            }
        }
    }
}

/// `(machine, login, password)` entries of a `.netrc`; `macdef` bodies skipped.
fn parse_netrc(text: &str) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let mut tokens = Vec::new();
    let mut in_macro = false;
    for line in text.lines() {
        if in_macro {
            if line.trim().is_empty() {
                in_macro = false;
            }
            continue;
        }
        let line = line.split('#').next().unwrap_or("");
        for t in line.split_whitespace() {
            if t == "macdef" {
                in_macro = true;
                break;
            }
            tokens.push(t.to_string());
        }
    }
    let mut current: Option<(String, Option<String>, Option<String>)> = None;
    let mut it = tokens.into_iter();
    while let Some(t) = it.next() {
        match t.as_str() {
            "machine" => {
                if let Some((m, Some(l), p)) = current.take() {
                    out.push((m, l, p));
                }
                current = it.next().map(|m| (m, None, None));
            }
            "default" => {
                if let Some((m, Some(l), p)) = current.take() {
                    out.push((m, l, p));
                }
            }
            "login" => {
                let v = it.next();
                if let Some(c) = current.as_mut() {
                    c.1 = v;
                }
            }
            "password" => {
                let v = it.next();
                if let Some(c) = current.as_mut() {
                    c.2 = v;
                }
            }
            "account" => {
                it.next();
            }
            _ => {}
        }
    }
    if let Some((m, Some(l), p)) = current {
        out.push((m, l, p));
    }
    out
}

/// The environment variable prefix uv uses for a named index:
/// `UV_INDEX_<NAME>_` with the name upper-cased and non-alphanumerics as `_`.
pub fn uv_env_prefix(name: &str) -> String {
    let n: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("UV_INDEX_{n}_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc() {
        let text = "machine index.example login alice password s3cret-pass\n# comment\nmachine other.example\n  login bob\n  password p2\nmacdef init\n  cd /\n\ndefault login anon password x\n";
        assert_eq!(
            parse_netrc(text),
            vec![
                (
                    "index.example".into(),
                    "alice".into(),
                    Some("s3cret-pass".into())
                ),
                ("other.example".into(), "bob".into(), Some("p2".into())),
            ]
        );
        let mut c = Credentials::default();
        let index = Url::parse("https://index.example/simple/").unwrap();
        c.add_netrc(text, std::slice::from_ref(&index));
        assert_eq!(
            c.for_url(&index).map(|c| c.username.as_str()),
            Some("alice")
        );
        let files = Url::parse("https://files.example/a.whl").unwrap();
        assert!(c.for_url(&files).is_none());
        let other_port = Url::parse("https://index.example:8443/simple/").unwrap();
        assert!(c.for_url(&other_port).is_none());
        assert_eq!(format!("{c:?}"), "[\"index.example:443\"]");
    }

    #[test]
    fn userinfo_moves_into_the_store() {
        let mut c = Credentials::default();
        let url = Url::parse("https://__token__:pypi%2Ftok@index.example/simple/").unwrap();
        let clean = c.take_userinfo(&url);
        assert_eq!(clean.as_str(), "https://index.example/simple/");
        let cred = c.for_url(&clean).unwrap();
        assert_eq!(cred.username, "__token__");
        assert_eq!(cred.password.as_deref(), Some("pypi/tok"));
        assert_eq!(format!("{cred:?}"), "Credential(***)");
        assert_eq!(uv_env_prefix("my-index.1"), "UV_INDEX_MY_INDEX_1_");
    }
}
