//! The flows pass (first part): data fetched from the network that reaches
//! something that runs it — written to a file that a process then starts, or
//! handed to `exec` — through variables, file handles and calls on it. A
//! build script that downloads and never runs what it fetched is not such a
//! flow; co-occurrence in one file is not either.
//!
//! Flow-insensitive within a file: a name is tainted if any assignment
//! taints it, which is what fetch-write-run code needs and no more.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ModModule, Stmt};
use ruff_text_size::Ranged;

use super::fold::{Env, Value, fold};

/// A flow from the network to something that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// 1-based line of the call that runs it.
    pub line: u32,
    /// What runs it (`subprocess.Popen`, `builtins.exec`...).
    pub runner: String,
    /// `file` (written, then started) or `code` (executed in process).
    pub kind: &'static str,
}

/// Calls whose result is data from the network.
const FETCH: &[&str] = &[
    "requests.get",
    "requests.post",
    "requests.request",
    "requests.Session.get",
    "urllib.request.urlopen",
    "urllib.urlopen",
    "urllib2.urlopen",
    "httpx.get",
    "httpx.post",
    "urllib3.PoolManager.request",
    "http.client.HTTPSConnection.getresponse",
];

/// Calls that start a program.
pub(super) const START: &[&str] = &[
    "subprocess.Popen",
    "subprocess.call",
    "subprocess.run",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.startfile",
    "os.popen",
    "os.execv",
    "os.execl",
    "os.execvp",
    "os.spawnl",
    "os.spawnv",
];

pub(super) const RUN_CODE: &[&str] = &["builtins.exec", "builtins.eval"];

#[derive(Default)]
struct State {
    /// Names holding network data.
    net: HashSet<String>,
    /// Names of open file handles, to the key of the path they write.
    handles: HashMap<String, String>,
    /// Paths written with network data: folded strings or the source of
    /// the path expression (a variable name).
    written: HashSet<String>,
    /// Writes of network data to where Python imports or starts code from
    /// (a `.py` or `.pth` file, site-packages): offset and path key.
    planted: Vec<(usize, String)>,
    /// A parameter of the file's functions and the argument a call gives
    /// it (path keys, both ways): a path written under one name is written
    /// under the other.
    aliases: HashSet<(String, String)>,
}

/// Whether a path key names a file Python imports or runs at start.
fn python_code_path(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let k = k.trim_end_matches(['"', '\'', ')', ' ']);
    k.ends_with(".py") || k.ends_with(".pth") || k.ends_with(".pyw") || k.contains("site-packages")
}

fn callee(expr: &Expr, env: &Env) -> Option<String> {
    match fold(expr, env, 0) {
        Some((Value::Ref(q), _)) => Some(q),
        _ => None,
    }
}

/// Whether an expression carries network data.
fn tainted(expr: &Expr, env: &Env, st: &State) -> bool {
    match expr {
        Expr::Name(n) => st.net.contains(n.id.as_str()),
        Expr::Attribute(a) => tainted(&a.value, env, st),
        Expr::Subscript(s) => tainted(&s.value, env, st),
        Expr::Call(c) => {
            if callee(&c.func, env).is_some_and(|q| FETCH.contains(&q.as_str())) {
                return true;
            }
            // Calls on network data, or wrapping it (`r.read()`, `b64decode(r.text)`).
            tainted(&c.func, env, st)
                || c.arguments
                    .args
                    .first()
                    .is_some_and(|a| tainted(a, env, st))
        }
        Expr::BinOp(b) => tainted(&b.left, env, st) || tainted(&b.right, env, st),
        Expr::Await(a) => tainted(&a.value, env, st),
        _ => false,
    }
}

/// The key a path expression is known by: its folded text, or its source.
fn path_key(expr: &Expr, env: &Env, text: &str) -> Option<String> {
    if let Some((Value::Str(s), _)) = fold(expr, env, 0) {
        return Some(s);
    }
    text.get(usize::from(expr.start())..usize::from(expr.end()))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `open(P, 'wb')` (or `io.open`, any writing mode): the key of P.
fn opened_for_writing(expr: &Expr, env: &Env, text: &str) -> Option<String> {
    let Expr::Call(c) = expr else { return None };
    let q = callee(&c.func, env)?;
    if q != "builtins.open" && q != "io.open" && q != "codecs.open" {
        return None;
    }
    let mode = c
        .arguments
        .args
        .get(1)
        .map(|m| fold(m, env, 0))
        .or_else(|| {
            c.arguments
                .keywords
                .iter()
                .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "mode"))
                .map(|k| fold(&k.value, env, 0))
        });
    let Some(Some((Value::Str(mode), _))) = mode else {
        return None;
    };
    if !mode.contains(['w', 'a', 'x']) {
        return None;
    }
    path_key(c.arguments.args.first()?, env, text)
}

/// Whether `expr` (an argument list, a string built from parts) mentions a written path.
fn mentions_written(expr: &Expr, env: &Env, st: &State, text: &str) -> bool {
    if let Some(k) = path_key(expr, env, text)
        && st.written.contains(&k)
    {
        return true;
    }
    // A command line that names a written file (`chmod +x /tmp/x && /tmp/x`).
    if let Some((Value::Str(cmd), _)) = fold(expr, env, 0)
        && st
            .written
            .iter()
            .any(|k| k.len() >= 4 && k.contains(['/', '\\', '.']) && cmd.contains(k.as_str()))
    {
        return true;
    }
    match expr {
        Expr::List(l) => l.elts.iter().any(|e| mentions_written(e, env, st, text)),
        Expr::Tuple(t) => t.elts.iter().any(|e| mentions_written(e, env, st, text)),
        Expr::BinOp(b) => {
            mentions_written(&b.left, env, st, text) || mentions_written(&b.right, env, st, text)
        }
        Expr::FString(f) => f.value.elements().any(|el| match el {
            ast::InterpolatedStringElement::Interpolation(i) => {
                mentions_written(&i.expression, env, st, text)
            }
            ast::InterpolatedStringElement::Literal(_) => false,
        }),
        Expr::Call(c) => c
            .arguments
            .args
            .iter()
            .any(|a| mentions_written(a, env, st, text)),
        _ => false,
    }
}

struct Pass<'a> {
    env: &'a Env,
    text: &'a str,
    st: State,
    changed: bool,
    /// The file's functions: name to parameter names.
    params: HashMap<String, Vec<String>>,
}

impl Pass<'_> {
    fn taint(&mut self, name: &str) {
        if self.st.net.insert(name.to_string()) {
            self.changed = true;
        }
    }

    fn written(&mut self, key: String) {
        if self.st.written.insert(key) {
            self.changed = true;
        }
    }
}

impl<'a> Visitor<'a> for Pass<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Assign(a) => {
                if tainted(&a.value, self.env, &self.st) {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            self.taint(n.id.as_str());
                        }
                    }
                }
                if let Some(key) = opened_for_writing(&a.value, self.env, self.text) {
                    for t in &a.targets {
                        if let Expr::Name(n) = t {
                            self.st.handles.insert(n.id.to_string(), key.clone());
                        }
                    }
                }
            }
            // `for chunk in r.iter_content(): f.write(chunk)`.
            Stmt::For(f) => {
                if let Expr::Name(n) = f.target.as_ref()
                    && tainted(&f.iter, self.env, &self.st)
                {
                    self.taint(n.id.as_str());
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let Some(Expr::Name(n)) = item.optional_vars.as_deref() else {
                        continue;
                    };
                    if tainted(&item.context_expr, self.env, &self.st) {
                        self.taint(n.id.as_str());
                    }
                    if let Some(key) = opened_for_writing(&item.context_expr, self.env, self.text) {
                        self.st.handles.insert(n.id.to_string(), key);
                    }
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            // `download(url, path)` then `run(path)`: arguments are their
            // parameters; network data passed in is network data inside.
            if let Expr::Name(f) = c.func.as_ref()
                && let Some(params) = self.params.get(f.id.as_str()).cloned()
            {
                for (p, a) in params.iter().zip(&c.arguments.args) {
                    if let Some(k) = path_key(a, self.env, self.text)
                        && self.st.aliases.len() < 4096
                        && self.st.aliases.insert((p.clone(), k.clone()))
                    {
                        self.st.aliases.insert((k, p.clone()));
                        self.changed = true;
                    }
                    if tainted(a, self.env, &self.st) {
                        self.taint(p);
                    }
                }
            }
            // `f.write(data)`, `open(p, 'wb').write(data)`.
            if let Expr::Attribute(a) = c.func.as_ref()
                && a.attr.as_str() == "write"
                && c.arguments
                    .args
                    .first()
                    .is_some_and(|d| tainted(d, self.env, &self.st))
            {
                let key = match a.value.as_ref() {
                    Expr::Name(n) => self.st.handles.get(n.id.as_str()).cloned(),
                    other => opened_for_writing(other, self.env, self.text),
                };
                if let Some(k) = key {
                    if python_code_path(&k)
                        && self.st.planted.len() < 8
                        && !self
                            .st
                            .planted
                            .iter()
                            .any(|(at, _)| *at == usize::from(c.start()))
                    {
                        self.st.planted.push((usize::from(c.start()), k.clone()));
                    }
                    self.written(k);
                }
            }
            // `subprocess.call(['curl', url, '-o', path])` writes it too.
            if let Some(q) = callee(&c.func, self.env)
                && START.contains(&q.as_str())
                && let Some(Expr::List(ast::ExprList { elts, .. })) = c.arguments.args.first()
                && let Some((Value::Str(program), _)) =
                    elts.first().and_then(|e| fold(e, self.env, 0))
            {
                let base = program
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(&program)
                    .to_ascii_lowercase();
                if base.starts_with("curl") || base.starts_with("wget") {
                    for (i, e) in elts.iter().enumerate() {
                        if let Some((Value::Str(flag), _)) = fold(e, self.env, 0)
                            && matches!(
                                flag.as_str(),
                                "-o" | "-O" | "--output" | "--output-document"
                            )
                            && let Some(k) = elts
                                .get(i + 1)
                                .and_then(|p| path_key(p, self.env, self.text))
                        {
                            self.written(k);
                        }
                    }
                }
            }
            // `urlretrieve(url, path)` writes the download itself.
            if let Some(q) = callee(&c.func, self.env)
                && (q == "urllib.request.urlretrieve" || q == "urllib.urlretrieve")
                && let Some(k) = c
                    .arguments
                    .args
                    .get(1)
                    .and_then(|p| path_key(p, self.env, self.text))
            {
                self.written(k);
            }
        }
        walk_expr(self, expr);
    }
}

/// Programs that run the file they are given.
const INTERPRETERS: &[&str] = &[
    "python",
    "python3",
    "python.exe",
    "pythonw",
    "pythonw.exe",
    "sh",
    "bash",
    "zsh",
    "cmd",
    "cmd.exe",
    "powershell",
    "powershell.exe",
    "pwsh",
    "wscript",
    "cscript",
    "msiexec",
    "start",
    "open",
    "nohup",
    "exec",
    "rundll32",
    "regsvr32",
    "mshta",
];

/// A command line with written paths marked: literal text as is, an
/// interpolated part that is a written path as `\0`, any other as `?`.
fn command_text(expr: &Expr, env: &Env, st: &State, text: &str) -> Option<String> {
    if let Some((Value::Str(s), _)) = fold(expr, env, 0) {
        let mut s = s;
        for k in &st.written {
            if k.len() >= 4 && k.contains(['/', '\\', '.']) {
                s = s.replace(k.as_str(), "\0");
            }
        }
        return Some(s);
    }
    match expr {
        Expr::FString(f) => {
            let mut out = String::new();
            for el in f.value.elements() {
                match el {
                    ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                    ast::InterpolatedStringElement::Interpolation(i) => {
                        out.push(if mentions_written(&i.expression, env, st, text) {
                            '\0'
                        } else {
                            '?'
                        });
                    }
                }
            }
            Some(out)
        }
        Expr::BinOp(b) => Some(
            command_text(&b.left, env, st, text)?.to_string()
                + &command_text(&b.right, env, st, text)?,
        ),
        _ => mentions_written(expr, env, st, text).then(|| "\0".to_string()),
    }
}

/// Whether a command line starts a written file: as the program of one of
/// its commands, or as what an interpreter is given.
fn command_runs_written(cmd: &str) -> bool {
    cmd.split([';', '&', '|', '\n'])
        .map(str::split_whitespace)
        .any(|mut words| match words.next() {
            Some(w) if w.contains('\0') => true,
            Some(w) => {
                let base = w
                    .trim_matches(['"', '\''])
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(w);
                INTERPRETERS.contains(&base.to_ascii_lowercase().as_str())
                    && words.any(|a| a.contains('\0'))
            }
            None => false,
        })
}

/// Whether the arguments of a process call start a written file.
fn starts_written(c: &ast::ExprCall, q: &str, env: &Env, st: &State, text: &str) -> bool {
    let Some(first) = c.arguments.args.first() else {
        return false;
    };
    match q {
        "os.startfile" | "os.execv" | "os.execl" | "os.execvp" => {
            mentions_written(first, env, st, text)
        }
        "os.spawnl" | "os.spawnv" => c
            .arguments
            .args
            .get(1)
            .is_some_and(|p| mentions_written(p, env, st, text)),
        _ => match first {
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                let Some(program) = elts.first() else {
                    return false;
                };
                if mentions_written(program, env, st, text) {
                    return true;
                }
                let interpreter = match fold(program, env, 0) {
                    Some((Value::Str(p), _)) => {
                        let base = p
                            .rsplit(['/', '\\'])
                            .next()
                            .unwrap_or(&p)
                            .to_ascii_lowercase();
                        INTERPRETERS.contains(&base.as_str())
                    }
                    Some((Value::Ref(r), _)) => r == "sys.executable",
                    _ => false,
                };
                interpreter && elts[1..].iter().any(|e| mentions_written(e, env, st, text))
            }
            other => command_text(other, env, st, text).is_some_and(|c| command_runs_written(&c)),
        },
    }
}

struct Runs<'a> {
    env: &'a Env,
    text: &'a str,
    st: &'a State,
    lines: &'a crate::lockfile::LineIndex,
    out: Vec<Flow>,
}

impl<'a> Visitor<'a> for Runs<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr
            && let Some(q) = callee(&c.func, self.env)
            && self.out.len() < 32
        {
            let line = self.lines.line_of(usize::from(expr.start()));
            if START.contains(&q.as_str()) && starts_written(c, &q, self.env, self.st, self.text) {
                self.out.push(Flow {
                    line,
                    runner: q.clone(),
                    kind: "file",
                });
            } else if RUN_CODE.contains(&q.as_str())
                && c.arguments
                    .args
                    .first()
                    .is_some_and(|a| tainted(a, self.env, self.st))
            {
                self.out.push(Flow {
                    line,
                    runner: q.clone(),
                    kind: "code",
                });
            } else if q == "threading.Thread"
                && c.arguments.keywords.iter().any(|k| {
                    k.arg.as_ref().is_some_and(|a| a.as_str() == "target")
                        && callee(&k.value, self.env)
                            .is_some_and(|t| RUN_CODE.contains(&t.as_str()))
                })
                && c.arguments.keywords.iter().any(|k| {
                    k.arg.as_ref().is_some_and(|a| a.as_str() == "args")
                        && match &k.value {
                            Expr::Tuple(t) => t
                                .elts
                                .first()
                                .is_some_and(|e| tainted(e, self.env, self.st)),
                            _ => false,
                        }
                })
            {
                self.out.push(Flow {
                    line,
                    runner: "threading.Thread(target=exec)".into(),
                    kind: "code",
                });
            }
        }
        walk_expr(self, expr);
    }
}

/// The flows from the network to something that runs what came.
pub fn flows(
    module: &ModModule,
    env: &Env,
    reach: &super::Reach,
    text: &str,
    lines: &crate::lockfile::LineIndex,
) -> Vec<Flow> {
    env.refill();
    // The file's functions (found by the reach pass): name to the
    // parameters positional arguments bind to; a later definition wins.
    let params: HashMap<String, Vec<String>> = reach
        .functions()
        .iter()
        .map(|f| (f.name.clone(), f.positional.clone()))
        .collect();
    let mut pass = Pass {
        env,
        text,
        st: State::default(),
        changed: true,
        params,
    };
    // To a fixpoint (bounded): taint moves through assignments in any order.
    for _ in 0..6 {
        if !pass.changed {
            break;
        }
        pass.changed = false;
        pass.visit_body(&module.body);
        // Written under one name, written under its aliases.
        let more: Vec<String> = pass
            .st
            .aliases
            .iter()
            .filter(|(a, b)| pass.st.written.contains(a) && !pass.st.written.contains(b))
            .map(|(_, b)| b.clone())
            .collect();
        for k in more {
            pass.written(k);
        }
    }
    let mut runs = Runs {
        env,
        text,
        st: &pass.st,
        lines,
        out: Vec::new(),
    };
    runs.visit_body(&module.body);
    // Fetched data written where Python will import or start it runs as code.
    for (at, _) in &pass.st.planted {
        runs.out.push(Flow {
            line: lines.line_of(*at),
            runner: "a Python module or startup file it writes".into(),
            kind: "module",
        });
    }
    runs.out
}
