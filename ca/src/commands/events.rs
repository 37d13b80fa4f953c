//! `certkit-ca list --events`: the custody trail of the CA key (backups made, drills passed or failed,
//! restores), as the inventory records it.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::dates::rfc3339;
use crate::error::Result;
use crate::store::records::{CustodyAction, CustodyRecord};
use crate::term::{self, Format, Report};

/// One custody step.
#[derive(Debug, Serialize)]
pub struct EventRow {
    /// Its line in the inventory.
    pub line: usize,
    /// `backup`, `drill` or `restore`.
    pub event: CustodyAction,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// How the secret was split, e.g. "3 of 5".
    pub shares: String,
    /// The split's identifier.
    pub split: u16,
    /// SHA-256 of the backup file.
    pub backup_sha256: String,
    /// For a drill: `passed`, or `failed: why`; empty otherwise.
    pub result: String,
}

impl EventRow {
    fn of(line: usize, record: CustodyRecord) -> Self {
        let result = match (record.action, record.failure) {
            (CustodyAction::Drill, None) => "passed".into(),
            (CustodyAction::Drill, Some(why)) => format!("failed: {why}"),
            _ => String::new(),
        };
        EventRow {
            line,
            event: record.action,
            time: record.time,
            shares: record.shares,
            split: record.split,
            backup_sha256: record.backup_sha256,
            result,
        }
    }
}

/// The trail, oldest first.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct EventsReport(Vec<EventRow>);

/// Prints the custody trail of the CA in `dir`.
pub fn run(dir: &Path, format: Format) -> Result<()> {
    let ca = term::open_ca(dir, None)?;
    let rows = ca
        .custody_events()?
        .into_iter()
        .map(|(line, record)| EventRow::of(line, record))
        .collect();
    term::render(&EventsReport(rows), format)
}

impl Report for EventsReport {
    fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.0.is_empty() {
            return writeln!(
                out,
                "No custody steps recorded: back up the CA key with certkit-ca backup"
            );
        }
        writeln!(
            out,
            "{:<6} {:<8} {:<21} {:<7} {:<6} RESULT",
            "LINE", "EVENT", "TIME", "SHARES", "SPLIT"
        )?;
        for row in &self.0 {
            writeln!(
                out,
                "{:<6} {:<8} {:<21} {:<7} {:<6} {}",
                row.line,
                row.event.to_string(),
                rfc3339(row.time),
                row.shares,
                row.split,
                row.result
            )?;
        }
        Ok(())
    }
}
