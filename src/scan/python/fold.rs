//! The resolve pass: names to what they are (imports, aliases, `getattr`,
//! `__import__`, `globals()[...]`), and constants folded through the
//! transforms that hide code. Flow-insensitive: a name is what its last
//! assignment in the file makes it, which is what hiding code relies on.

use rustc_hash::FxHashMap as HashMap;
use std::io::Read;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ModModule, Number, Operator, Stmt};
use ruff_text_size::Ranged;

use super::Hidden;

/// A folded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Text.
    Str(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A list or tuple of values.
    List(Vec<Value>),
    /// A module, a callable or a namespace, by qualified name (`os.system`,
    /// `builtins.exec`; `builtins` for `globals()` and `__builtins__`).
    Ref(String),
}

/// A value and the transforms that produced it.
type Folded = (Value, Vec<&'static str>);

/// Largest folded string or list (what hiding code needs, not more).
const MAX_VALUE: usize = 4 * 1024 * 1024;
/// Deepest expression folded.
const MAX_DEPTH: usize = 64;

const BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "__import__",
    "getattr",
    "globals",
    "locals",
    "vars",
    "chr",
    "bytes",
    "bytearray",
    "str",
    "map",
    "open",
    "execfile",
];

/// Callees that run code (`compile` only prepares it: it is folded through).
const EXECUTORS: &[&str] = &["builtins.exec", "builtins.eval"];

/// Names to values: imports, then every assignment of a foldable value.
pub(super) struct Env {
    names: HashMap<String, Folded>,
    /// Folding steps left for this file: nested calls fold their parts
    /// more than once, and a hostile file must not make that exponential.
    budget: std::cell::Cell<usize>,
}

/// Folding steps per file.
const BUDGET: usize = 1_000_000;

impl Env {
    fn new() -> Self {
        Self {
            names: HashMap::default(),
            budget: std::cell::Cell::new(BUDGET),
        }
    }
}

struct Collect<'e> {
    env: &'e mut Env,
}

impl<'a> Visitor<'a> for Collect<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => {
                for a in &i.names {
                    let full = a.name.as_str();
                    match &a.asname {
                        Some(alias) => {
                            self.env
                                .names
                                .insert(alias.as_str().into(), (Value::Ref(full.into()), vec![]));
                        }
                        None => {
                            let top = full.split('.').next().unwrap_or(full);
                            self.env
                                .names
                                .insert(top.into(), (Value::Ref(top.into()), vec![]));
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) if i.level == 0 => {
                let module = i.module.as_ref().map_or("", |m| m.as_str());
                for a in &i.names {
                    let local = a.asname.as_ref().unwrap_or(&a.name).as_str();
                    self.env.names.insert(
                        local.into(),
                        (Value::Ref(format!("{module}.{}", a.name.as_str())), vec![]),
                    );
                }
            }
            Stmt::Assign(a) => match (a.targets.as_slice(), a.value.as_ref()) {
                ([Expr::Name(target)], value) => {
                    if let Some(v) = fold(value, self.env, 0) {
                        self.env.names.insert(target.id.to_string(), v);
                    }
                }
                // `A, B = exec, str`: aliases by unpacking.
                ([Expr::Tuple(t)], Expr::Tuple(v)) if t.elts.len() == v.elts.len() => {
                    for (target, value) in t.elts.iter().zip(&v.elts) {
                        if let Expr::Name(n) = target
                            && let Some(f) = fold(value, self.env, 0)
                        {
                            self.env.names.insert(n.id.to_string(), f);
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
        walk_stmt(self, stmt);
    }
}

/// Every call whose callee resolves to an executor, with folded hidden code.
struct Find<'e> {
    env: &'e Env,
    lines: &'e crate::lockfile::LineIndex,
    text: &'e str,
    out: Vec<Hidden>,
}

/// Whether an expression's source spells its text in escapes
/// (`"\x65\x78\x65\x63"`, octal): code written so that no word of it shows.
fn escaped(text: &str, expr: &Expr) -> bool {
    let Some(src) = text.get(usize::from(expr.start())..usize::from(expr.end())) else {
        return false;
    };
    let escapes = src
        .as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'\\' && (w[1] == b'x' || w[1].is_ascii_digit() || w[1] == b'u'))
        .count();
    escapes >= 8 && escapes * 3 >= src.len() / 2
}

impl Find<'_> {
    fn push(&mut self, at: usize, callee: String, value: Value, techniques: Vec<&'static str>) {
        if self.out.len() >= 64 {
            return;
        }
        // A few characters run reversed or joined are not a program, unless
        // they name an executor (`eval(b64decode('ZXZhbA=='))` is `eval`).
        let long_enough = match &value {
            Value::Str(s) => {
                s.trim().len() >= 8 || ["eval", "exec", "compile", "getattr"].contains(&s.trim())
            }
            Value::Bytes(b) => b.len() >= 8,
            _ => false,
        };
        if !long_enough {
            return;
        }
        let code = match value {
            Value::Str(s) => Some(s),
            Value::Bytes(b) => String::from_utf8(b).ok(),
            _ => None,
        };
        if let Some(code) = code {
            self.out.push(Hidden {
                line: self.lines.line_of(at),
                executor: callee,
                techniques,
                code,
            });
        }
    }
}

impl<'a> Visitor<'a> for Find<'_> {
    fn visit_body(&mut self, body: &'a [Stmt]) {
        // Python 2's `exec "..."` statement parses as the name `exec`
        // followed by an expression on the same line.
        for pair in body.windows(2) {
            if let [Stmt::Expr(a), Stmt::Expr(b)] = pair
                && matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == "exec")
                && self.lines.line_of(usize::from(a.start()))
                    == self.lines.line_of(usize::from(b.start()))
                && let Some((value, mut techniques)) = fold(&b.value, self.env, 0)
            {
                if escaped(self.text, &b.value) {
                    techniques.push("escapes");
                }
                if !techniques.is_empty() {
                    let at = usize::from(a.start());
                    self.push(at, "builtins.exec".into(), value, techniques);
                }
            }
        }
        for stmt in body {
            self.visit_stmt(stmt);
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && let Some((Value::Ref(callee), _)) = fold(&call.func, self.env, 0)
            && EXECUTORS.contains(&callee.as_str())
            && let Some(arg) = call.arguments.args.first()
            && let Some((value, mut techniques)) = fold(arg, self.env, 0)
        {
            if escaped(self.text, arg) {
                techniques.push("escapes");
            }
            if !techniques.is_empty() {
                self.push(usize::from(expr.start()), callee, value, techniques);
            }
        }
        walk_expr(self, expr);
    }
}

/// What the executors of a module run, when every one of them runs a plain
/// literal (`exec('import os\n...')`, the idiom of one-line `.pth` files):
/// `Some(code)`; `None` when one runs anything else (folded, or unknown data).
pub fn executed_literals(module: &ModModule) -> Option<Vec<String>> {
    struct Lit<'e> {
        env: &'e Env,
        code: Vec<String>,
        other: bool,
    }
    impl<'a> Visitor<'a> for Lit<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(call) = expr
                && let Some((Value::Ref(callee), _)) = fold(&call.func, self.env, 0)
                && EXECUTORS.contains(&callee.as_str())
            {
                match call
                    .arguments
                    .args
                    .first()
                    .and_then(|a| fold(a, self.env, 0))
                {
                    Some((Value::Str(code), t)) if t.is_empty() => self.code.push(code),
                    _ => self.other = true,
                }
            }
            walk_expr(self, expr);
        }
    }
    let env = collect_env(module);
    let mut l = Lit {
        env: &env,
        code: Vec::new(),
        other: false,
    };
    l.visit_body(&module.body);
    (!l.other).then_some(l.code)
}

/// What a module calls, resolved where names resolve (`os.system`,
/// `coverage.process_startup`); `?` for callees that do not.
pub fn called(module: &ModModule) -> Vec<String> {
    let env = collect_env(module);
    let mut out: Vec<String> = called_at(module, &env)
        .into_iter()
        .map(|(_, q)| q)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every call of a module with its offset and its callee, resolved where
/// names resolve (`?` where not).
pub(super) fn called_at(module: &ModModule, env: &Env) -> Vec<(usize, String)> {
    struct Calls<'e> {
        env: &'e Env,
        out: Vec<(usize, String)>,
    }
    impl<'a> Visitor<'a> for Calls<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(call) = expr {
                let q = match fold(&call.func, self.env, 0) {
                    Some((Value::Ref(q), _)) => q,
                    _ => "?".into(),
                };
                self.out.push((usize::from(expr.start()), q));
            }
            walk_expr(self, expr);
        }
    }
    env.refill();
    let mut v = Calls {
        env,
        out: Vec::new(),
    };
    v.visit_body(&module.body);
    v.out
}

/// Code written to a file from a literal: `f.write(b"import os; ...")`. A
/// launcher staged on disk runs when something starts it; what it would do
/// is analysed like hidden code.
pub(super) fn staged_code(
    module: &ModModule,
    env: &Env,
    lines: &crate::lockfile::LineIndex,
) -> Vec<(u32, String)> {
    struct Staged<'e> {
        env: &'e Env,
        lines: &'e crate::lockfile::LineIndex,
        out: Vec<(u32, String)>,
    }
    impl<'a> Visitor<'a> for Staged<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(c) = expr
                && let Expr::Attribute(a) = c.func.as_ref()
                && matches!(
                    a.attr.as_str(),
                    "write" | "writelines" | "write_text" | "write_bytes"
                )
                && let Some(arg) = c.arguments.args.first()
                && self.out.len() < 8
            {
                let text = match fold(arg, self.env, 0) {
                    Some((Value::Str(s), _)) => Some(s),
                    Some((Value::Bytes(b), _)) => String::from_utf8(b).ok(),
                    _ => None,
                };
                if let Some(code) = text.filter(|t| {
                    t.len() >= 16
                        && ["import ", "exec(", "eval(", "__import__"]
                            .iter()
                            .any(|w| t.contains(w))
                }) {
                    self.out
                        .push((self.lines.line_of(usize::from(expr.start())), code));
                }
            }
            walk_expr(self, expr);
        }
    }
    env.refill();
    let mut v = Staged {
        env,
        lines,
        out: Vec::new(),
    };
    v.visit_body(&module.body);
    v.out
}

/// The top-level modules a module imports (`import a.b` -> `a`).
pub fn imported_modules(module: &ModModule) -> Vec<String> {
    struct Imports(Vec<String>);
    impl<'a> Visitor<'a> for Imports {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Import(i) => {
                    for a in &i.names {
                        let top = a.name.as_str().split('.').next().unwrap_or("");
                        self.0.push(top.to_string());
                    }
                }
                Stmt::ImportFrom(i) if i.level == 0 => {
                    if let Some(m) = &i.module {
                        let top = m.as_str().split('.').next().unwrap_or("");
                        self.0.push(top.to_string());
                    }
                }
                _ => {}
            }
            walk_stmt(self, stmt);
        }
    }
    let mut v = Imports(Vec::new());
    v.visit_body(&module.body);
    v.0.sort();
    v.0.dedup();
    v.0
}

/// The names of a module: imports and assignments of foldable values.
pub(super) fn collect_env(module: &ModModule) -> Env {
    let mut env = Env::new();
    // Twice: an alias may be assigned before the name it aliases is.
    for _ in 0..2 {
        let mut c = Collect { env: &mut env };
        for stmt in &module.body {
            c.visit_stmt(stmt);
        }
    }
    env
}

impl Env {
    /// A fresh folding budget, for the next pass over the same names.
    pub(super) fn refill(&self) {
        self.budget.set(BUDGET);
    }
}

/// The hidden code a module runs, given its names.
pub(super) fn hidden_code(
    module: &ModModule,
    env: &Env,
    text: &str,
    lines: &crate::lockfile::LineIndex,
) -> Vec<Hidden> {
    env.refill();
    let mut f = Find {
        env,
        lines,
        text,
        out: Vec::new(),
    };
    f.visit_body(&module.body);
    f.out
}

fn with(mut t: Vec<&'static str>, more: &[&'static str]) -> Vec<&'static str> {
    for m in more {
        if !t.contains(m) {
            t.push(m);
        }
    }
    t
}

fn size(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len(),
        Value::Bytes(b) => b.len(),
        Value::List(l) => l.len(),
        _ => 1,
    }
}

/// Folds an expression to a value, if its parts are constants or names of them.
pub(super) fn fold(expr: &Expr, env: &Env, depth: usize) -> Option<Folded> {
    let left = env.budget.get();
    if depth > MAX_DEPTH || left == 0 {
        return None;
    }
    env.budget.set(left - 1);
    let d = depth + 1;
    let out = match expr {
        Expr::StringLiteral(s) => (Value::Str(s.value.to_str().to_string()), vec![]),
        Expr::BytesLiteral(b) => (Value::Bytes(b.value.bytes().collect()), vec![]),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => (Value::Int(i.as_i64()?), vec![]),
            _ => return None,
        },
        Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
            list(elts.iter(), env, d)?
        }
        Expr::Name(n) => name(n.id.as_str(), env)?,
        Expr::Attribute(a) => match fold(&a.value, env, d)? {
            (Value::Ref(q), t) => (Value::Ref(format!("{q}.{}", a.attr.as_str())), t),
            _ => return None,
        },
        Expr::BinOp(b) => binop(&b.left, b.op, &b.right, env, d)?,
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => match fold(&u.operand, env, d)? {
            (Value::Int(n), t) => (Value::Int(n.checked_neg()?), t),
            _ => return None,
        },
        Expr::Subscript(s) => subscript(s, env, d)?,
        Expr::Call(c) => call(c, env, d)?,
        Expr::ListComp(ast::ExprListComp {
            elt, generators, ..
        })
        | Expr::Generator(ast::ExprGenerator {
            elt, generators, ..
        }) => comprehension(elt, generators, env, d)?,
        _ => return None,
    };
    (size(&out.0) <= MAX_VALUE).then_some(out)
}

fn list<'x>(elts: impl Iterator<Item = &'x Expr>, env: &Env, d: usize) -> Option<Folded> {
    let mut items = Vec::new();
    let mut t = Vec::new();
    for e in elts {
        let (v, tt) = fold(e, env, d)?;
        t = with(t, &tt);
        items.push(v);
        if items.len() > MAX_VALUE {
            return None;
        }
    }
    Some((Value::List(items), t))
}

fn name(id: &str, env: &Env) -> Option<Folded> {
    if let Some(v) = env.names.get(id) {
        return Some(v.clone());
    }
    match id {
        "__builtins__" | "builtins" => Some((Value::Ref("builtins".into()), vec![])),
        _ if BUILTINS.contains(&id) => Some((Value::Ref(format!("builtins.{id}")), vec![])),
        _ => None,
    }
}

fn binop(left: &Expr, op: Operator, right: &Expr, env: &Env, d: usize) -> Option<Folded> {
    let (l, lt) = fold(left, env, d)?;
    let (r, rt) = fold(right, env, d)?;
    let t = with(lt, &rt);
    let v = match (op, l, r) {
        (Operator::Add, Value::Str(a), Value::Str(b)) => (Value::Str(a + &b), t),
        (Operator::Add, Value::Bytes(mut a), Value::Bytes(b)) => {
            a.extend(b);
            (Value::Bytes(a), t)
        }
        (Operator::Add, Value::List(mut a), Value::List(b)) => {
            a.extend(b);
            (Value::List(a), t)
        }
        (Operator::Add, Value::Int(a), Value::Int(b)) => (Value::Int(a.checked_add(b)?), t),
        (Operator::Sub, Value::Int(a), Value::Int(b)) => (Value::Int(a.checked_sub(b)?), t),
        (Operator::Mult, Value::Str(a), Value::Int(n)) => {
            let n = usize::try_from(n).ok()?;
            if a.len().checked_mul(n)? > MAX_VALUE {
                return None;
            }
            (Value::Str(a.repeat(n)), t)
        }
        (Operator::BitXor, Value::Int(a), Value::Int(b)) => (Value::Int(a ^ b), with(t, &["xor"])),
        (Operator::Mod, Value::Str(fmt), arg) => {
            let args = match arg {
                Value::List(l) => l,
                other => vec![other],
            };
            let mut out = String::new();
            let mut it = args.into_iter();
            let mut rest = fmt.as_str();
            while let Some(i) = rest.find("%s") {
                out.push_str(&rest[..i]);
                match it.next()? {
                    Value::Str(s) => out.push_str(&s),
                    Value::Int(n) => out.push_str(&n.to_string()),
                    _ => return None,
                }
                rest = &rest[i + 2..];
            }
            out.push_str(rest);
            (Value::Str(out), t)
        }
        _ => return None,
    };
    Some(v)
}

fn subscript(s: &ast::ExprSubscript, env: &Env, d: usize) -> Option<Folded> {
    let (base, t) = fold(&s.value, env, d)?;
    if let Expr::Slice(slice) = s.slice.as_ref() {
        let step = match &slice.step {
            Some(e) => match fold(e, env, d)?.0 {
                Value::Int(n) => n,
                _ => return None,
            },
            None => 1,
        };
        if step != -1 || slice.lower.is_some() || slice.upper.is_some() {
            return None;
        }
        let t = with(t, &["reverse"]);
        return Some(match base {
            Value::Str(s) => (Value::Str(s.chars().rev().collect()), t),
            Value::Bytes(mut b) => {
                b.reverse();
                (Value::Bytes(b), t)
            }
            Value::List(mut l) => {
                l.reverse();
                (Value::List(l), t)
            }
            _ => return None,
        });
    }
    let (key, kt) = fold(&s.slice, env, d)?;
    let t = with(t, &kt);
    match (base, key) {
        // `globals()['exec']`, `__builtins__.__dict__['exec']`.
        (Value::Ref(q), Value::Str(k)) if q == "builtins" || q.ends_with(".__dict__") => {
            let ns = q.trim_end_matches(".__dict__");
            let ns = if ns == "__builtins__" { "builtins" } else { ns };
            if k == "__builtins__" || k == "builtins" {
                return Some((Value::Ref("builtins".into()), t));
            }
            Some((Value::Ref(format!("{ns}.{k}")), t))
        }
        (Value::List(l), Value::Int(i)) => {
            let i = usize::try_from(i).ok()?;
            l.get(i).cloned().map(|v| (v, t))
        }
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Str(s) => Some(s.as_bytes().to_vec()),
        Value::Bytes(b) => Some(b.clone()),
        _ => None,
    }
}

fn call(c: &ast::ExprCall, env: &Env, d: usize) -> Option<Folded> {
    let args: Vec<&Expr> = c.arguments.args.iter().collect();
    let arg = |i: usize| args.get(i).and_then(|e| fold(e, env, d));
    // Methods of folded values: `''.join(...)`, `b'..'.decode()`.
    let (callee, ct) = match c.func.as_ref() {
        // The receiver is folded once: a method of a folded value
        // (`''.join(...)`, `b'..'.decode()`), or a name in a module.
        Expr::Attribute(a) => match fold(&a.value, env, d)? {
            (Value::Ref(q), t) => (Value::Ref(format!("{q}.{}", a.attr.as_str())), t),
            (recv, rt) => return method(recv, rt, a.attr.as_str(), &args, env, d),
        },
        other => fold(other, env, d)?,
    };
    let Value::Ref(q) = callee else { return None };
    let decoded = |v: Folded, how: &'static str, f: &dyn Fn(&[u8]) -> Option<Vec<u8>>| {
        let (v, t) = v;
        let out = f(&as_text(&v)?)?;
        Some((Value::Bytes(out), with(with(ct.clone(), &t), &[how])))
    };
    // `globals()['__builtins__'].get('exec')`, `builtins.__dict__.get(...)`.
    if let Some(ns) = q
        .strip_suffix(".get")
        .or_else(|| q.strip_suffix(".__getitem__"))
        .filter(|ns| *ns == "builtins" || ns.ends_with(".__dict__"))
        && let Some((Value::Str(k), t)) = arg(0)
    {
        let ns = ns.trim_end_matches(".__dict__");
        let ns = if ns == "__builtins__" { "builtins" } else { ns };
        return Some((Value::Ref(format!("{ns}.{k}")), with(ct, &t)));
    }
    let r = match q.as_str() {
        "builtins.chr" => match arg(0)? {
            (Value::Int(n), t) => (
                Value::Str(char::from_u32(u32::try_from(n).ok()?)?.to_string()),
                with(t, &["chr"]),
            ),
            _ => return None,
        },
        "builtins.str" => match arg(0)? {
            (Value::Str(s), t) => (Value::Str(s), t),
            (Value::Int(n), t) => (Value::Str(n.to_string()), t),
            _ => return None,
        },
        "builtins.bytes" | "builtins.bytearray" => match arg(0)? {
            (Value::List(l), t) => (
                Value::Bytes(
                    l.iter()
                        .map(|v| match v {
                            Value::Int(n) => u8::try_from(*n).ok(),
                            _ => None,
                        })
                        .collect::<Option<Vec<u8>>>()?,
                ),
                with(t, &["byte-list"]),
            ),
            (Value::Bytes(b), t) => (Value::Bytes(b), t),
            (Value::Str(s), t) => (Value::Bytes(s.into_bytes()), t),
            _ => return None,
        },
        "builtins.bytes.fromhex"
        | "builtins.bytearray.fromhex"
        | "binascii.unhexlify"
        | "binascii.a2b_hex"
        | "base64.b16decode" => decoded(arg(0)?, "hex", &|b| {
            let s: Vec<u8> = b
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            hex::decode(s).ok()
        })?,
        "base64.b64decode"
        | "base64.decodebytes"
        | "base64.standard_b64decode"
        | "base64.urlsafe_b64decode"
        | "binascii.a2b_base64"
        | "base64.decodestring" => decoded(arg(0)?, "base64", &base64_any)?,
        "base64.b32decode" => decoded(arg(0)?, "base32", &base32)?,
        "zlib.decompress" => decoded(arg(0)?, "zlib", &|b| inflate(b, true))?,
        "bz2.decompress" => decoded(arg(0)?, "bz2", &|b| {
            let mut out = Vec::new();
            bzip2::read::BzDecoder::new(b)
                .take(MAX_VALUE as u64 + 1)
                .read_to_end(&mut out)
                .ok()?;
            Some(out)
        })?,
        "codecs.decode" => {
            let (v, t) = arg(0)?;
            let enc = match arg(1) {
                Some((Value::Str(e), _)) => e.to_ascii_lowercase().replace('-', "_"),
                _ => return None,
            };
            match enc.as_str() {
                "rot13" | "rot_13" => {
                    let s = match v {
                        Value::Str(s) => s,
                        _ => return None,
                    };
                    (Value::Str(rot13(&s)), with(with(ct, &t), &["rot13"]))
                }
                "hex" | "hex_codec" => decoded((v, t), "hex", &|b| hex::decode(b).ok())?,
                "base64" | "base64_codec" => decoded((v, t), "base64", &base64_any)?,
                "zlib" | "zlib_codec" => decoded((v, t), "zlib", &|b| inflate(b, true))?,
                _ => return None,
            }
        }
        // `eval('exec')` evaluates a name: the executor itself, resolved.
        "builtins.eval" => match arg(0)? {
            (Value::Str(n), t)
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                let (v, nt) = name(&n, env)?;
                (v, with(with(ct, &t), &nt))
            }
            _ => return None,
        },
        "builtins.compile" => {
            // compile(source, ...) is the source, as far as what runs goes.
            let (v, t) = arg(0)?;
            (v, with(ct, &t))
        }
        "builtins.__import__" | "importlib.import_module" => match arg(0)? {
            (Value::Str(m), t) => (Value::Ref(m), with(t, &ct)),
            _ => return None,
        },
        "builtins.getattr" => match (arg(0)?, arg(1)?) {
            ((Value::Ref(base), t), (Value::Str(attr), at)) => {
                (Value::Ref(format!("{base}.{attr}")), with(t, &at))
            }
            _ => return None,
        },
        "builtins.globals" | "builtins.locals" => (Value::Ref("builtins".into()), ct),
        "builtins.vars" => match arg(0) {
            Some((Value::Ref(q), t)) => (Value::Ref(q), t),
            None => (Value::Ref("builtins".into()), ct),
            _ => return None,
        },
        "builtins.map" => {
            let (f, ft) = fold(args.first()?, env, d)?;
            let (Value::Ref(fq), (Value::List(items), it)) = (f, arg(1)?) else {
                return None;
            };
            let mut out = Vec::new();
            let mut t = with(ft, &it);
            for item in items {
                match (fq.as_str(), item) {
                    ("builtins.chr", Value::Int(n)) => {
                        out.push(Value::Str(
                            char::from_u32(u32::try_from(n).ok()?)?.to_string(),
                        ));
                        t = with(t, &["chr"]);
                    }
                    ("builtins.str", v @ Value::Str(_)) => out.push(v),
                    _ => return None,
                }
            }
            (Value::List(out), t)
        }
        _ => return None,
    };
    Some(r)
}

fn method(
    recv: Value,
    rt: Vec<&'static str>,
    name: &str,
    args: &[&Expr],
    env: &Env,
    d: usize,
) -> Option<Folded> {
    let arg = |i: usize| args.get(i).and_then(|e| fold(e, env, d));
    Some(match (recv, name) {
        (Value::Str(sep), "join") => {
            let (items, t) = match arg(0)? {
                (Value::List(l), t) => (l, t),
                (Value::Str(s), t) => (s.chars().map(|c| Value::Str(c.to_string())).collect(), t),
                _ => return None,
            };
            let parts: Vec<String> = items
                .into_iter()
                .map(|v| match v {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            // Joining many one-character pieces is spelling code out.
            let spelled = parts.len() > 8 && parts.iter().all(|p| p.chars().count() <= 1);
            let t = with(with(rt, &t), if spelled { &["join"] } else { &[] });
            (Value::Str(parts.join(&sep)), t)
        }
        (Value::Bytes(b), "decode") => (Value::Str(String::from_utf8(b).ok()?), rt),
        (Value::Str(s), "encode") => (Value::Bytes(s.into_bytes()), rt),
        (Value::Str(s), "replace") => match (arg(0)?, arg(1)?) {
            ((Value::Str(a), at), (Value::Str(b), bt)) if !a.is_empty() => {
                (Value::Str(s.replace(&a, &b)), with(with(rt, &at), &bt))
            }
            _ => return None,
        },
        (Value::Str(s), "strip") if args.is_empty() => (Value::Str(s.trim().into()), rt),
        _ => return None,
    })
}

/// `[f(x) for x in DATA]` with one generator and no condition.
fn comprehension(
    elt: &Expr,
    generators: &[ast::Comprehension],
    env: &Env,
    d: usize,
) -> Option<Folded> {
    let [generator] = generators else { return None };
    if !generator.ifs.is_empty() {
        return None;
    }
    let Expr::Name(target) = &generator.target else {
        return None;
    };
    let (iter, it) = fold(&generator.iter, env, d)?;
    let items: Vec<Value> = match iter {
        Value::List(l) => l,
        Value::Bytes(b) => b.into_iter().map(|x| Value::Int(i64::from(x))).collect(),
        Value::Str(s) => s.chars().map(|c| Value::Str(c.to_string())).collect(),
        _ => return None,
    };
    if items.len() > 1 << 20 {
        return None;
    }
    let mut scope = Env {
        names: env.names.clone(),
        budget: std::cell::Cell::new(env.budget.get()),
    };
    let mut out = Vec::with_capacity(items.len());
    let mut t = it;
    for item in items {
        scope
            .names
            .insert(target.id.to_string(), (item, Vec::new()));
        let (v, vt) = fold(elt, &scope, d)?;
        t = with(t, &vt);
        out.push(v);
    }
    env.budget.set(scope.budget.get());
    Some((Value::List(out), t))
}

fn base64_any(b: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let s: Vec<u8> = b
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&s).ok())
}

/// RFC 4648 base32 (padding optional), as `base64.b32decode` takes it.
fn base32(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u64, 0u32);
    for &c in b.iter().filter(|c| !c.is_ascii_whitespace() && **c != b'=') {
        let v = match c.to_ascii_uppercase() {
            x @ b'A'..=b'Z' => x - b'A',
            x @ b'2'..=b'7' => x - b'2' + 26,
            _ => return None,
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn inflate(b: &[u8], zlib: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let limit = MAX_VALUE as u64 + 1;
    let ok = if zlib {
        flate2::read::ZlibDecoder::new(b)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok()
    } else {
        flate2::read::DeflateDecoder::new(b)
            .take(limit)
            .read_to_end(&mut out)
            .is_ok()
    };
    (ok && out.len() <= MAX_VALUE).then_some(out)
}

/// ROT13 of ASCII letters.
pub(super) fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            _ => c,
        })
        .collect()
}
