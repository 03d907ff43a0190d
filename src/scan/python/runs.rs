//! Files a module runs as code: `exec(open(P).read())`, `exec(compile(
//! open(P).read(), P, 'exec'))`, `eval(Path(P).read_text())`, Python 2's
//! `execfile(P)` and `runpy.run_path(P)`, directly or through a name
//! (`code = open(P).read(); exec(code)`). What such a file holds is code
//! wherever it is in the package and whatever its name (`README.txt`): the
//! scan analyses it as Python, in the context of the module that runs it.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ModModule, Stmt};
use ruff_text_size::Ranged;
use rustc_hash::FxHashMap as HashMap;

use super::fold::{Env, Value, fold};

/// A file run as code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFile {
    /// 1-based line of the call that runs it.
    pub line: u32,
    /// How (`builtins.exec`, `runpy.run_path`...).
    pub runner: String,
    /// The path as the code spells it: folded where it folds, else the
    /// last literal part of a joined path (`os.path.join(here, 'x.txt')`).
    pub path: String,
}

/// Calls that open a file for reading, and the methods that read it whole.
const OPENERS: &[&str] = &["builtins.open", "io.open", "codecs.open", "pathlib.Path"];
const READERS: &[&str] = &["read", "read_text", "read_bytes"];
/// Calls that run the code they are given, and those that run a file by path.
const RUN_CODE: &[&str] = &["builtins.exec", "builtins.eval"];
const RUN_PATH: &[&str] = &["runpy.run_path", "builtins.execfile"];

struct Pass<'e> {
    env: &'e Env,
    lines: &'e crate::lockfile::LineIndex,
    /// Names bound to a file's contents, by the path.
    read_into: HashMap<String, String>,
    out: Vec<RunFile>,
}

fn callee(expr: &Expr, env: &Env) -> Option<String> {
    match fold(expr, env, 0) {
        Some((Value::Ref(q), _)) => Some(q),
        _ => None,
    }
}

/// The path a path expression spells: folded, or the last literal piece of
/// `os.path.join(...)`, `a / 'b'`, `Path(...)`.
fn spelled_path(expr: &Expr, env: &Env) -> Option<String> {
    if let Some((Value::Str(s), _)) = fold(expr, env, 0) {
        return Some(s);
    }
    match expr {
        Expr::Call(c) => c
            .arguments
            .args
            .iter()
            .rev()
            .find_map(|a| spelled_path(a, env)),
        Expr::BinOp(b) => spelled_path(&b.right, env),
        _ => None,
    }
}

impl Pass<'_> {
    /// The path whose contents `expr` is: `open(P).read()`,
    /// `Path(P).read_text()`, `compile(<that>, ...)`, or a name bound to one.
    fn contents_of(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Name(n) => self.read_into.get(n.id.as_str()).cloned(),
            Expr::Call(c) => {
                if let Expr::Attribute(a) = c.func.as_ref()
                    && READERS.contains(&a.attr.as_str())
                    && let Expr::Call(open) = a.value.as_ref()
                    && callee(&open.func, self.env).is_some_and(|q| OPENERS.contains(&q.as_str()))
                {
                    return spelled_path(open.arguments.args.first()?, self.env);
                }
                if callee(&c.func, self.env).as_deref() == Some("builtins.compile") {
                    return self.contents_of(c.arguments.args.first()?);
                }
                None
            }
            _ => None,
        }
    }

    fn push(&mut self, at: usize, runner: String, path: String) {
        if self.out.len() < 64 && !path.trim().is_empty() {
            self.out.push(RunFile {
                line: self.lines.line_of(at),
                runner,
                path,
            });
        }
    }
}

impl<'a> Visitor<'a> for Pass<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assign(ast::StmtAssign { targets, value, .. }) = stmt
            && let [Expr::Name(n)] = targets.as_slice()
            && let Some(path) = self.contents_of(value)
        {
            self.read_into.insert(n.id.to_string(), path);
        }
        if let Stmt::With(w) = stmt {
            // `with open(P) as f: exec(f.read())`
            for item in &w.items {
                if let Expr::Call(open) = &item.context_expr
                    && callee(&open.func, self.env).is_some_and(|q| OPENERS.contains(&q.as_str()))
                    && let Some(Expr::Name(f)) = item.optional_vars.as_deref()
                    && let Some(path) = open
                        .arguments
                        .args
                        .first()
                        .and_then(|p| spelled_path(p, self.env))
                {
                    self.read_into.insert(format!("{}.read", f.id), path);
                }
            }
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && let Some(q) = callee(&call.func, self.env)
            && let Some(arg) = call.arguments.args.first()
        {
            let path = if RUN_CODE.contains(&q.as_str()) {
                self.contents_of(arg).or_else(|| {
                    // `f.read()` of a `with open(P) as f`.
                    let Expr::Call(c) = arg else { return None };
                    let Expr::Attribute(a) = c.func.as_ref() else {
                        return None;
                    };
                    let Expr::Name(f) = a.value.as_ref() else {
                        return None;
                    };
                    READERS
                        .contains(&a.attr.as_str())
                        .then(|| self.read_into.get(&format!("{}.read", f.id)).cloned())
                        .flatten()
                })
            } else if RUN_PATH.contains(&q.as_str()) {
                spelled_path(arg, self.env)
            } else {
                None
            };
            if let Some(path) = path {
                self.push(usize::from(expr.start()), q, path);
            }
        }
        walk_expr(self, expr);
    }
}

/// The files a module runs as code.
pub(super) fn run_files(
    module: &ModModule,
    env: &Env,
    lines: &crate::lockfile::LineIndex,
) -> Vec<RunFile> {
    env.refill();
    let mut p = Pass {
        env,
        lines,
        read_into: HashMap::default(),
        out: Vec::new(),
    };
    p.visit_body(&module.body);
    p.out
}
