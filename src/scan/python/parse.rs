//! The parse pass: caps before parsing (the parser and the tree walks are
//! recursive), then ruff's error-tolerant parser on a thread with a large
//! stack, where the caller's passes run and the tree is dropped.

use ruff_python_ast::ModModule;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

/// Largest file parsed (larger ones keep the lexical analysis only).
const MAX_SOURCE: usize = 8 * 1024 * 1024;
/// Deepest bracket nesting parsed.
const MAX_DEPTH: usize = 100;
/// Most nesting tokens (operators, dots, calls on calls) in one logical line.
const MAX_CHAIN: usize = 20_000;
/// The stack of the parsing thread (reserved, not committed).
const STACK: usize = 256 * 1024 * 1024;

/// Files up to this size are parsed before the caps are checked, on the
/// parser's tokens: a nesting level takes at least one byte, and the parser
/// was measured to survive 64,000 levels of every nesting construct in an
/// 8 MiB stack (about 2 million in [`STACK`]), so a file this size cannot
/// overflow it (a margin of four; the tests parse the worst cases at this
/// size). Larger files are lexed once first.
const PARSE_FIRST: usize = 512 * 1024;

/// Why a file is not parsed, if a cap says so, lexing it first.
fn precheck(text: &str) -> Option<&'static str> {
    if text.len() > MAX_SOURCE {
        return Some("larger than the parse cap");
    }
    let mut lexer = ruff_python_parser::lexer::lex(text, Mode::Module);
    caps(std::iter::from_fn(|| {
        let kind = lexer.next_token();
        (kind != ruff_python_ast::token::TokenKind::EndOfFile).then_some(kind)
    }))
}

/// Why a file is not parsed, if a cap says so. The tokens decide (a string
/// is one token, whatever brackets or operators it holds): bracket nesting,
/// and per logical line the tokens that nest the tree one level more each
/// (`a.b.c`, `1+1+1`, `f()()`, `not not x`, `lambda: lambda: ...`), since
/// the passes and dropping the tree recurse on them.
fn caps(tokens: impl Iterator<Item = ruff_python_ast::token::TokenKind>) -> Option<&'static str> {
    use ruff_python_ast::token::TokenKind as T;
    let (mut depth, mut chain) = (0usize, 0usize);
    let mut previous = T::Newline;
    for kind in tokens {
        match kind {
            T::Newline => chain = 0,
            T::Lpar | T::Lsqb | T::Lbrace => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some("brackets nested deeper than the parse cap");
                }
                if matches!(previous, T::Rpar | T::Rsqb) {
                    chain += 1;
                }
            }
            T::Rpar | T::Rsqb | T::Rbrace => depth = depth.saturating_sub(1),
            T::Dot
            | T::Plus
            | T::Minus
            | T::Star
            | T::Slash
            | T::Vbar
            | T::Amper
            | T::Less
            | T::Greater
            | T::Percent
            | T::EqEqual
            | T::NotEqual
            | T::LessEqual
            | T::GreaterEqual
            | T::Tilde
            | T::CircumFlex
            | T::LeftShift
            | T::RightShift
            | T::DoubleStar
            | T::DoubleSlash
            | T::At
            | T::Not
            | T::Lambda
            | T::If
            | T::Await
            | T::Yield
            | T::FStringStart
            | T::TStringStart => chain += 1,
            _ => {}
        }
        if chain > MAX_CHAIN {
            return Some("a chain of operators longer than the parse cap");
        }
        previous = kind;
    }
    None
}

thread_local! {
    /// Whether this thread was started by [`on_big_stack`].
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` on a thread with the parser's large stack, where every parse
/// runs in place (one thread for many files, not one per file). When no
/// thread can be started, `f` runs here and each parse starts its own.
pub fn on_big_stack<R: Send>(f: impl Fn() -> R + Send + Sync) -> R {
    if BIG_STACK.with(std::cell::Cell::get) {
        return f();
    }
    let spawned = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, || {
                BIG_STACK.with(|b| b.set(true));
                f()
            })
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    spawned.unwrap_or_else(|_| f())
}

/// Parses `text` and runs `f` on the tree (and whether the parser reported
/// errors), on a thread with a large stack; `Err` says which cap stopped it.
pub fn with_module<R: Send>(
    text: &str,
    f: impl FnOnce(&ModModule, bool) -> R + Send,
) -> Result<R, &'static str> {
    if text.len() > PARSE_FIRST
        && let Some(why) = precheck(text)
    {
        return Err(why);
    }
    let parse = || {
        let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
        if let Some(why) = caps(
            parsed
                .tokens()
                .iter()
                .map(ruff_python_ast::token::Token::kind),
        ) {
            return Err(why);
        }
        let partial = !parsed.errors().is_empty();
        match parsed.try_into_module() {
            Some(m) => Ok(f(m.syntax(), partial)),
            None => Err("not a module"),
        }
    };
    if BIG_STACK.with(std::cell::Cell::get) {
        return parse();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, parse);
        match handle {
            Ok(h) => h.join().unwrap_or(Err("the parser failed")),
            Err(_) => Err("no thread for the parser"),
        }
    })
}

/// Byte ranges of string statements (docstrings, bare strings): text no
/// code can reach. Python 2's `exec "..."` (the name `exec` followed by a
/// string on its line) is code and is kept.
fn docstrings(body: &[ruff_python_ast::Stmt]) -> Vec<(usize, usize)> {
    use ruff_python_ast::visitor::{Visitor, walk_body};
    use ruff_python_ast::{Expr, Stmt};
    use ruff_text_size::Ranged;
    struct Docs(Vec<(usize, usize)>);
    impl<'a> Visitor<'a> for Docs {
        fn visit_body(&mut self, body: &'a [Stmt]) {
            let mut after_exec = false;
            for stmt in body {
                if let Stmt::Expr(e) = stmt {
                    if matches!(e.value.as_ref(), Expr::StringLiteral(_)) && !after_exec {
                        self.0.push((usize::from(e.start()), usize::from(e.end())));
                    }
                    after_exec =
                        matches!(e.value.as_ref(), Expr::Name(n) if n.id.as_str() == "exec");
                } else {
                    after_exec = false;
                }
            }
            walk_body(self, body);
        }
    }
    let mut d = Docs(Vec::new());
    d.visit_body(body);
    d.0
}

/// `text` with its comments and docstrings replaced by spaces (offsets and
/// lines kept), or `None` when a cap refuses it.
pub fn without_comments(text: &str) -> Option<String> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;
    if text.len() > PARSE_FIRST && precheck(text).is_some() {
        return None;
    }
    let scan = || {
        let parsed = parse_unchecked(text, ParseOptions::from(Mode::Module));
        caps(
            parsed
                .tokens()
                .iter()
                .map(ruff_python_ast::token::Token::kind),
        )
        .is_none()
        .then(|| {
            let mut ranges: Vec<(usize, usize)> = parsed
                .tokens()
                .iter()
                .filter(|t| t.kind() == TokenKind::Comment)
                .map(|t| (usize::from(t.start()), usize::from(t.end())))
                .collect();
            if let Some(m) = parsed.syntax().as_module() {
                ranges.extend(docstrings(&m.body));
            }
            ranges
        })
    };
    let ranges = if BIG_STACK.with(std::cell::Cell::get) {
        scan()
    } else {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(STACK)
                .spawn_scoped(scope, scan)
                .ok()?
                .join()
                .ok()
                .flatten()
        })
    }?;
    let mut bytes = text.as_bytes().to_vec();
    for (a, b) in ranges {
        for x in bytes.get_mut(a..b)? {
            if *x != b'\n' && *x != b'\r' {
                *x = b' ';
            }
        }
    }
    // Only ASCII bytes of whole comments were replaced: still UTF-8 unless a
    // comment held multi-byte characters, whose bytes all became spaces.
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deepest files parsed before the caps are checked parse, and are
    /// then refused by the caps, without overflowing the parser's stack.
    #[test]
    fn the_deepest_files_parsed_first_are_refused_after_parsing() {
        let n = PARSE_FIRST - 16;
        for text in [
            format!("x = {}1\n", "-".repeat(n)),
            format!("x = {}1\n", "(".repeat(n)),
            format!("x = {}1\n", "[".repeat(n)),
            format!("x = a{}\n", ".b".repeat(n / 2)),
            format!("x = {}1\n", "not ".repeat(n / 4)),
            format!("x = {}1\n", "lambda:".repeat(n / 7)),
        ] {
            assert!(text.len() <= PARSE_FIRST);
            let parsed = with_module(&text, |m, _| m.body.len());
            assert!(parsed.is_err(), "{}...: {parsed:?}", &text[..12]);
        }
    }

    #[test]
    fn caps_refuse_before_the_parser_can_overflow() {
        assert_eq!(
            precheck(&"(".repeat(5_000)),
            Some("brackets nested deeper than the parse cap")
        );
        let chain = format!("x = {}1\n", "1+".repeat(100_000));
        assert_eq!(
            precheck(&format!("x = a{}\n", ".b".repeat(100_000))),
            Some("a chain of operators longer than the parse cap")
        );
        // A string is one token, whatever it holds.
        assert_eq!(
            precheck(&format!("x = '{}'\n", "a+b/(".repeat(100_000))),
            None
        );
        assert_eq!(
            precheck(&chain),
            Some("a chain of operators longer than the parse cap")
        );
        assert_eq!(precheck("print('hi')\n"), None);
        // Python 2 parses, with errors, and the tree is still walked.
        let r = with_module("print 'x'\nexec 'import os'\n", |m, partial| {
            (m.body.len(), partial)
        });
        assert_eq!(r, Ok((4, true)));
        assert_eq!(
            without_comments("x = 1  # requests.post(.netrc)\ns = '# not a comment'\n").as_deref(),
            Some("x = 1                         \ns = '# not a comment'\n")
        );
        assert_eq!(
            without_comments("def f():\n    '''>>> os.getcwd()'''\n    return 1\n").as_deref(),
            Some("def f():\n                         \n    return 1\n")
        );
        // Python 2's exec statement keeps its code.
        assert_eq!(
            without_comments("exec 'import os'\n").as_deref(),
            Some("exec 'import os'\n")
        );
    }
}
