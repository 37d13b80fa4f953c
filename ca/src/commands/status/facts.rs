//! What `status` reports: facts, each with a level.

use serde::Serialize;
use time::OffsetDateTime;

use crate::dates::rfc3339;
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
    /// `checkpoint`, `drill`, `integrity` (the audit's errors), `ca-folder` (a CA folder that cannot be read),
    /// `ocsp` (how far the OCSP responses signed ahead reach), `ocsp-gap` (revocations and certificates they
    /// do not hold yet).
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

/// Days from `now` to `then`, rounded down (negative once past).
pub(super) fn days_until(now: OffsetDateTime, then: OffsetDateTime) -> i64 {
    (then - now).whole_days()
}

/// A fact about something that runs out at `until`: critical once past, a warning within `warn_days`.
pub(super) fn lapsing(
    check: &'static str,
    what: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
    warn_days: i64,
) -> Fact {
    let days = days_until(now, until);
    let (level, message) = if until <= now {
        (
            Level::Critical,
            format!("{what} ran out on {} ({} days ago)", rfc3339(until), -days),
        )
    } else if days < warn_days {
        (
            Level::Warning,
            format!("{what} runs out on {} (in {days} days)", rfc3339(until)),
        )
    } else {
        (
            Level::Ok,
            format!("{what} runs until {} ({days} days)", rfc3339(until)),
        )
    };
    Fact {
        check,
        level,
        message,
        until: Some(until),
    }
}
