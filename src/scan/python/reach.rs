//! Where code runs: a file's top level runs when it is imported (or, for
//! setup.py, installed); a function runs only when something calls it. This
//! pass builds the file's call graph by name and marks the functions its top
//! level reaches (called, instantiated, handed over as a callback, or
//! registered with `atexit`), and in setup.py the methods of command classes
//! (`class X(install)`), which the installer calls. Code in a function that
//! nothing reaches runs only when a user asks for it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ModModule, Stmt};
use ruff_text_size::Ranged;

/// Base classes of setuptools and distutils commands run by an install.
const COMMAND_BASES: &[&str] = &[
    "install",
    "_install",
    "develop",
    "egg_info",
    "build_py",
    "build_ext",
    "build",
    "install_lib",
    "install_scripts",
    "install_data",
    "easy_install",
    "bdist_egg",
    "bdist_wheel",
    "sdist",
    "Command",
];

/// Methods a class runs without being called by name once it is used.
const IMPLICIT: &[&str] = &[
    "__init__",
    "__new__",
    "__call__",
    "__enter__",
    "__exit__",
    "__del__",
    "run",
];

#[derive(Debug)]
struct Def {
    name: String,
    class: Option<usize>,
    start: usize,
    end: usize,
    /// Names this function calls or hands over.
    calls: Vec<String>,
    positional: Vec<String>,
    keyword_only: Vec<String>,
}

/// A function of the file, for the passes that bind arguments to
/// parameters: in definition order (its index is its scope's id).
#[derive(Debug, Clone)]
pub(super) struct Function {
    pub name: String,
    /// Offset of the definition.
    pub start: usize,
    /// Defined in a class body.
    pub method: bool,
    /// Parameters a positional argument binds to, in order.
    pub positional: Vec<String>,
    /// Parameters only a keyword binds to.
    pub keyword_only: Vec<String>,
}

#[derive(Debug)]
struct Class {
    name: String,
    command: bool,
}

/// A function's lines, name, and whether the top level (or an install
/// command) reaches it.
#[derive(Debug, Clone)]
struct Span {
    start: u32,
    end: u32,
    name: String,
    reached: bool,
    command: bool,
}

/// What runs without being asked, per function, by line.
#[derive(Debug, Default, Clone)]
pub struct Reach {
    funcs: Vec<Span>,
    /// `if __name__ == '__main__':` blocks (lines).
    main_blocks: Vec<(u32, u32)>,
    /// Whether the file runs as a script (setup.py): its `__main__` block runs.
    script: bool,
    /// Each function's name and the names it calls.
    graph: Vec<(String, Vec<String>)>,
    functions: Vec<Function>,
}

impl Reach {
    /// Whether code at `line` runs without anyone calling it: at top
    /// level, or in a function the top level reaches.
    pub fn unasked(&self, line: u32) -> bool {
        match self.innermost(line) {
            Some(f) => f.reached,
            None => {
                self.script
                    || !self
                        .main_blocks
                        .iter()
                        .any(|(s, e)| (*s..=*e).contains(&line))
            }
        }
    }

    /// Whether code at `line` is in what an install command runs.
    pub fn in_command(&self, line: u32) -> bool {
        self.innermost(line).is_some_and(|f| f.command)
    }

    /// The file's functions, in definition order.
    pub(super) fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// The function whose body holds `line`, if any.
    pub fn function_at(&self, line: u32) -> Option<&str> {
        self.innermost(line).map(|f| f.name.as_str())
    }

    /// The function holding `line` and every function of the file that
    /// calls it, directly or not: if anything outside the file calls one of
    /// them on import, the line runs unasked.
    pub fn callers(&self, line: u32) -> Vec<String> {
        let Some(f) = self.innermost(line) else {
            return Vec::new();
        };
        let mut out = vec![f.name.clone()];
        let mut i = 0;
        while i < out.len() && out.len() < 64 {
            let name = out[i].clone();
            for (caller, calls) in &self.graph {
                if calls.contains(&name) && !out.contains(caller) {
                    out.push(caller.clone());
                }
            }
            i += 1;
        }
        out
    }

    fn innermost(&self, line: u32) -> Option<&Span> {
        self.funcs
            .iter()
            .filter(|f| (f.start..=f.end).contains(&line))
            .max_by_key(|f| f.start)
    }
}

/// The simple name a call or a reference is known by (`f`, `obj.f` -> `f`).
fn simple(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.as_str()),
        _ => None,
    }
}

fn is_main_test(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let names = std::iter::once(c.left.as_ref()).chain(c.comparators.iter());
    let mut name = false;
    let mut main = false;
    for e in names {
        match e {
            Expr::Name(n) if n.id.as_str() == "__name__" => name = true,
            Expr::StringLiteral(s) if s.value.to_str() == "__main__" => main = true,
            _ => {}
        }
    }
    name && main
}

#[derive(Default)]
struct Collect {
    defs: Vec<Def>,
    classes: Vec<Class>,
    /// Innermost function being visited.
    func: Vec<usize>,
    class: Vec<usize>,
    /// Names the top level calls or hands over.
    top: Vec<String>,
    main_blocks: Vec<(usize, usize)>,
    in_main: usize,
    script: bool,
}

impl Collect {
    fn called(&mut self, name: &str) {
        match self.func.last() {
            Some(&f) => self.defs[f].calls.push(name.to_string()),
            None if self.in_main == 0 || self.script => self.top.push(name.to_string()),
            None => {}
        }
    }
}

impl<'a> Visitor<'a> for Collect {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_expr(&d.expression);
                    // `@atexit.register` runs it at exit, unasked.
                    if simple(&d.expression) == Some("register") {
                        self.called(f.name.as_str());
                    }
                }
                let idx = self.defs.len();
                let p = &f.parameters;
                let names = |ps: &[ruff_python_ast::ParameterWithDefault]| -> Vec<String> {
                    ps.iter().map(|a| a.parameter.name.to_string()).collect()
                };
                let mut positional = names(&p.posonlyargs);
                positional.extend(names(&p.args));
                self.defs.push(Def {
                    name: f.name.to_string(),
                    class: self.class.last().copied(),
                    start: usize::from(f.start()),
                    end: usize::from(f.end()),
                    calls: Vec::new(),
                    positional,
                    keyword_only: names(&p.kwonlyargs),
                });
                self.func.push(idx);
                // The class a method is in is not the class of what it defines.
                let classes = std::mem::take(&mut self.class);
                for s in &f.body {
                    self.visit_stmt(s);
                }
                self.class = classes;
                self.func.pop();
            }
            Stmt::ClassDef(c) => {
                let bases: Vec<&str> = c
                    .arguments
                    .iter()
                    .flat_map(|a| a.args.iter())
                    .filter_map(simple)
                    .collect();
                if let Some(args) = &c.arguments {
                    for a in &args.args {
                        self.visit_expr(a);
                    }
                }
                let idx = self.classes.len();
                self.classes.push(Class {
                    name: c.name.to_string(),
                    command: bases.iter().any(|b| COMMAND_BASES.contains(b)),
                });
                self.class.push(idx);
                for s in &c.body {
                    self.visit_stmt(s);
                }
                self.class.pop();
            }
            Stmt::If(i) if self.func.is_empty() && is_main_test(&i.test) => {
                self.main_blocks
                    .push((usize::from(i.start()), usize::from(i.end())));
                self.in_main += 1;
                walk_stmt(self, stmt);
                self.in_main -= 1;
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            if let Some(n) = simple(&c.func) {
                self.called(n);
            }
            // Callbacks: `Thread(target=f)`, `atexit.register(f)`, `map(f, xs)`.
            for a in c
                .arguments
                .args
                .iter()
                .chain(c.arguments.keywords.iter().map(|k| &k.value))
            {
                if let Some(n) = simple(a) {
                    self.called(n);
                }
            }
        }
        walk_expr(self, expr);
    }
}

/// Marks what runs unasked. `script`: the file is run as a program (setup.py).
pub(super) fn reach(module: &ModModule, script: bool, lines: &crate::lockfile::LineIndex) -> Reach {
    let mut c = Collect {
        script,
        ..Collect::default()
    };
    c.visit_body(&module.body);
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::default();
    for (i, d) in c.defs.iter().enumerate() {
        by_name.entry(d.name.as_str()).or_default().push(i);
    }
    let closure = |roots: Vec<usize>, names: Vec<String>| -> HashSet<usize> {
        let mut reached: HashSet<usize> = HashSet::default();
        let mut classes_used: HashSet<usize> = HashSet::default();
        let mut work = names;
        for i in roots {
            if reached.insert(i) {
                work.extend(c.defs[i].calls.iter().cloned());
            }
        }
        while let Some(name) = work.pop() {
            for (k, cl) in c.classes.iter().enumerate() {
                if cl.name == name && classes_used.insert(k) {
                    for (i, d) in c.defs.iter().enumerate() {
                        if d.class == Some(k)
                            && IMPLICIT.contains(&d.name.as_str())
                            && reached.insert(i)
                        {
                            work.extend(d.calls.iter().cloned());
                        }
                    }
                }
            }
            for &i in by_name.get(name.as_str()).into_iter().flatten() {
                if reached.insert(i) {
                    work.extend(c.defs[i].calls.iter().cloned());
                }
            }
        }
        reached
    };
    // Every method of a command class is the installer's to call.
    let commands: Vec<usize> = if script {
        (0..c.defs.len())
            .filter(|&i| c.defs[i].class.is_some_and(|k| c.classes[k].command))
            .collect()
    } else {
        Vec::new()
    };
    let from_top = closure(Vec::new(), c.top.clone());
    let from_command = closure(commands, Vec::new());
    Reach {
        funcs: c
            .defs
            .iter()
            .enumerate()
            .map(|(i, d)| Span {
                start: lines.line_of(d.start),
                end: lines.line_of(d.end.saturating_sub(1)),
                name: d.name.clone(),
                reached: from_top.contains(&i) || from_command.contains(&i),
                command: from_command.contains(&i),
            })
            .collect(),
        main_blocks: c
            .main_blocks
            .iter()
            .map(|(s, e)| (lines.line_of(*s), lines.line_of(e.saturating_sub(1))))
            .collect(),
        script,
        functions: c
            .defs
            .iter()
            .map(|d| Function {
                name: d.name.clone(),
                start: d.start,
                method: d.class.is_some(),
                positional: d.positional.clone(),
                keyword_only: d.keyword_only.clone(),
            })
            .collect(),
        graph: c.defs.into_iter().map(|d| (d.name, d.calls)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unasked(src: &str, script: bool, marker: &str) -> bool {
        let lines = crate::lockfile::LineIndex::new(src);
        let at = lines.line_of(src.find(marker).expect("marker"));
        super::super::parse::with_module(src, |m, _| reach(m, script, &lines).unasked(at))
            .expect("parses")
    }

    #[test]
    fn top_level_and_what_it_calls_run_unasked() {
        let src = "import os\ndef steal():\n    A()\ndef helper():\n    B()\nsteal()\n";
        assert!(unasked(src, false, "A()"));
        assert!(!unasked(src, false, "B()"));
        assert!(unasked(src, false, "import os"));
    }

    #[test]
    fn callbacks_classes_and_commands_are_reached() {
        let src = "import threading\nclass K:\n    def __init__(self):\n        A()\n    def other(self):\n        B()\nK()\ndef f():\n    C()\nthreading.Thread(target=f).start()\n";
        assert!(unasked(src, false, "A()"));
        assert!(!unasked(src, false, "B()"));
        assert!(unasked(src, false, "C()"));
        let setup = "from setuptools.command.install import install\nclass Post(install):\n    def run(self):\n        go()\ndef go():\n    D()\ndef unused():\n    E()\n";
        assert!(unasked(setup, true, "D()"));
        assert!(!unasked(setup, true, "E()"));
        assert!(!unasked(setup, false, "D()"));
    }

    #[test]
    fn a_main_block_runs_only_as_a_script() {
        let src = "def f():\n    A()\nif __name__ == '__main__':\n    f()\n";
        assert!(!unasked(src, false, "A()"));
        assert!(unasked(src, true, "A()"));
    }
}
