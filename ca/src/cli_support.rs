//! Pieces every certkit binary's command line shares: validity flags, error reporting and exit codes.

use std::process::ExitCode;

use crate::dates::{Lifetime, parse_date};
use crate::error::Error;

/// `--days N | --expires YYYY-MM-DD`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct LifetimeArgs {
    /// Valid for this many days from now.
    #[arg(long, value_name = "N", conflicts_with = "expires")]
    pub days: Option<u32>,
    /// Valid until the end of this day, UTC (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub expires: Option<time::Date>,
}

impl LifetimeArgs {
    /// The lifetime asked for, or `Days(default_days)`.
    pub fn lifetime(&self, default_days: u32) -> Lifetime {
        match (self.days, self.expires) {
            (_, Some(date)) => Lifetime::Until(date),
            (Some(days), None) => Lifetime::Days(days),
            (None, None) => Lifetime::Days(default_days),
        }
    }
}

/// Prints a failure as one line on stderr and turns it into the documented exit code.
pub fn finish(program: &str, result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program}: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Paths as display strings, for JSON `files` arrays.
pub fn path_strings(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

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
            eprintln!(
                "{program}: error: {}; see {program} --help",
                one_line(&err.render().to_string())
            );
            ExitCode::from(2)
        }
    }
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
