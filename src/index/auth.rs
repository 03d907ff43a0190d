//! Index credentials: from the user info of index URLs, `.netrc` (as pip and
//! uv read it) and uv's `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD`. URLs are
//! stripped of their user info when parsed ([`super::IndexUrl`]); the
//! credentials live here, by host and port, and are sent only to a request
//! for that same host and port (reqwest drops them on a redirect elsewhere).

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

/// Credentials by URL prefix (host, port and path), as uv matches them: two
/// registries on one host with different tokens each get their own.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    entries: Vec<(Prefix, Credential)>,
}

/// Where a credential applies: a host, a port and a path prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Prefix {
    host: String,
    port: u16,
    path: String,
}

impl Prefix {
    fn of(url: &Url) -> Option<Self> {
        let path = url.path();
        // A page URL's directory: `/simple/` of `/simple/six/`; `/a/` of `/a/x.whl`.
        let dir = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "/",
        };
        Some(Self {
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
            path: dir.to_string(),
        })
    }

    fn host_only(url: &Url) -> Option<Self> {
        Self::of(url).map(|p| Self {
            path: "/".into(),
            ..p
        })
    }

    fn covers(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(&self.host))
            && url.port_or_known_default() == Some(self.port)
            && url.path().starts_with(&self.path)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(
                self.entries
                    .iter()
                    .map(|(p, _)| format!("{}:{}{}", p.host, p.port, p.path)),
            )
            .finish()
    }
}

impl Credentials {
    /// Adds the credential for the index at `url` (its host, port and path);
    /// for the same prefix the first one given wins (the user's own index URL
    /// and environment before a lockfile's, before `.netrc`).
    pub fn add(&mut self, url: &Url, credential: Credential) {
        self.add_at(Prefix::of(url), credential);
    }

    fn add_at(&mut self, prefix: Option<Prefix>, credential: Credential) {
        let Some(prefix) = prefix else { return };
        // The password is the secret; a user name alone is a token.
        match &credential.password {
            Some(p) => crate::redact::register(p),
            None => crate::redact::register(&credential.username),
        }
        if !self.entries.iter().any(|(p, _)| *p == prefix) {
            self.entries.push((prefix, credential));
        }
    }

    /// Takes the user info out of `url` into the store; returns the URL without it.
    pub fn take_userinfo(&mut self, url: &Url) -> Url {
        let mut clean = url.clone();
        if !url.username().is_empty() || url.password().is_some() {
            let decode = crate::lockfile::text::percent_decode;
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

    /// The credential for a request to `url`: the longest prefix that covers
    /// it, else the first one for the same host and port (an index serving
    /// its files under another path, as pip's per-host credentials allow).
    pub fn for_url(&self, url: &Url) -> Option<&Credential> {
        self.entries
            .iter()
            .filter(|(p, _)| p.covers(url))
            .max_by_key(|(p, _)| p.path.len())
            .or_else(|| {
                self.entries.iter().find(|(p, _)| {
                    Prefix::host_only(url).is_some_and(|h| h.host == p.host && h.port == p.port)
                })
            })
            .map(|(_, c)| c)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
                    self.add_at(
                        Prefix::host_only(url),
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
        assert_eq!(format!("{c:?}"), "[\"index.example:443/\"]");
        // Two registries on one host: each its own token, by path.
        let mut c = Credentials::default();
        let a = Url::parse("https://git.example/api/v4/projects/1/packages/pypi/simple/").unwrap();
        let b = Url::parse("https://git.example/api/v4/projects/2/packages/pypi/simple/").unwrap();
        let cred = |u: &str| Credential {
            username: u.into(),
            password: Some(format!("{u}-password")),
        };
        c.add(&a, cred("one"));
        c.add(&b, cred("two"));
        c.add_netrc(
            "machine git.example login fallback password fallback-pw\n",
            std::slice::from_ref(&a),
        );
        let user = |u: &str| {
            c.for_url(&Url::parse(u).unwrap())
                .map(|c| c.username.clone())
        };
        assert_eq!(
            user("https://git.example/api/v4/projects/1/packages/pypi/simple/six/").as_deref(),
            Some("one")
        );
        assert_eq!(
            user("https://git.example/api/v4/projects/2/packages/pypi/files/x.whl").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            user("https://git.example/api/v4/projects/2/packages/pypi/simple/six/").as_deref(),
            Some("two")
        );
        assert_eq!(user("https://files.example/x.whl"), None);
        // Files under another path of the same host: that host's credential.
        let mut c = Credentials::default();
        c.add(&a, cred("one"));
        assert_eq!(
            c.for_url(&Url::parse("https://git.example/files/x.whl").unwrap())
                .map(|c| c.username.as_str()),
            Some("one")
        );
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
