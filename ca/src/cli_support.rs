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
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Paths as display strings, for JSON `files` arrays.
pub fn path_strings(paths: &[std::path::PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}
