//! The terminal side of the three certkit binaries: the life of `main`, error lines and exit codes, rendering
//! reports as text or JSON, and asking for passwords. Library modules never print or prompt; they return
//! values and warnings, and this layer shows them.

pub mod custody;
pub mod help;
pub mod output;
pub mod secrets;

use std::io::Write;
use std::process::ExitCode;

use crate::error::Result;
use crate::store::{CaStore, StoreLock};

pub use output::{Format, Report, RowStream, note, render, terminal_safe, waiting_for_lock, warn};

/// The whole life of a certkit binary: parse the command line (usage errors as one line, exit 2, or 3 for the
/// monitoring commands; nothing asked: the help, exit 0; an old spelling of a flag: a note), run, report.
pub fn main<T: clap::Parser>(
    program: &str,
    guide: &help::Guide,
    run: fn(T) -> Result<()>,
) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut command = guide.decorate(T::command());
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|matches| T::from_arg_matches(&matches));
    match parsed {
        Ok(cli) => {
            for line in help::deprecation_notes(&command, &args) {
                note(&line);
            }
            finish(program, run(cli))
        }
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        // Nothing was asked (a bare `certkit-ca`, or a command group without its subcommand): the help, on
        // stdout, and success.
        Err(err) if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            use std::io::IsTerminal;
            let help = err.render();
            let _ = if std::io::stdout().is_terminal() {
                write!(std::io::stdout(), "{}", help.ansi())
            } else {
                write!(std::io::stdout(), "{help}")
            };
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "{program}: error: {}; see {program} --help",
                one_line(&err.render().to_string())
            );
            ExitCode::from(usage_exit_code(program, std::env::args().skip(1)))
        }
    }
}

/// The commands monitoring systems run (Nagios and its kin read exit 2 as CRITICAL, 3 as UNKNOWN): their usage
/// errors exit 3, every other command's exit 2.
const MONITORING_COMMANDS: &[(&str, &[&str])] = &[
    ("certkit-ca", &["status"]),
    ("certkit-ca", &["crl", "publish"]),
];

/// The exit code of a usage error of `program` run with `args`.
fn usage_exit_code(program: &str, args: impl Iterator<Item = String>) -> u8 {
    let words: Vec<String> = args.filter(|a| !a.starts_with('-')).take(2).collect();
    let monitoring = MONITORING_COMMANDS.iter().any(|(p, path)| {
        *p == program && path.iter().zip(&words).all(|(w, a)| w == a) && words.len() >= path.len()
    });
    if monitoring { 3 } else { 2 }
}

/// Prints a failure as one line on stderr and turns it into the documented exit code. A closed pipe on
/// stdout (`certkit-ca list | head -1`) is not a failure: whoever read the output has what they wanted.
pub fn finish(program: &str, result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        // The status report said it all; the exit code is its level.
        Err(crate::Error::Attention(code)) => ExitCode::from(code),
        Err(err) => {
            let message = err.to_string();
            let _ = writeln!(
                std::io::stderr(),
                "{program}: error: {}",
                output::terminal_safe(&message)
            );
            ExitCode::from(err.exit_code())
        }
    }
}

/// Takes the CA's write lock (saying so if it has to wait), and says in one line what it repaired after an
/// interrupted run (and whether the index had to be rebuilt).
pub fn lock(store: &CaStore) -> Result<StoreLock> {
    let (lock, repairs) = store.lock(&mut waiting_for_lock)?;
    if !repairs.is_empty() {
        note(&format!(
            "repaired the CA in {} after an interrupted run: {}",
            store.dir().display(),
            repairs.summary()
        ));
    }
    index_note(store)?;
    Ok(lock)
}

/// Opens the CA in `dir` (with the PKCS#11 module the user named, if any) and its index, saying in one line
/// when the index had to be rebuilt from the inventory.
pub fn open_ca(dir: &std::path::Path, module: Option<std::path::PathBuf>) -> Result<CaStore> {
    let store = CaStore::open(dir)?.with_module(module);
    index_note(&store)?;
    Ok(store)
}

/// Says in one line when the index of `store` was rebuilt, and why (now, and whenever a later question finds
/// it disagreeing with the log).
fn index_note(store: &CaStore) -> Result<()> {
    crate::store::on_index_rebuilt(|dir, why| {
        note(&format!(
            "rebuilt the index of the CA in {} from its inventory ({why})",
            dir.display()
        ))
    });
    if let Some(why) = store.refresh_index()?.rebuilt {
        note(&format!(
            "built the index of the CA in {} from its inventory ({why})",
            store.dir().display()
        ));
    }
    Ok(())
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

/// One line of a long-running command's log (the OCSP responder's), to stderr: `PROGRAM: LINE`. Never a
/// secret: the responder holds none.
pub fn log_line(program: &str, line: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{program}: {line}");
}

#[cfg(test)]
mod tests {
    use super::usage_exit_code;

    fn code(program: &str, line: &str) -> u8 {
        usage_exit_code(program, line.split_whitespace().map(String::from))
    }

    #[test]
    fn usage_errors_of_monitoring_commands_are_unknown() {
        assert_eq!(code("certkit-ca", "status --within abc"), 3);
        assert_eq!(code("certkit-ca", "status --ca pki --bogus"), 3);
        assert_eq!(code("certkit-ca", "crl publish --from x --bogus"), 3);
        assert_eq!(code("certkit-ca", "crl --bogus"), 2);
        assert_eq!(code("certkit-ca", "list --profile status"), 2);
        assert_eq!(code("certkit-issue", "status"), 2);
    }
}
