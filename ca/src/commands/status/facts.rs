//! What `status` reports: facts, each with a level.

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Error;

/// How bad a fact is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Nothing to do.
    Ok,
    /// Something to do soon.
    Warning,
    /// Something has lapsed or is wrong now.
    Critical,
}

impl Level {
    pub(super) fn name(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }
}

/// One thing `status` looked at.
#[derive(Debug, Serialize)]
pub struct Fact {
    /// What: `ca-certificate`, `ca-chain`, `certificates`, `crl`, `crl-gap`, `crl-file`, `undelivered`,
    /// `checkpoint`, `drill`, `integrity` (the audit's errors), `ca-folder` (a CA folder that cannot be read).
    pub check: &'static str,
    /// How bad.
    pub level: Level,
    /// One line about it.
    pub message: String,
    /// When it runs out, where that applies.
    #[serde(with = "time::serde::rfc3339::option")]
    pub until: Option<OffsetDateTime>,
}

/// A check that could not be made because the CA folder is damaged or tampered with: critical.
pub(super) fn broken(check: &'static str, e: Error) -> Fact {
    Fact {
        check,
        level: Level::Critical,
        message: e.to_string(),
        until: None,
    }
}
