//! The terminal side of the three certkit binaries: the life of `main`, error lines and exit codes, rendering
//! reports as text or JSON, and asking for passwords. Library modules never print or prompt; they return
//! values and warnings, and this layer shows them.

pub mod output;
pub mod secrets;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::error::Error;

pub use output::{Format, Report, render};

/// The whole life of a certkit binary: parse the command line (usage errors as one line, exit 2), run, report.
pub fn main<T: clap::Parser>(program: &str, run: fn(T) -> Result<(), Error>) -> ExitCode {
    use clap::error::ErrorKind;
    match T::try_parse() {
        Ok(cli) => finish(program, run(cli)),
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "{program}: error: {}; see {program} --help",
                one_line(&err.render().to_string())
            );
            ExitCode::from(2)
        }
    }
}

/// Prints a failure as one line on stderr and turns it into the documented exit code.
pub fn finish(program: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "{program}: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Shows a warning on stderr (never on stdout, which scripts parse).
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "warning: {message}");
}

/// Shows a note on stderr: something the user may want to know that is not a problem.
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "note: {message}");
}

/// Says on stderr that another certkit process holds the CA folder's lock and this one waits for it.
pub fn waiting_for_lock(dir: &Path) {
    let _ = writeln!(
        std::io::stderr(),
        "waiting for another certkit process that is using the CA in {}...",
        dir.display()
    );
}

/// clap's message up to its usage block, folded into one line.
fn one_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let joined = message.join(" ");
    joined
        .strip_prefix("error: ")
        .unwrap_or(&joined)
        .trim_end_matches('.')
        .to_string()
}
