//! What an audit reports: findings with a level, a stable code, the inventory line and a message.

use serde::Serialize;

/// How bad a finding is: errors fail the audit, warnings and notes do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The record cannot be trusted as it is.
    Error,
    /// Something to act on that does not show tampering (a crash leftover, a stale CRL).
    Warning,
    /// Worth knowing.
    Note,
}

/// One thing the audit found.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// How bad.
    pub level: Level,
    /// A stable name for scripts (never renamed).
    pub code: &'static str,
    /// The inventory line it concerns, if any.
    pub line: Option<usize>,
    /// What, in words.
    pub message: String,
}

/// The findings gathered so far, in the order checked.
#[derive(Clone, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    /// Adds a finding.
    pub fn add(&mut self, level: Level, code: &'static str, line: Option<usize>, message: String) {
        self.0.push(Finding {
            level,
            code,
            line,
            message,
        });
    }
}
