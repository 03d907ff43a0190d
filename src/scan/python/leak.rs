//! The flows pass (second part): data worth stealing that reaches a way out
//! of the machine. Sources, sinks and hosts are the facts of
//! `rules/flows.toml`; between them, data moves through assignments,
//! containers and their mutators (`d[k] = v`, `l.append(v)`, `zf.write(p)`),
//! f-strings, calls that wrap it (`json.dumps`, `b64encode`, `str`),
//! loops, `with`, function parameters and return values within the file,
//! `self.` attributes, and files staged on disk (`open(p, 'w').write(data)`,
//! then `open(p)` is data). Names are scoped by function, so two functions'
//! `data` are not one.
//!
//! Flow-insensitive within a scope, to a bounded fixpoint: what stealers do
//! (collect, encode, send) and not more.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ModModule, Stmt};
use ruff_text_size::Ranged;

use super::facts::{Facts, SourceCall};
use super::fold::{Env, Value, fold};

/// What kind of data a source yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// The whole process environment.
    Environment,
    /// What only stealers read: browser profiles, chat token stores,
    /// wallets, keychains, shell history, password files.
    Store,
    /// Credentials tools authenticate with (ssh, cloud, kube, docker, indexes, git).
    Credential,
    /// The clipboard.
    Clipboard,
    /// The screen.
    Screen,
    /// One secret-named environment variable.
    Secret,
    /// Host or user details.
    HostInfo,
}

impl SourceKind {
    /// Whether this alone is worth stealing (a single named secret is what
    /// every SDK reads; host details are what probes send).
    pub fn strong(self) -> bool {
        matches!(
            self,
            Self::Environment | Self::Store | Self::Credential | Self::Clipboard | Self::Screen
        )
    }

    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Environment => "the whole environment",
            Self::Store => "browser, chat or wallet stores",
            Self::Credential => "credential files",
            Self::Clipboard => "the clipboard",
            Self::Screen => "a screenshot",
            Self::Secret => "secret environment variables",
            Self::HostInfo => "host and user details",
        }
    }
}

/// One source: its kind, what it names, and its line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    /// The kind.
    pub kind: SourceKind,
    /// What it reads (`os.environ`, `AWS_SECRET_ACCESS_KEY`, `~/.ssh/id_rsa`).
    pub what: String,
    /// 1-based line.
    pub line: u32,
}

/// Data of a source that reaches a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// 1-based line of the sink call.
    pub line: u32,
    /// The sink, resolved (`requests.post`, `socket.socket.sendall`).
    pub sink: String,
    /// Its kind (`http`, `socket`, `dns`, `mail`, `ftp`, `messaging`, `command`).
    pub sink_kind: &'static str,
    /// What reaches it (none: a beacon, a call that only says it ran).
    pub sources: Vec<Source>,
    /// The receiving host as written (a URL, a host, a command line), when
    /// the file spells it.
    pub host: Option<String>,
}

/// Sources per value, at most this many (first found kept).
const MAX_SOURCES: usize = 8;
/// Leaks per file.
const MAX_LEAKS: usize = 32;

type Taint = Vec<Source>;

fn merge(into: &mut Taint, from: &[Source]) -> bool {
    let mut changed = false;
    for s in from {
        if into.len() >= MAX_SOURCES {
            break;
        }
        if !into.iter().any(|t| t.kind == s.kind && t.what == s.what) {
            into.push(s.clone());
            changed = true;
        }
    }
    changed
}

/// Methods that put their arguments into their receiver.
const MUTATORS: &[&str] = &[
    "append",
    "extend",
    "update",
    "add",
    "insert",
    "write",
    "writelines",
    "writestr",
    "put",
    "setdefault",
    "set",
    "attach",
    "add_attachment",
    "set_content",
    "set_payload",
    "add_file",
    "add_embed",
    "add_field",
    "set_description",
    // Parsers that read a file into themselves (`config.read(path)`).
    "read",
    "read_file",
    "read_string",
    "readfp",
    "feed",
];

/// Calls that copy a file (first argument) to a path (second).
const COPIERS: &[&str] = &[
    "shutil.copy",
    "shutil.copy2",
    "shutil.copyfile",
    "shutil.copytree",
    "shutil.move",
    "os.rename",
    "os.replace",
    "shutil.make_archive",
];

/// Keywords of HTTP calls that carry data (not timeouts, proxies, TLS).
const HTTP_DATA: &[&str] = &[
    "url", "data", "json", "params", "headers", "files", "body", "fields", "content", "cookies",
    "auth",
];

/// Calls whose result holds nothing of their arguments.
const OPAQUE: &[&str] = &[
    "len",
    "isinstance",
    "hasattr",
    "callable",
    "bool",
    "print",
    "type",
    "id",
    "os.path.exists",
    "os.path.isfile",
    "os.path.isdir",
    "os.path.getsize",
    "os.makedirs",
    "os.mkdir",
    "time.sleep",
];

/// A function of the file: its scope id, parameters, and whether it is a method.
struct Func {
    id: usize,
    params: Vec<String>,
    method: bool,
    /// Offset of the definition.
    at: usize,
}

struct Pass<'a> {
    env: &'a Env,
    facts: &'a Facts,
    lines: &'a crate::lockfile::LineIndex,
    /// Scoped name -> what it holds.
    names: HashMap<String, Taint>,
    /// Scoped name -> the constructor it was made by (`socket.socket`).
    instances: HashMap<String, String>,
    /// Scoped name -> the scoped name of the path its constructor was given.
    paths: HashMap<String, String>,
    /// Scoped name -> host or URL text it was assigned or connected to.
    hosts: HashMap<String, String>,
    /// Loop variables over literal lists of strings.
    loops: HashMap<String, Vec<String>>,
    /// Function name -> its definitions.
    funcs: HashMap<String, Vec<Func>>,
    /// Function definitions by start offset -> scope id.
    scope_of: HashMap<usize, usize>,
    /// Scopes being visited, innermost last, with the function's name.
    scope: Vec<(usize, String)>,
    changed: bool,
    /// Set on the last pass: record leaks.
    record: bool,
    leaks: Vec<Leak>,
    /// The first stealer-only source the file reads, wherever it goes.
    store_seen: std::cell::RefCell<Option<Source>>,
    /// Bare names of every key bound in any scope.
    bound: rustc_hash::FxHashSet<String>,
    /// What each string literal (by offset) names: asked once, not on
    /// every pass.
    literal_kinds: std::cell::RefCell<HashMap<usize, Option<SourceKind>>>,
    /// Resolved names by expression span.
    resolutions: std::cell::RefCell<HashMap<(usize, usize), Option<String>>>,
}

/// The text of a string literal or an f-string's literal parts.
fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        Expr::FString(f) => {
            let mut out = String::new();
            for el in f.value.elements() {
                match el {
                    ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                    ast::InterpolatedStringElement::Interpolation(_) => out.push('?'),
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// The longest text [`hostish`] considers: URLs beyond it are not worth a
/// look (browsers cap them near this), megabyte buffers are not hosts.
const MAX_HOSTISH: usize = 64 * 1024;

/// Whether a text names a host: a URL, or a dotted name with a letter TLD, or an IP.
fn hostish(s: &str) -> bool {
    // No host or URL is this long; a test's megabyte buffer is not one.
    if s.len() > MAX_HOSTISH {
        return false;
    }
    if s.contains("://") {
        return true;
    }
    let t = s.trim();
    if t.parse::<std::net::Ipv4Addr>().is_ok() {
        return true;
    }
    !t.contains(char::is_whitespace)
        && t.len() <= 253
        && t.split('.').count() >= 2
        && t.rsplit('.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphanumeric()))
        && t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

impl Pass<'_> {
    fn line(&self, expr: &Expr) -> u32 {
        self.lines.line_of(usize::from(expr.start()))
    }

    /// Remembers the bare name of a scoped key (`3:data` -> `data`).
    fn bind(&mut self, key: &str) {
        let bare = match key.split_once(':') {
            Some((scope, name)) if scope.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => key,
        };
        if !self.bound.contains(bare) {
            self.bound.insert(bare.to_string());
        }
    }

    /// The key a name is bound under in the current scope.
    fn bind_key(&self, name: &str) -> String {
        match self.scope.last() {
            Some((id, _)) => format!("{id}:{name}"),
            None => name.to_string(),
        }
    }

    /// The key a name resolves to: innermost scope that binds it, else module.
    fn lookup_key<T>(&self, map: &HashMap<String, T>, name: &str) -> Option<String> {
        // Most names hold nothing: no key is built for them.
        if !self.bound.contains(name) {
            return None;
        }
        for (id, _) in self.scope.iter().rev() {
            let k = format!("{id}:{name}");
            if map.contains_key(&k) {
                return Some(k);
            }
        }
        map.contains_key(name).then(|| name.to_string())
    }

    /// The key of an assignable expression: a name, or a `self.` attribute.
    fn target_key(&self, expr: &Expr, bind: bool) -> Option<String> {
        match expr {
            Expr::Name(n) => Some(if bind {
                self.bind_key(n.id.as_str())
            } else {
                self.lookup_key(&self.names, n.id.as_str())
                    .or_else(|| self.lookup_key(&self.instances, n.id.as_str()))
                    .or_else(|| self.lookup_key(&self.hosts, n.id.as_str()))
                    .unwrap_or_else(|| self.bind_key(n.id.as_str()))
            }),
            Expr::Attribute(a) => match a.value.as_ref() {
                Expr::Name(n) if n.id.as_str() == "self" || n.id.as_str() == "cls" => {
                    Some(format!("self.{}", a.attr.as_str()))
                }
                other => self.target_key(other, false),
            },
            Expr::Subscript(s) => self.target_key(&s.value, false),
            _ => None,
        }
    }

    fn taint_key(&mut self, key: String, t: &[Source]) {
        if t.is_empty() {
            return;
        }
        self.bind(&key);
        let entry = self.names.entry(key).or_default();
        if merge(entry, t) {
            self.changed = true;
        }
    }

    fn assign(&mut self, target: &Expr, t: &[Source]) {
        match target {
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for e in elts {
                    self.assign(e, t);
                }
            }
            Expr::Starred(s) => self.assign(&s.value, t),
            Expr::Name(_) => {
                if let Some(k) = self.target_key(target, true) {
                    self.taint_key(k, t);
                }
            }
            other => {
                if let Some(k) = self.target_key(other, false) {
                    self.taint_key(k, t);
                }
            }
        }
    }

    /// What a callee resolves to: a module name, or a method of an instance.
    fn callee(&self, func: &Expr) -> Option<String> {
        if let Some(q) = self.resolved(func) {
            return Some(q);
        }
        let Expr::Attribute(a) = func else {
            return None;
        };
        let attr = a.attr.as_str();
        match a.value.as_ref() {
            // `requests.Session().post`, `smtplib.SMTP(h).sendmail`.
            Expr::Call(inner) => self.callee(&inner.func).map(|q| format!("{q}.{attr}")),
            other => {
                let key = self.target_key(other, false)?;
                self.instances.get(&key).map(|q| format!("{q}.{attr}"))
            }
        }
    }

    fn is_environment(&self, expr: &Expr) -> bool {
        if !matches!(expr, Expr::Name(_) | Expr::Attribute(_)) {
            return false;
        }
        self.resolved(expr)
            .is_some_and(|q| self.facts.environment.contains(&q))
    }

    /// What a name or attribute resolves to through imports and aliases,
    /// folded once per expression however many passes ask.
    fn resolved(&self, expr: &Expr) -> Option<String> {
        let key = (usize::from(expr.start()), usize::from(expr.end()));
        if let Some(r) = self.resolutions.borrow().get(&key) {
            return r.clone();
        }
        let r = match fold(expr, self.env, 0) {
            Some((Value::Ref(q), _)) => Some(q),
            _ => None,
        };
        self.resolutions.borrow_mut().insert(key, r.clone());
        r
    }

    /// A named variable read: classified by its name.
    fn named(&self, name_expr: Option<&Expr>, at: u32) -> Taint {
        let Some(e) = name_expr else {
            return Vec::new();
        };
        let names = match fold(e, self.env, 0) {
            Some((Value::Str(s), _)) => vec![s],
            _ => match e {
                Expr::Name(n) => self
                    .lookup_key(&self.loops, n.id.as_str())
                    .and_then(|k| self.loops.get(&k).cloned())
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
        };
        let mut out = Vec::new();
        for n in names {
            let kind = if self.facts.secret_names.is_match(n.as_bytes()) {
                SourceKind::Secret
            } else if self.facts.host_names.is_match(n.as_bytes()) {
                SourceKind::HostInfo
            } else {
                continue;
            };
            merge(
                &mut out,
                &[Source {
                    kind,
                    what: n,
                    line: at,
                }],
            );
        }
        out
    }

    fn taint_all<'x>(&self, exprs: impl Iterator<Item = &'x Expr>) -> Taint {
        let mut out = Vec::new();
        for e in exprs {
            merge(&mut out, &self.taint(e));
        }
        out
    }

    /// What data of which sources an expression holds.
    fn taint(&self, expr: &Expr) -> Taint {
        let at = || self.line(expr);
        match expr {
            Expr::Name(n) => {
                if self.is_environment(expr) {
                    return vec![Source {
                        kind: SourceKind::Environment,
                        what: "os.environ".into(),
                        line: at(),
                    }];
                }
                self.lookup_key(&self.names, n.id.as_str())
                    .and_then(|k| self.names.get(&k).cloned())
                    .unwrap_or_default()
            }
            Expr::Attribute(a) => {
                if self.is_environment(expr) {
                    return vec![Source {
                        kind: SourceKind::Environment,
                        what: "os.environ".into(),
                        line: at(),
                    }];
                }
                let mut t = self
                    .target_key(expr, false)
                    .filter(|k| k.starts_with("self."))
                    .and_then(|k| self.names.get(&k).cloned())
                    .unwrap_or_default();
                merge(&mut t, &self.taint(&a.value));
                t
            }
            Expr::Subscript(s) => {
                if self.is_environment(&s.value) {
                    return self.named(Some(&s.slice), at());
                }
                self.taint(&s.value)
            }
            Expr::Call(c) => self.call_taint(c, expr),
            Expr::BinOp(b) => self.taint_all([b.left.as_ref(), b.right.as_ref()].into_iter()),
            Expr::BoolOp(b) => self.taint_all(b.values.iter()),
            Expr::If(i) => self.taint_all([i.body.as_ref(), i.orelse.as_ref()].into_iter()),
            Expr::FString(f) => {
                let mut out = Vec::new();
                for el in f.value.elements() {
                    if let ast::InterpolatedStringElement::Interpolation(i) = el {
                        merge(&mut out, &self.taint(&i.expression));
                    }
                }
                out
            }
            Expr::List(ast::ExprList { elts, .. })
            | Expr::Tuple(ast::ExprTuple { elts, .. })
            | Expr::Set(ast::ExprSet { elts, .. }) => self.taint_all(elts.iter()),
            Expr::Dict(d) => {
                let mut out = Vec::new();
                for item in &d.items {
                    if let Some(k) = &item.key {
                        merge(&mut out, &self.taint(k));
                    }
                    merge(&mut out, &self.taint(&item.value));
                }
                out
            }
            Expr::ListComp(ast::ExprListComp {
                elt, generators, ..
            })
            | Expr::SetComp(ast::ExprSetComp {
                elt, generators, ..
            })
            | Expr::Generator(ast::ExprGenerator {
                elt, generators, ..
            }) => {
                let mut out = self.taint(elt);
                merge(
                    &mut out,
                    &self.taint_all(generators.iter().map(|g| &g.iter)),
                );
                out
            }
            Expr::DictComp(d) => {
                let mut out =
                    self.taint_all(d.key.iter().map(AsRef::as_ref).chain([d.value.as_ref()]));
                merge(
                    &mut out,
                    &self.taint_all(d.generators.iter().map(|g| &g.iter)),
                );
                out
            }
            Expr::Starred(s) => self.taint(&s.value),
            Expr::Await(a) => self.taint(&a.value),
            Expr::Named(n) => self.taint(&n.value),
            Expr::StringLiteral(s) => {
                let v = s.value.to_str();
                if let Some(t) = self.names.get(&format!("path:{v}")) {
                    return t.clone();
                }
                let at_offset = usize::from(s.start());
                let cached = self.literal_kinds.borrow().get(&at_offset).copied();
                let kind = match cached {
                    Some(k) => k,
                    None => {
                        let k = if v.len() > 160 || v.split_whitespace().count() > 2 {
                            None
                        } else if self.facts.store_paths.is_match(v.as_bytes()) {
                            Some(SourceKind::Store)
                        } else if self.facts.credential_paths.is_match(v.as_bytes()) {
                            Some(SourceKind::Credential)
                        } else {
                            None
                        };
                        self.literal_kinds.borrow_mut().insert(at_offset, k);
                        k
                    }
                };
                let Some(kind) = kind else {
                    return Vec::new();
                };
                let src = Source {
                    kind,
                    what: v.to_string(),
                    line: at(),
                };
                if kind == SourceKind::Store && self.store_seen.borrow().is_none() {
                    *self.store_seen.borrow_mut() = Some(src.clone());
                }
                vec![src]
            }
            _ => Vec::new(),
        }
    }

    fn call_taint(&self, c: &ast::ExprCall, expr: &Expr) -> Taint {
        let at = self.line(expr);
        let q = self.callee(&c.func);
        if let Some(q) = &q {
            match self.facts.source_calls.get(q) {
                Some(SourceCall::NamedEnv) => return self.named(c.arguments.args.first(), at),
                Some(kind) => {
                    return vec![Source {
                        kind: match kind {
                            SourceCall::Clipboard => SourceKind::Clipboard,
                            SourceCall::Screen => SourceKind::Screen,
                            SourceCall::Store => SourceKind::Store,
                            _ => SourceKind::HostInfo,
                        },
                        what: q.clone(),
                        line: at,
                    }];
                }
                None => {}
            }
            let base = q.strip_prefix("builtins.").unwrap_or(q);
            if OPAQUE.contains(&base) {
                return Vec::new();
            }
        } else if let Expr::Name(n) = c.func.as_ref()
            && OPAQUE.contains(&n.id.as_str())
        {
            return Vec::new();
        }
        // A function of this file: what it returns.
        if let Some(name) = self.local_function(&c.func) {
            let mut t = self
                .names
                .get(&format!("ret:{name}"))
                .cloned()
                .unwrap_or_default();
            // Methods of unknown receivers that share a name with a local
            // function keep what their arguments hold.
            if matches!(c.func.as_ref(), Expr::Attribute(_)) {
                merge(&mut t, &self.taint(&c.func));
            }
            return t;
        }
        let mut out = self.taint(&c.func);
        merge(&mut out, &self.taint_all(c.arguments.args.iter()));
        merge(
            &mut out,
            &self.taint_all(c.arguments.keywords.iter().map(|k| &k.value)),
        );
        out
    }

    /// The name of a function of this file that a callee calls.
    fn local_function<'e>(&self, func: &'e Expr) -> Option<&'e str> {
        let name = match func {
            Expr::Name(n) => n.id.as_str(),
            Expr::Attribute(a) if matches!(a.value.as_ref(), Expr::Name(s) if s.id.as_str() == "self" || s.id.as_str() == "cls") => {
                a.attr.as_str()
            }
            _ => return None,
        };
        self.funcs.contains_key(name).then_some(name)
    }

    /// Arguments to parameters of this file's functions.
    fn bind_arguments(&mut self, c: &ast::ExprCall) {
        let Some(name) = self.local_function(&c.func) else {
            return;
        };
        let via_attr = matches!(c.func.as_ref(), Expr::Attribute(_));
        let Some(defs) = self.funcs.get(name) else {
            return;
        };
        let mut binds: Vec<(String, Taint)> = Vec::new();
        for f in defs {
            let skip = usize::from(f.method && via_attr);
            for (i, a) in c.arguments.args.iter().enumerate() {
                if let Some(p) = f.params.get(i + skip) {
                    binds.push((format!("{}:{p}", f.id), self.taint(a)));
                }
            }
            for k in &c.arguments.keywords {
                if let Some(arg) = &k.arg
                    && f.params.iter().any(|p| p == arg.as_str())
                {
                    binds.push((format!("{}:{}", f.id, arg.as_str()), self.taint(&k.value)));
                }
            }
        }
        for (k, t) in binds {
            self.taint_key(k, &t);
        }
    }

    /// `shutil.copy(src, dst)`: the file at dst holds what src held.
    fn copy(&mut self, c: &ast::ExprCall) {
        let Some(q) = self.callee(&c.func) else {
            return;
        };
        if !COPIERS.contains(&q.as_str()) {
            return;
        }
        let (Some(src), Some(dst)) = (c.arguments.args.first(), c.arguments.args.get(1)) else {
            return;
        };
        let t = self.taint(src);
        if let Some(k) = self.path_key(dst) {
            self.taint_key(k, &t);
        }
    }

    /// `x.append(data)`, `zf.write(path)`, `f.write(data)`: the receiver
    /// (and the file it was opened on) holds the data.
    fn mutate(&mut self, c: &ast::ExprCall) {
        let Expr::Attribute(a) = c.func.as_ref() else {
            return;
        };
        if !MUTATORS.contains(&a.attr.as_str()) {
            return;
        }
        let mut t = self.taint_all(c.arguments.args.iter());
        merge(
            &mut t,
            &self.taint_all(c.arguments.keywords.iter().map(|k| &k.value)),
        );
        if t.is_empty() {
            return;
        }
        // `open(p, 'w').write(data)`: the file at p holds it.
        if let Expr::Call(inner) = a.value.as_ref() {
            if let Some(p) = inner.arguments.args.first().and_then(|e| self.path_key(e)) {
                self.taint_key(p, &t);
            }
            return;
        }
        let Some(key) = self.target_key(&a.value, false) else {
            return;
        };
        if let Some(path) = self.paths.get(&key).cloned() {
            self.taint_key(path, &t);
        }
        self.taint_key(key, &t);
    }

    /// The key a file path is known by: a literal path, or the name holding it.
    fn path_key(&self, expr: &Expr) -> Option<String> {
        match fold(expr, self.env, 0) {
            Some((Value::Str(s), _)) if !s.is_empty() && s.len() <= 4096 => {
                Some(format!("path:{s}"))
            }
            _ => self.target_key(expr, false),
        }
    }

    /// `x = Q(...)` / `with Q(...) as x`: remember what made `x`, the path
    /// it was opened on, and the host it names.
    fn construct(&mut self, key: &str, value: &Expr) {
        if let Expr::Call(c) = value
            && let Some(q) = self.callee(&c.func)
            && self.instances.get(key).is_none_or(|old| *old != q)
        {
            self.bind(key);
            self.instances.insert(key.to_string(), q);
            if let Some(p) = c.arguments.args.first().and_then(|a| self.path_key(a)) {
                self.paths.insert(key.to_string(), p);
            }
        }
        if !self.hosts.contains_key(key)
            && let Some(h) = self.host_text(value)
        {
            self.bind(key);
            self.hosts.insert(key.to_string(), h);
        }
    }

    /// The host or URL an expression spells: folded, or the first literal
    /// part that looks like one, or what a name it uses was given.
    fn host_text(&self, expr: &Expr) -> Option<String> {
        if let Some((Value::Str(s), _)) = fold(expr, self.env, 0)
            && hostish(&s)
        {
            return Some(s);
        }
        // A URL built from parts: its literal parts, `?` for the rest.
        if matches!(expr, Expr::BinOp(_) | Expr::FString(_)) {
            let t = self.command_text(expr).replace(' ', "");
            if hostish(&t) && t.trim_matches('?').contains('.') {
                return Some(t);
            }
        }
        let mut found = None;
        let mut stack = vec![expr];
        let mut steps = 0;
        while let Some(e) = stack.pop() {
            steps += 1;
            if steps > 64 {
                break;
            }
            if let Some(t) = literal_text(e)
                && hostish(&t)
            {
                found = Some(t);
                break;
            }
            match e {
                Expr::Name(_) | Expr::Attribute(_) => {
                    if let Some(k) = self.target_key(e, false)
                        && let Some(h) = self.hosts.get(&k)
                    {
                        found = Some(h.clone());
                        break;
                    }
                }
                Expr::BinOp(b) => {
                    stack.push(&b.right);
                    stack.push(&b.left);
                }
                Expr::Call(c) => {
                    stack.extend(c.arguments.args.iter().rev());
                    stack.extend(c.arguments.keywords.iter().map(|k| &k.value));
                    if let Expr::Attribute(a) = c.func.as_ref() {
                        stack.push(&a.value);
                    }
                }
                Expr::Tuple(t) => stack.extend(t.elts.iter().rev()),
                Expr::List(l) => stack.extend(l.elts.iter().rev()),
                _ => {}
            }
        }
        found
    }

    /// The data a sink call sends, by the kind of sink.
    fn sent(&self, c: &ast::ExprCall, q: &str, kind: &str) -> Taint {
        let args = &c.arguments;
        match kind {
            "http" => {
                let positional: Vec<&Expr> = if q.ends_with("urlretrieve") {
                    args.args.iter().take(1).collect()
                } else {
                    args.args.iter().collect()
                };
                let mut t = self.taint_all(positional.into_iter());
                merge(
                    &mut t,
                    &self.taint_all(
                        args.keywords
                            .iter()
                            .filter(|k| {
                                k.arg
                                    .as_ref()
                                    .is_some_and(|a| HTTP_DATA.contains(&a.as_str()))
                            })
                            .map(|k| &k.value),
                    ),
                );
                t
            }
            "socket" | "dns" => self.taint_all(args.args.iter().take(1)),
            "ftp" => self.taint_all(args.args.iter().take(2)),
            "command" => {
                let Some(cmd) = args.args.first() else {
                    return Vec::new();
                };
                let text = self.command_text(cmd);
                if !self.facts.command_tools.is_match(text.as_bytes()) {
                    return Vec::new();
                }
                let mut t = self.taint(cmd);
                if let Some(m) = self.facts.command_sources.find(text.as_bytes()) {
                    let what = String::from_utf8_lossy(m.as_bytes()).trim().to_string();
                    let kind = if what.contains("env") {
                        SourceKind::Environment
                    } else if what.contains('$') && !what.contains("HOME") && !what.contains("USER")
                    {
                        SourceKind::Secret
                    } else if what.contains('/') || what.contains('.') {
                        SourceKind::Credential
                    } else {
                        SourceKind::HostInfo
                    };
                    merge(
                        &mut t,
                        &[Source {
                            kind,
                            what,
                            line: self.line(cmd),
                        }],
                    );
                }
                t
            }
            _ => {
                let mut t = self.taint_all(args.args.iter());
                merge(
                    &mut t,
                    &self.taint_all(args.keywords.iter().map(|k| &k.value)),
                );
                t
            }
        }
    }

    /// A command line as text: folded, or its literal parts.
    fn command_text(&self, cmd: &Expr) -> String {
        if let Some((v, _)) = fold(cmd, self.env, 0) {
            match v {
                Value::Str(s) => return s,
                Value::List(items) => {
                    return items
                        .iter()
                        .map(|i| match i {
                            Value::Str(s) => s.as_str(),
                            _ => "?",
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                }
                _ => {}
            }
        }
        let mut out = String::new();
        let mut stack = vec![cmd];
        while let Some(e) = stack.pop() {
            if out.len() > 4096 {
                break;
            }
            if let Some(t) = literal_text(e) {
                out.push_str(&t);
                out.push(' ');
                continue;
            }
            match e {
                Expr::BinOp(b) => {
                    stack.push(&b.right);
                    stack.push(&b.left);
                }
                Expr::List(l) => stack.extend(l.elts.iter().rev()),
                Expr::Tuple(t) => stack.extend(t.elts.iter().rev()),
                Expr::Call(c) => stack.extend(c.arguments.args.iter().rev()),
                _ => out.push_str("? "),
            }
        }
        out
    }

    /// The host a sink call sends to, as written.
    fn sink_host(&self, c: &ast::ExprCall, kind: &str) -> Option<String> {
        let args = &c.arguments;
        let kw = |names: &[&str]| {
            args.keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| names.contains(&a.as_str())))
                .map(|k| &k.value)
        };
        match kind {
            "http" | "messaging" => args
                .args
                .first()
                .or_else(|| kw(&["url", "webhook_url"]))
                .and_then(|e| self.host_text(e))
                .or_else(|| self.receiver_host(&c.func)),
            "dns" | "command" => args.args.first().and_then(|e| self.host_text(e)),
            _ => self.receiver_host(&c.func),
        }
    }

    /// The host an instance was made with or connected to.
    fn receiver_host(&self, func: &Expr) -> Option<String> {
        let Expr::Attribute(a) = func else {
            return None;
        };
        match a.value.as_ref() {
            call @ Expr::Call(_) => self.host_text(call),
            other => {
                let k = self.target_key(other, false)?;
                self.hosts.get(&k).cloned()
            }
        }
    }

    fn check_sink(&mut self, c: &ast::ExprCall, expr: &Expr) {
        if self.leaks.len() >= MAX_LEAKS {
            return;
        }
        let Some(q) = self.callee(&c.func) else {
            return;
        };
        let Some(&kind) = self.facts.sinks.get(&q) else {
            return;
        };
        let sources = self.sent(c, &q, kind);
        let host = self.sink_host(c, kind);
        // A call to a host spelled in the file that carries no data is a
        // beacon: kept (without sources) for the caller to judge by where
        // it runs.
        if sources.is_empty()
            && (host.is_none()
                || !matches!(kind, "http" | "dns" | "socket" | "messaging")
                || self.leaks.iter().filter(|l| l.sources.is_empty()).count() >= 8)
        {
            return;
        }
        self.leaks.push(Leak {
            line: self.line(expr),
            sink: q,
            sink_kind: kind,
            sources,
            host,
        });
    }
}

impl<'a> Visitor<'a> for Pass<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                let id = self.scope_of.get(&usize::from(f.start())).copied();
                if let Some(id) = id {
                    self.scope.push((id, f.name.to_string()));
                }
                for s in &f.body {
                    self.visit_stmt(s);
                }
                if id.is_some() {
                    self.scope.pop();
                }
                return;
            }
            Stmt::Assign(a) => {
                let t = self.taint(&a.value);
                for target in &a.targets {
                    self.assign(target, &t);
                    if let Some(k) = self.target_key(target, matches!(target, Expr::Name(_))) {
                        self.construct(&k, &a.value);
                    }
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    let t = self.taint(v);
                    self.assign(&a.target, &t);
                    if let Some(k) = self.target_key(&a.target, matches!(*a.target, Expr::Name(_)))
                    {
                        self.construct(&k, v);
                    }
                }
            }
            Stmt::AugAssign(a) => {
                let t = self.taint(&a.value);
                if let Some(k) = self.target_key(&a.target, false) {
                    self.taint_key(k, &t);
                }
            }
            Stmt::For(f) => {
                let t = self.taint(&f.iter);
                self.assign(&f.target, &t);
                if let (Expr::Name(n), Some((Value::List(items), _))) =
                    (f.target.as_ref(), fold(&f.iter, self.env, 0))
                {
                    let strs: Vec<String> = items
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::Str(s) => Some(s),
                            _ => None,
                        })
                        .take(256)
                        .collect();
                    let k = self.bind_key(n.id.as_str());
                    self.bind(&k);
                    if let std::collections::hash_map::Entry::Vacant(e) = self.loops.entry(k) {
                        e.insert(strs);
                        self.changed = true;
                    }
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = item.optional_vars.as_deref() {
                        let t = self.taint(&item.context_expr);
                        self.assign(v, &t);
                        if let Some(k) = self.target_key(v, matches!(v, Expr::Name(_))) {
                            self.construct(&k, &item.context_expr);
                        }
                    }
                }
            }
            Stmt::Return(r) => {
                if let (Some(v), Some((_, name))) = (&r.value, self.scope.last()) {
                    let k = format!("ret:{name}");
                    let t = self.taint(v);
                    self.taint_key(k, &t);
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            if self.record {
                self.check_sink(c, expr);
            } else {
                self.bind_arguments(c);
                self.mutate(c);
                self.copy(c);
                // `s.connect((host, port))`: the host of `s`.
                if let Expr::Attribute(a) = c.func.as_ref()
                    && a.attr.as_str() == "connect"
                    && let Some(k) = self.target_key(&a.value, false)
                    && !self.hosts.contains_key(&k)
                    && let Some(h) = c.arguments.args.first().and_then(|e| self.host_text(e))
                {
                    self.bind(&k);
                    self.hosts.insert(k, h);
                }
            }
        }
        walk_expr(self, expr);
    }
}

/// The flows from sources to sinks of `module`, and the first stealer-only
/// source the file reads (context for its other flows).
pub(super) fn leaks(
    module: &ModModule,
    env: &Env,
    facts: &Facts,
    reach: &super::Reach,
    lines: &crate::lockfile::LineIndex,
) -> (Vec<Leak>, Option<Source>) {
    env.refill();
    // The file's functions (found by the reach pass): scope ids by start
    // offset, and by name.
    let mut scope_of = HashMap::default();
    let mut funcs: HashMap<String, Vec<Func>> = HashMap::default();
    for (id, f) in reach.functions().iter().enumerate() {
        scope_of.insert(f.start, id);
        funcs.entry(f.name.clone()).or_default().push(Func {
            id,
            params: f
                .positional
                .iter()
                .chain(&f.keyword_only)
                .cloned()
                .collect(),
            method: f.method,
            at: f.start,
        });
    }
    let mut pass = Pass {
        env,
        facts,
        lines,
        names: HashMap::default(),
        instances: HashMap::default(),
        paths: HashMap::default(),
        hosts: HashMap::default(),
        loops: HashMap::default(),
        funcs,
        scope_of,
        scope: Vec::new(),
        changed: true,
        record: false,
        leaks: Vec::new(),
        store_seen: std::cell::RefCell::new(None),
        bound: rustc_hash::FxHashSet::default(),
        literal_kinds: std::cell::RefCell::new(HashMap::default()),
        resolutions: std::cell::RefCell::new(HashMap::default()),
    };
    // Parameters named for wallet secrets hold them, whoever calls.
    let mut seeds = Vec::new();
    for defs in pass.funcs.values() {
        for f in defs {
            for p in &f.params {
                if facts.wallet_params.is_match(p.as_bytes()) {
                    seeds.push((
                        format!("{}:{p}", f.id),
                        Source {
                            kind: SourceKind::Store,
                            what: format!("parameter `{p}`"),
                            line: lines.line_of(f.at),
                        },
                    ));
                }
            }
        }
    }
    for (k, src) in seeds {
        pass.taint_key(k, &[src]);
    }
    for _ in 0..6 {
        if !pass.changed {
            break;
        }
        pass.changed = false;
        pass.visit_body(&module.body);
    }
    pass.record = true;
    pass.visit_body(&module.body);
    let store = pass.store_seen.into_inner();
    (pass.leaks, store)
}
