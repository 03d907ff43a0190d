//! The `customs` binary: parse the command line, run, print, exit.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// jemalloc: threads that come and go (each scan's workers) share its
/// arenas, and freed memory goes back, so peak memory follows the work in
/// hand rather than the fragmentation of every thread's arena.
#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = customs::cli::Cli::parse();
    match customs::app::run(cli) {
        Ok(outcome) => {
            let mut err = std::io::stderr().lock();
            // Messages and errors pass the one redaction point (reports
            // already did, in `render`).
            for m in &outcome.messages {
                let _ = writeln!(err, "{}", customs::redact::scrub(m));
            }
            let mut out = std::io::stdout().lock();
            // A closed pipe (`customs audit | head`) is not an error.
            match out
                .write_all(outcome.stdout.as_bytes())
                .and_then(|()| out.flush())
            {
                Ok(()) => ExitCode::from(outcome.code),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    ExitCode::from(outcome.code)
                }
                Err(e) => {
                    let _ = writeln!(err, "error: cannot write to stdout: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", customs::redact::scrub(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}
